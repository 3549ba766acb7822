"""Runs the interop Django project (django_project/interop_site) for cachex's tests.

Usage::

    CACHEX_REDIS_URL=redis://... CACHEX_PREFIX=p CACHEX_DJANGO_DIR=/tmp/x \\
        python3 django_app.py

One long-lived process: it sets Django up, runs the migrations into a sqlite database in
CACHEX_DJANGO_DIR, prints {"ready": true, ...} and then answers one JSON request per line on
stdin ({"id": 1, "op": "...", "args": {...}}) with one JSON line on stdout ({"id": 1, "ok":
...} or {"id": 1, "error": "Type: message"}). Requests through Django's test Client go through
the real middleware, session engine (the cache backend) and views.
"""

import datetime
import json
import os
import sys
import threading
import time

EXIT_MISSING = 3
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
PROJECT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "django_project")

try:
    import django
    import pytz  # noqa: F401 (Django 3.2's time zones)
except ImportError as error:
    sys.stderr.write(f"missing Python module: {error.name}\n")
    sys.exit(EXIT_MISSING)


def describe(value):
    """A cached Python value as JSON that keeps what the tests check: types and instants."""
    from django.utils.safestring import SafeData

    if isinstance(value, SafeData):
        return {"t": type(value).__name__, "v": str(value)}
    if isinstance(value, datetime.datetime):
        tz = value.tzinfo
        ms = None
        if tz is not None:
            ms = (value - EPOCH) // datetime.timedelta(milliseconds=1)
        return {
            "t": "datetime",
            "iso": value.isoformat(),
            "ms": ms,
            "fold": value.fold,
            "tzmodule": type(tz).__module__ if tz is not None else None,
            "zone": str(tz) if tz is not None else None,
        }
    if isinstance(value, dict):
        return {"t": "dict", "v": {str(k): describe(v) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"t": type(value).__name__, "v": [describe(v) for v in value]}
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"t": type(value).__name__, "v": value}
    return {"t": type(value).__name__, "v": repr(value)}


class Ops:
    """The operations the tests run, one method each."""

    def __init__(self):
        from django.core.cache import cache
        from django_redis import get_redis_connection

        self.cache = cache
        self.redis = get_redis_connection("default")
        self.held = {}

    def client(self, session_key=None):
        from django.conf import settings
        from django.test import Client

        client = Client()
        if session_key is not None:
            client.cookies[settings.SESSION_COOKIE_NAME] = session_key
        return client

    def create_user(self, username, password, email=""):
        from django.contrib.auth.models import User

        user = User.objects.create_user(username, email, password)
        return {"id": user.pk, "password": user.password}

    def login(self, username, password, expiry_days=None):
        """Logs in through the test Client (the auth login flow, sessions in the cache), then
        adds what apps add: set_expiry(timedelta) and a local time (Django 3.2: pytz)."""
        from django.utils import timezone

        client = self.client()
        if not client.login(username=username, password=password):
            raise ValueError("login refused")
        session = client.session
        if expiry_days is not None:
            session.set_expiry(datetime.timedelta(days=expiry_days))
        session["seen_local"] = timezone.localtime()
        session["tz"] = "Europe/Paris"
        session.save()
        return {
            "session_key": session.session_key,
            "cache_key": session.cache_key,
            "session": describe(dict(session.items())),
        }

    def request(self, path, session_key=None):
        response = self.client(session_key).get(path)
        body = response.content.decode()
        is_json = response.get("Content-Type", "").startswith("application/json")
        return {
            "status": response.status_code,
            "body": json.loads(body) if is_json else body,
        }

    def cache_get(self, key):
        missing = object()
        value = self.cache.get(key, missing)
        return {"t": "missing"} if value is missing else describe(value)

    def cache_set(self, key, kind):
        """Caches one of the values Django apps cache, and describes it."""
        from django.utils import timezone
        from django.utils.html import format_html
        from zoneinfo import ZoneInfo

        if kind == "format_html":
            value = format_html('<a href="{}">{}</a>', "/users/1?tab=a&b", "<Alice & Bob>")
        elif kind == "zones":
            paris = pytz.timezone("Europe/Paris")
            value = [
                timezone.now(),  # Django 3.2: pytz.utc
                timezone.localtime(),  # a pytz state of TIME_ZONE
                paris.localize(datetime.datetime(2024, 10, 27, 2, 30), is_dst=True),
                paris.localize(datetime.datetime(2024, 10, 27, 2, 30), is_dst=False),
                datetime.datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=ZoneInfo("Europe/Paris")),
                datetime.datetime(2024, 3, 31, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
                datetime.datetime(2024, 7, 4, 9, 0, 0, 123456, tzinfo=ZoneInfo("America/New_York")),
                # Django 4+'s timezone.now() carries datetime.timezone.utc.
                datetime.datetime.now(tz=datetime.timezone.utc),
            ]
        elif kind == "orm":
            from interop_site.models import Event

            Event.objects.create(name="now", at=timezone.now())
            Event.objects.create(
                name="paris",
                at=datetime.datetime(2024, 3, 31, 3, 30, tzinfo=ZoneInfo("Europe/Paris")),
            )
            value = list(Event.objects.order_by("id").values("id", "name", "at"))
        else:
            raise ValueError(f"unknown kind {kind!r}")
        self.cache.set(key, value, timeout=300)
        return describe(value)

    def cache_same(self, key, kind_key):
        """Whether the values at two keys are equal, element by element, with the same zone
        types and names (a Node round trip must give Django back what it wrote)."""
        a, b = self.cache.get(key), self.cache.get(kind_key)
        return a == b and [describe(x) for x in a] == [describe(x) for x in b]

    def render(self, template, keys):
        """Renders a template string with cached values as its context."""
        from django.template import Context, Template

        context = {key: self.cache.get(key) for key in keys}
        return Template(template).render(Context(context))

    def raw_get(self, key):
        data = self.redis.get(self.cache.make_key(key))
        return None if data is None else data.hex()

    def session_auth_hash(self, username):
        from django.contrib.auth.models import User

        return User.objects.get(username=username).get_session_auth_hash()

    # Locks: django-redis's cache.lock is redis-py's Lock on the same key as cachex's.

    def lock_workers(self, name, log, workers, rounds, hold_ms):
        """`workers` threads each take the lock `rounds` times, logging start and end."""
        errors = []

        def work(n):
            try:
                for i in range(rounds):
                    with self.cache.lock(name, timeout=10, sleep=0.005, blocking_timeout=30):
                        self.redis.rpush(log, f"py{n}.{i}:start")
                        time.sleep(hold_ms / 1000)
                        self.redis.rpush(log, f"py{n}.{i}:end")
            except Exception as error:  # reported to the test
                errors.append(repr(error))

        threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise RuntimeError("; ".join(errors))
        return workers * rounds

    def lock_acquire(self, name, timeout):
        lock = self.cache.lock(name, timeout=timeout)
        acquired = lock.acquire(blocking=False)
        if acquired:
            self.held[name] = lock
        return acquired

    def lock_release(self, name):
        from redis.exceptions import LockError

        try:
            self.held.pop(name).release()
        except LockError as error:
            return type(error).__name__
        return "released"


def main():
    sys.path.insert(0, PROJECT)
    os.environ["DJANGO_SETTINGS_MODULE"] = "interop_site.settings"
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    ops = Ops()
    print(json.dumps({"ready": True, "django": django.get_version()}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            method = getattr(ops, request["op"])
            answer = {"id": request["id"], "ok": method(**request.get("args", {}))}
        except Exception as error:  # reported to the test, which decides
            answer = {"id": request["id"], "error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
