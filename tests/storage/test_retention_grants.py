"""The retention workers' database user: the README's GRANTs are what the purge, reconcile
and the worker need, and nothing more. Here they run as exactly that user."""

from __future__ import annotations

import secrets
import shutil
from datetime import timedelta

import MySQLdb
import pytest
from django.db import connection

from storage.grants import retention_grants
from storage.models import PurgeRun, Video, VideoNote
from storage.retention import retention_today
from storage.samples import sample_mp4_make
from tests.helpers import REPO, manage, wait_until
from tests.services.celery import beat_send, worker
from zones.services import zone_update

DENIED = (MySQLdb.OperationalError, MySQLdb.ProgrammingError)
OLD = retention_today() - timedelta(days=100)


@pytest.fixture(scope="module")
def rm_account(django_db_setup, django_db_blocker):
    """A MariaDB user with exactly the retention GRANTs on the test database; yields the
    DATABASE_URL a worker would be given."""
    from django.db import connection

    with django_db_blocker.unblock():
        db = connection.settings_dict
        user = f"opvrm_{db['NAME']}"[:80]
        password = secrets.token_urlsafe(16)  # [A-Za-z0-9_-]: safe inside quotes
        spec = f"'{user}'@'%'"
        with connection.cursor() as cursor:
            cursor.execute(f"DROP USER IF EXISTS {spec}")
            cursor.execute(f"CREATE USER {spec} IDENTIFIED BY '{password}'")
            for statement in retention_grants(database=db["NAME"], account=spec):
                cursor.execute(statement)
        host, port = db["HOST"] or "127.0.0.1", int(db["PORT"] or 3306)
        yield {
            "url": f"mysql://{user}:{password}@{host}:{port}/{db['NAME']}",
            "connect": dict(host=host, port=port, user=user, password=password, db=db["NAME"]),
        }
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(f"DROP USER IF EXISTS {spec}")


def as_rm(rm_account, *args: str):
    """``manage.py <args>`` as the retention worker runs it: its database user, no key."""
    return manage(
        *args, env={"DATABASE_URL": rm_account["url"], "FIELD_ENCRYPTION_KEYS": ""}, check=False
    )


def test_the_readme_gives_the_grants_the_code_needs():
    readme = REPO.joinpath("README.md").read_text()
    for statement in retention_grants():
        assert statement in readme


def test_manage_py_prints_them_for_any_database_and_host():
    out = manage("retention_grants", "--database", "calls", "--host", "10.%").stdout.splitlines()
    assert out[0] == "CREATE USER 'opvideo_rm'@'10.%' IDENTIFIED BY '<password>';"
    assert out[1:] == retention_grants(database="calls", account="'opvideo_rm'@'10.%'")


@pytest.mark.django_db(transaction=True)
def test_purge_and_reconcile_run_as_the_retention_user(rm_account, store):
    expired = store.recording("old.mp4", recorded=OLD)
    store.recording("kept.mp4", recorded=retention_today())
    lost = store.recording("lost.mp4", recorded=retention_today(), file=False)

    dry = as_rm(rm_account, "purge_expired", "--zone", store.zone.name, "--dry-run")
    purged = as_rm(rm_account, "purge_expired", "--zone", store.zone.name)
    fixed = as_rm(rm_account, "reconcile", "--zone", store.zone.name, "--fix")

    assert dry.returncode == 0, dry.stderr
    assert purged.returncode == 0, purged.stderr
    assert "deleted 1," in purged.stdout
    assert fixed.returncode == 0, fixed.stderr
    assert "marked deleted: 1" in fixed.stdout
    assert store.files() == {"kept.mp4"}
    assert set(Video.objects.filter(delete_date__isnull=False)) == {expired, lost}
    assert PurgeRun.objects.get().status == PurgeRun.Status.FINISHED


@pytest.mark.django_db(transaction=True)
def test_the_media_read_and_the_purge_of_previews_and_notes_run_as_the_retention_user(
    rm_account, store, tmp_path
):
    sample = sample_mp4_make(path=tmp_path / "s.mp4", seconds=3, rate=5)
    name = "op101/2026-11-27_10-15-02_node_0_domain_0_nauss_0_1629126106_172352.mp4"
    (store.root / "op101").mkdir()
    shutil.copyfile(sample, store.root / name)
    video = store.recording(name, recorded=OLD, size=sample.stat().st_size, file=False)
    zone_update(zone=store.zone, file_name_pattern="")  # the pattern is read, as a column

    read = as_rm(rm_account, "media_read", "--zone", store.zone.name)

    assert read.returncode == 0, read.stderr
    assert "read 1 (with previews 1)" in read.stdout
    video.refresh_from_db()
    assert (video.media_state, video.codec, video.preview["count"]) == ("done", "h264", 2)
    assert (store.root / ".previews" / name / "sprite.jpg").is_file()
    VideoNote.objects.create(video=video, at_seconds=1.0, text="here", author_name="qa")

    purged = as_rm(rm_account, "purge_expired", "--zone", store.zone.name)

    assert purged.returncode == 0, purged.stderr
    assert "deleted 1," in purged.stdout
    assert not VideoNote.objects.exists()
    assert not (store.root / ".previews" / name).exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_without_the_notes_grant_deletes_nothing(rm_account, store):
    """An upgrade that forgot the new GRANTs: the purge must fail before touching a file,
    not after deleting files whose rows it then cannot mark."""
    expired = store.recording("old.mp4", recorded=OLD)
    user = rm_account["connect"]["user"]
    notes = f"`{rm_account['connect']['db']}`.`{VideoNote._meta.db_table}`"
    with connection.cursor() as cursor:
        cursor.execute(f"REVOKE DELETE ON {notes} FROM '{user}'@'%'")
    try:
        purged = as_rm(rm_account, "purge_expired", "--zone", store.zone.name)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"GRANT DELETE ON {notes} TO '{user}'@'%'")

    assert purged.returncode != 0
    assert store.files() == {"old.mp4"}  # the file is still there
    expired.refresh_from_db()
    assert expired.delete_date is None
    assert PurgeRun.objects.get().status == PurgeRun.Status.FAILED


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_as_the_retention_user(rm_account, store, broker, tmp_path):
    store.recording("old.mp4", recorded=OLD)
    beat_send(store.zone)

    with worker(store.zone.purge_queue, tmp_path / "worker.log", DATABASE_URL=rm_account["url"]):
        wait_until(
            lambda: PurgeRun.objects.filter(zone=store.zone, status="finished").exists(),
            what="the worker to purge as the retention user",
        )

    assert store.files() == set()
    assert broker.queued(store.zone) == 0


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT `RSA_KEY` FROM `CONFIG`",  # the zones' secrets are not the storage server's
        "SELECT `LINK_SECRET` FROM `CONFIG`",
        "SELECT * FROM `CONFIG`",
        "UPDATE `CONFIG` SET `RETENTION_DAYS` = 1",
        "SELECT `SESSIONID` FROM `VIDEO`",  # which call a recording belongs to: not needed
        "UPDATE `VIDEO` SET `LEGAL_HOLD` = 0",
        "UPDATE `VIDEO` SET `RECORDING_DATE` = '2000-01-01'",
        "DELETE FROM `VIDEO`",
        "DELETE FROM `storage_purgerun`",
        "UPDATE `CONFIG` SET `FILE_NAME_PATTERN` = ''",
        "SELECT `OPERATOR`, `STARTED_AT` FROM `VIDEO`",  # written by the media read, not read
        "UPDATE `VIDEO` SET `FILE_NAME` = 'x'",
        "SELECT `text` FROM `storage_videonote`",  # the notes are QA's: only deleted with it
        "INSERT INTO `storage_videonote` (`video_id`, `at_seconds`, `text`, `author_name`) "
        "VALUES (1, 0, 'x', 'x')",
        "UPDATE `storage_videonote` SET `text` = ''",
        "SELECT * FROM `django_celery_beat_periodictask`",
        "SELECT * FROM `auth_user`",
    ],
)
def test_the_retention_user_may_not(rm_account, statement):
    conn = MySQLdb.connect(**rm_account["connect"])
    try:
        with pytest.raises(DENIED) as info:
            conn.cursor().execute(statement)
    finally:
        conn.close()
    assert "denied" in str(info.value).lower()
