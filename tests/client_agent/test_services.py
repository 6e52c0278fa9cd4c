"""The cycle in-process, where a test can hand it a resolver's answer: the zone found from DNS,
the override, and the heartbeat and state a cycle leaves whatever happened."""

from __future__ import annotations

import os

import pytest

from client_agent.conf import AgentConfig
from client_agent.models import Workstation
from client_agent.selectors import agent_state_read
from client_agent.services import cycle_run
from tests.client_agent.conftest import this_login_serves
from tests.factories import make_zone
from zones import client_keys

pytestmark = pytest.mark.django_db(transaction=True)


def answer(*names):
    return lambda host: iter(names) if host == "docker1" else iter(())


@pytest.fixture
def config(tmp_path):
    return AgentConfig(
        workstation="op101",
        state_dir=tmp_path / "state",
        key_dir=tmp_path / "run",
        recheck_seconds=0,
    )


@pytest.fixture
def zones(tmp_path, settings):
    """Zones kursk and orel; this process a client of kursk (its login, its key)."""
    made = {}
    for name in ("kursk", "orel"):
        (tmp_path / name).mkdir()
        made[name] = make_zone(name=name, path_src=str(tmp_path / name))
    this_login_serves(made["kursk"], settings)
    return made


def test_the_zone_comes_from_the_resolvers_answer(config, zones, settings):
    this_login_serves(zones["orel"], settings)
    report = cycle_run(config=config, resolver=answer("docker1.orel.grancall.ru"))

    assert report.ok, report.errors
    assert report.zone_name == "orel"
    beat = Workstation.objects.get(host="op101")
    assert (beat.zone.name, beat.zone_name) == ("orel", "orel")
    assert beat.last_success is not None


def test_the_override_wins_over_dns(config, zones):
    override = AgentConfig(**{**config.__dict__, "zone_override": "kursk"})
    report = cycle_run(config=override, resolver=answer("docker1.orel.grancall.ru"))
    assert report.zone_name == "kursk"


def test_no_zone_is_a_reported_failure_and_success_is_not_forgotten(config, zones):
    assert cycle_run(config=config, resolver=answer("docker1.kursk.grancall.ru")).ok
    first = Workstation.objects.get(host="op101")

    report = cycle_run(config=config, resolver=answer())

    assert not report.ok
    assert "zone not found: docker1 does not resolve" in report.errors[0]
    beat = Workstation.objects.get(host="op101")
    assert beat.last_success == first.last_success  # the last success stays on record
    assert beat.last_seen > first.last_seen
    assert "docker1 does not resolve" in beat.last_error
    state = agent_state_read(path=config.state_file)
    assert state["last_success"] and "docker1 does not resolve" in state["last_error"]


def test_a_disabled_zone_keeps_its_recordings_and_says_so(config, zones):
    from zones.models import Zone

    Zone.objects.filter(name="kursk").update(enabled=False)
    report = cycle_run(config=config, resolver=answer("docker1.kursk.grancall.ru"))
    assert report.errors == ["zone kursk is disabled in CONFIG; recordings stay here until enabled"]


def test_an_unusable_key_is_named(config, zones, settings):
    from zones.models import Zone

    sealed = client_keys.seal(client_key=settings.OPVIDEO_ZONE_KEY, private_key="not a key")
    Zone.objects.filter(name="kursk").update(client_ssh_key=sealed)
    report = cycle_run(config=config, resolver=answer("docker1.kursk.grancall.ru"))
    assert len(report.errors) == 1
    assert "the ssh key in CONFIG is not usable" in report.errors[0]


def test_another_zones_key_sends_nothing_and_names_the_key(config, zones, settings, tmp_path):
    recording = tmp_path / "kursk" / "node_0_domain_0_nauss_0_1_2.mp4"
    recording.write_bytes(b"x")
    os.utime(recording, (0, 0))
    settings.OPVIDEO_ZONE_KEY = zones["orel"].client_key

    report = cycle_run(config=config, resolver=answer("docker1.kursk.grancall.ru"))

    assert report.errors == [
        "zone kursk: OPVIDEO_ZONE_KEY in db.conf does not fit zone kursk (another zone's key, "
        "or one replaced since): put the key `manage.py zone_client_key --zone kursk` prints "
        "into it; recordings stay here"
    ]
    assert recording.exists()
    assert "does not fit zone kursk" in Workstation.objects.get(host="op101").last_error


def test_an_unforeseen_failure_is_recorded_like_any_other(config, zones, tmp_path):
    recording = tmp_path / "kursk" / "node_0_domain_0_nauss_0_1_2.mp4"
    recording.write_bytes(b"x")
    os.utime(recording, (0, 0))
    (tmp_path / "run").write_text("a file where the key directory should be")

    report = cycle_run(config=config, resolver=answer("docker1.kursk.grancall.ru"))

    assert not report.ok
    assert report.errors[0].startswith("unexpected error: NotADirectoryError")
    assert recording.exists()
    assert "unexpected error" in Workstation.objects.get(host="op101").last_error


def backlog(directory, names):
    """Finished recordings named ``names``, the first the oldest, ten seconds apart."""
    import time as clock

    for n, name in enumerate(names, start=1):
        path = directory / name
        path.write_bytes(b"v" * (1000 + n))
        stamp = clock.time() - 7200 + n * 10
        os.utime(path, (stamp, stamp))


def backlog_cycle(tmp_path, monkeypatch, settings, storage, *, round_size):
    """One cycle in rounds of ``round_size`` (services.SCAN_ROUND), two files a batch."""
    from client_agent import services

    this_login_serves(storage.zone, settings)
    monkeypatch.setattr(services, "SCAN_ROUND", round_size)
    config = AgentConfig(
        workstation="op101",
        state_dir=tmp_path / "state",
        key_dir=tmp_path / "run",
        recheck_seconds=0,
        batch_files=2,
    )
    return cycle_run(config=config, resolver=answer("docker1.kursk.grancall.ru"))


def test_a_backlog_larger_than_a_round_goes_in_one_cycle_oldest_first(
    storage, tmp_path, monkeypatch, settings
):
    """A workstation cut off for days holds more recordings than one round keeps in memory
    (services.SCAN_ROUND): the cycle takes them in rounds until none is left."""
    from storage.models import Video
    from tests.factories import session_id

    names = [f"{n:02d}_{session_id(n)}.mp4" for n in range(1, 9)]
    backlog(storage.path_src, names)

    report = backlog_cycle(tmp_path, monkeypatch, settings, storage, round_size=3)

    assert report.ok, report.errors
    assert report.delivered == names  # oldest first
    assert report.waiting == 0
    assert list(storage.path_src.iterdir()) == []
    assert Video.objects.filter(zone=storage.zone).count() == 8


def test_rounds_move_past_unreadable_names_and_report_each_once(
    storage, tmp_path, monkeypatch, settings
):
    """A later round may take only names it cannot read (they are older than what is left):
    the cycle goes on to the next round, and each such name is reported once."""
    from storage.models import Video
    from tests.factories import session_id

    unreadable = (4, 5, 6, 7)
    names = {
        n: f"notes-{n}.mp4" if n in unreadable else f"{n:02d}_{session_id(n)}.mp4"
        for n in range(1, 10)
    }
    backlog(storage.path_src, list(names.values()))

    report = backlog_cycle(tmp_path, monkeypatch, settings, storage, round_size=3)

    assert report.ok, report.errors
    assert report.delivered == [names[n] for n in (1, 2, 3, 8, 9)]
    assert [u.name for u in report.unparseable] == [names[n] for n in unreadable]
    assert report.waiting == 0
    assert sorted(p.name for p in storage.path_src.iterdir()) == [names[n] for n in unreadable]
    assert Video.objects.filter(zone=storage.zone).count() == 5
    beat = Workstation.objects.get(host="op101")
    assert (beat.unparseable_count, beat.delivered_count, beat.pending_count) == (4, 5, 0)
