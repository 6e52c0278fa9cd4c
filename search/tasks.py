"""Celery tasks of the search app: the hourly directory sync (beat's fixed entry in
settings.CELERY_BEAT_SCHEDULE), run by the worker beside the web on queue ``directory`` (the
entry and CELERY_TASK_ROUTES name it)."""

from celery import shared_task

from .directory_sync import directory_users_sync

DIRECTORY_SYNC_TASK_NAME = "search.directory_sync"
DIRECTORY_QUEUE = "directory"


@shared_task(name=DIRECTORY_SYNC_TASK_NAME, ignore_result=True)
def directory_sync() -> dict:
    """Fails (DirectoryUnavailable, SyncRefused) when it changed nothing: the worker logs it
    as a failed task with the reason, and the next hour tries again."""
    return directory_users_sync().as_dict()
