"""The Celery application, configured from Django settings under the ``CELERY_`` namespace
(JSON only, late acknowledgement, one message at a time, time limits: see settings.py).

Two kinds of process run it:

    celery -A opvideo beat -S django              # exactly one, next to the web service
    celery -A opvideo worker -Q zone.<ZONE> -c 1  # one on each zone's storage server

Beat reads the zones' daily purge entries from the database (django-celery-beat); each entry
names its zone's queue, so only the worker that mounts that zone's PATH_DST runs its purge.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "opvideo.settings")

app = Celery("opvideo")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
