from django.db import models


class Event(models.Model):
    """A row with an aware DateTimeField, cached as the ORM reads it back."""

    name = models.CharField(max_length=100)
    at = models.DateTimeField()
