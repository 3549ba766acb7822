from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils import timezone


def describe_session(session):
    """The session's items as JSON: datetimes as ISO text with their zone's class."""
    out = {}
    for key, value in session.items():
        if hasattr(value, "isoformat"):
            out[key] = {
                "iso": value.isoformat(),
                "tz": type(getattr(value, "tzinfo", None)).__name__,
            }
        else:
            out[key] = value
    return out


def whoami(request):
    """Who Django says is logged in, and what the session holds."""
    return JsonResponse(
        {
            "authenticated": request.user.is_authenticated,
            "username": request.user.get_username(),
            "session": describe_session(request.session),
            "expiry_age": request.session.get_expiry_age(),
        }
    )


def visit(request):
    """Counts visits in the session, with the time of the last one (timezone.now())."""
    request.session["visits"] = request.session.get("visits", 0) + 1
    request.session["last_seen"] = timezone.now()
    return JsonResponse({"visits": request.session["visits"]})


def fragment(request):
    """A page with a {% cache %} fragment keyed on the user."""
    return HttpResponse(render_to_string("interop_site/fragment.html", {"user": request.user}))
