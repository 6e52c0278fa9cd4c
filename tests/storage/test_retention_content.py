"""Retention and reconcile delete or keep by content: a row's file goes only if it is the file
the row describes (its size, and its SHA-256 where the row has one). Real files, MariaDB, and
the retention worker's own database user where the purge runs as it."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from storage.content import VERIFIED_CTIME_MARGIN_NS, Described, described_compare
from storage.models import PurgeRun, Video
from storage.paths import FileRemover, Removal
from storage.reconcile import Finding, videos_reconcile
from storage.retention import retention_today, videos_purge_expired
from tests.storage.test_retention_grants import as_rm, rm_account  # noqa: F401 (a fixture)

pytestmark = pytest.mark.django_db

TODAY = date(2025, 3, 1)
OLD = date(2024, 1, 1)  # long expired by TODAY under the zone's 30 days
REAL = b"the real recording " * 500
FORGED = b"another recording! " * 500  # the same size, other bytes
assert len(REAL) == len(FORGED)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def recording(store, name: str, *, content: bytes, recorded: date = OLD, **row) -> Video:
    """A file holding ``content`` and its row; the row's SIZE and HASH are given in ``row``
    (absent: none), so a test says exactly what the row claims."""
    path = store.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    row.setdefault("size", None)
    return store.recording(name, recorded=recorded, file=False, **row)


def purge(store, **kwargs):
    return videos_purge_expired(zone=store.zone, today=kwargs.pop("today", TODAY), **kwargs)


def untouched(video: Video) -> bool:
    video.refresh_from_db()
    return video.delete_date is None


# --- the purge --------------------------------------------------------------------------------


def test_same_size_other_content_is_kept_counted_and_reported(store):
    video = recording(store, "ws2/a.mp4", content=FORGED, size=len(REAL), content_hash=sha(REAL))

    summary = purge(store)

    assert (store.root / "ws2/a.mp4").read_bytes() == FORGED
    assert untouched(video)
    assert (summary.deleted, summary.differs, summary.failed) == (0, 1, 0)
    [problem] = summary.problems
    assert problem.startswith(f"differs: id={video.pk} 'ws2/a.mp4': kept: content SHA-256 ")
    assert sha(FORGED) in problem and sha(REAL) in problem
    run = PurgeRun.objects.get()
    assert (run.differs, run.deleted, run.status) == (1, 0, PurgeRun.Status.FINISHED)
    assert "ws2/a.mp4" in run.problems


def test_another_size_is_kept(store):
    video = recording(store, "b.mp4", content=REAL, size=len(REAL) + 1)

    summary = purge(store)

    assert (store.root / "b.mp4").exists()
    assert untouched(video)
    assert summary.differs == 1
    assert f"size {len(REAL)} bytes, the row says {len(REAL) + 1}" in summary.problems[0]


def test_the_described_file_is_deleted_after_being_read(store):
    video = recording(store, "c.mp4", content=REAL, size=len(REAL), content_hash=sha(REAL))

    summary = purge(store)

    assert not (store.root / "c.mp4").exists()
    assert not untouched(video)
    assert (summary.deleted, summary.differs, summary.bytes_freed) == (1, 0, len(REAL))


def test_an_uppercase_hash_in_the_row_still_matches(store):
    recording(store, "c.mp4", content=REAL, size=len(REAL), content_hash=sha(REAL).upper())

    assert purge(store).deleted == 1


def test_a_file_verified_since_its_last_change_is_deleted_without_being_read(store):
    # The file's bytes are not the hash's: had the purge read them, it would have kept the
    # file. It deletes it, so it trusted the integrity check's reading instead, as it may:
    # the check is recorded (well) after the file's last status change.
    video = recording(
        store,
        "d.mp4",
        content=FORGED,
        size=len(REAL),
        content_hash=sha(REAL),
        integrity_ok=True,
        integrity_checked_at=timezone.now() + timedelta(minutes=2),
    )

    summary = purge(store)

    assert not (store.root / "d.mp4").exists()
    assert not untouched(video)
    assert (summary.deleted, summary.differs) == (1, 0)


def test_a_file_changed_after_its_verification_is_read_again_and_kept(store):
    video = recording(
        store,
        "e.mp4",
        content=FORGED,  # written now, an hour after the check found it equal
        size=len(REAL),
        content_hash=sha(REAL),
        integrity_ok=True,
        integrity_checked_at=timezone.now() - timedelta(hours=1),
    )

    summary = purge(store)

    assert (store.root / "e.mp4").read_bytes() == FORGED
    assert untouched(video)
    assert summary.differs == 1


def test_a_failed_verification_is_no_evidence_either_way(store):
    checked_later = timezone.now() + timedelta(minutes=2)
    bad = recording(
        store,
        "bad.mp4",
        content=FORGED,
        size=len(REAL),
        content_hash=sha(REAL),
        integrity_ok=False,
        integrity_checked_at=checked_later,
    )
    repaired = recording(
        store,
        "repaired.mp4",
        content=REAL,
        size=len(REAL),
        content_hash=sha(REAL),
        integrity_ok=False,
        integrity_checked_at=checked_later,
    )

    summary = purge(store)

    assert untouched(bad) and (store.root / "bad.mp4").exists()
    assert not untouched(repaired) and not (store.root / "repaired.mp4").exists()
    assert (summary.deleted, summary.differs) == (1, 1)


def test_an_old_client_s_row_without_size_or_hash_is_purged_as_before(store):
    video = recording(store, "legacy.mp4", content=FORGED)

    summary = purge(store)

    assert not (store.root / "legacy.mp4").exists()
    assert not untouched(video)
    assert (summary.deleted, summary.differs) == (1, 0)


def test_a_dry_run_reports_the_difference_and_changes_nothing(store):
    video = recording(store, "f.mp4", content=FORGED, size=len(REAL), content_hash=sha(REAL))
    seen = []

    summary = purge(store, dry_run=True, each=seen.append)

    assert [item.outcome for item in seen] == [Removal.DIFFERS]
    assert summary.differs == 1
    assert untouched(video) and (store.root / "f.mp4").exists()


def test_a_symlink_with_the_right_content_is_refused_not_read(store):
    (store.outside / "real.mp4").write_bytes(REAL)
    (store.root / "g.mp4").symlink_to(store.outside / "real.mp4")
    video = store.recording(
        "g.mp4", recorded=OLD, file=False, size=len(REAL), content_hash=sha(REAL)
    )

    summary = purge(store)

    assert summary.refused == 1
    assert untouched(video)
    assert (store.outside / "real.mp4").read_bytes() == REAL


def test_the_differs_count_is_shown_in_the_admin(admin_client, store):
    recording(store, "h.mp4", content=FORGED, size=len(REAL), content_hash=sha(REAL))
    videos_purge_expired(zone=store.zone, today=retention_today())
    run = PurgeRun.objects.get()

    header = "не совпадает с записью"  # noqa: RUF001 (Russian, not a typo)
    with translation.override("ru"):
        listing = admin_client.get(reverse("admin:storage_purgerun_changelist"))
        page = admin_client.get(reverse("admin:storage_purgerun_change", args=[run.pk]))

    assert run.differs == 1
    assert header in listing.content.decode().lower()  # the header is capitalised
    assert listing.context["cl"].result_list[0].differs == 1
    assert "h.mp4" in page.content.decode()
    assert header in page.content.decode().lower()


# --- the decision and the race, on real files -------------------------------------------------


def test_the_verification_counts_only_for_a_file_unchanged_since(tmp_path):
    path = tmp_path / "x.mp4"
    path.write_bytes(REAL)
    st = os.lstat(path)
    row = dict(size=len(REAL), content_hash=sha(REAL), integrity_ok=True)

    def verdict(checked_at_ns: int) -> bool | None:
        at = datetime.fromtimestamp(checked_at_ns / 10**9, tz=UTC)
        described = Described.from_row(**row, integrity_checked_at=at)
        return described_compare(st=st, described=described)[0]

    later = st.st_ctime_ns + VERIFIED_CTIME_MARGIN_NS + 10**9
    assert verdict(later) is True  # checked well after the last change: no read needed
    assert verdict(st.st_ctime_ns) is None  # checked as it changed: must be read
    assert verdict(st.st_ctime_ns + VERIFIED_CTIME_MARGIN_NS // 2) is None  # within the margin
    unverified = Described.from_row(**row, integrity_checked_at=None)
    assert described_compare(st=st, described=unverified) == (None, "")
    short = Described.from_row(size=len(REAL) - 1, content_hash=None)
    assert described_compare(st=st, described=short)[0] is False
    assert Described.from_row(size=None, content_hash=None) is None


def test_a_file_rewritten_after_the_read_ahead_is_read_again(tmp_path):
    root = tmp_path / "store"
    root.mkdir()
    path = root / "r.mp4"
    path.write_bytes(REAL)
    described = Described.from_row(size=len(REAL), content_hash=sha(REAL))

    with FileRemover(root=root) as remover:
        reading = remover.read(file_name="r.mp4", described=described)
        assert reading is not None and reading.sha256 == sha(REAL)
        path.write_bytes(FORGED)  # same inode, same size, new ctime
        result = remover.remove(file_name="r.mp4", described=described, reading=reading)

    assert result.outcome == Removal.DIFFERS
    assert path.read_bytes() == FORGED


def test_a_file_swapped_for_another_after_the_read_ahead_is_not_deleted_on_its_reading(
    tmp_path,
):
    root = tmp_path / "store"
    root.mkdir()
    path = root / "s.mp4"
    path.write_bytes(REAL)
    described = Described.from_row(size=len(REAL), content_hash=sha(REAL))

    with FileRemover(root=root) as remover:
        reading = remover.read(file_name="s.mp4", described=described)
        swap = root / "swap.tmp"
        swap.write_bytes(FORGED)
        os.replace(swap, path)  # another inode under the name
        result = remover.remove(file_name="s.mp4", described=described, reading=reading)

    assert result.outcome == Removal.DIFFERS
    assert path.read_bytes() == FORGED


# --- the pre-written row, end to end at the storage level -------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_pre_written_row_does_not_get_the_real_recording_deleted(rm_account, store):  # noqa: F811
    # Someone with the client's login wrote a row for ws2's next file ahead of ws2, dated
    # long ago, with a hash of something else. ws2 then uploaded the real file to that name.
    name = "ws2/2026-11-30_10-00-00_node_0_domain_0_nauss_0_1629126106_172352.mp4"
    forged = store.recording(
        name,
        recorded=date(2000, 1, 1),
        storage_days=0,
        file=False,
        size=None,
        content_hash=sha(b"whatever the forger chose"),
    )
    (store.root / "ws2").mkdir()
    (store.root / name).write_bytes(REAL)

    purged = as_rm(rm_account, "purge_expired", "--zone", store.zone.name)

    assert (store.root / name).read_bytes() == REAL
    assert untouched(forged)
    assert purged.returncode != 0  # a difference is for a person to look at
    assert "differs 1," in purged.stdout
    assert name in purged.stdout
    assert PurgeRun.objects.get().differs == 1


# --- reconcile --------------------------------------------------------------------------------


def reconcile(store, **kwargs):
    found = []
    summary = videos_reconcile(
        zone=store.zone, report=lambda *finding: found.append(finding), **kwargs
    )
    return summary, found


def test_reconcile_reports_another_size_and_never_fixes_it(store):
    video = recording(
        store, "big.mp4", content=REAL, recorded=TODAY, size=len(REAL) + 5, content_hash=sha(REAL)
    )
    recording(store, "fine.mp4", content=REAL, recorded=TODAY, size=len(REAL))

    summary, found = reconcile(store, fix=True)

    assert summary.differs == 1
    assert summary.contents_read == 0
    assert [(f, n) for f, n, _d in found] == [(Finding.DIFFERS, "big.mp4")]
    assert f"size {len(REAL)} bytes, the row says {len(REAL) + 5}" in found[0][2]
    assert untouched(video)
    assert (store.root / "big.mp4").exists()


def test_reconcile_compares_content_only_when_asked(store):
    forged = recording(
        store, "x.mp4", content=FORGED, recorded=TODAY, size=len(REAL), content_hash=sha(REAL)
    )
    recording(store, "y.mp4", content=REAL, recorded=TODAY, size=len(REAL), content_hash=sha(REAL))

    quick, quick_found = reconcile(store)
    full, full_found = reconcile(store, verify_content=True, fix=True)

    assert (quick.differs, quick.contents_read, quick_found) == (0, 0, [])
    assert (full.differs, full.contents_read, full.unreadable) == (1, 2, 0)
    [(finding, name, detail)] = full_found
    assert (finding, name) == (Finding.DIFFERS, "x.mp4")
    assert sha(FORGED) in detail
    assert untouched(forged) and (store.root / "x.mp4").read_bytes() == FORGED


@pytest.mark.django_db(transaction=True)
def test_reconcile_verify_content_runs_as_the_retention_user(rm_account, store):  # noqa: F811
    recording(
        store, "x.mp4", content=FORGED, recorded=TODAY, size=len(REAL), content_hash=sha(REAL)
    )

    result = as_rm(rm_account, "reconcile", "--zone", store.zone.name, "--verify-content")

    assert result.returncode == 0, result.stderr
    assert "differs from its row: x.mp4" in result.stdout
    assert "files that differ from their row: 1 (contents read: 1, unreadable: 0)" in (
        result.stdout
    )
    assert Path(store.root / "x.mp4").read_bytes() == FORGED
