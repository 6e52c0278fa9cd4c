"""The file name pattern: the standard one, and the check every way of saving a zone applies."""

from datetime import UTC, date, datetime, time

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from tests.factories import make_zone
from zones.file_names import FileNameIds, call_date_pick, file_name_ids, file_name_pattern_check
from zones.models import Zone
from zones.services import zone_update

SESSION = "node_0_domain_0_nauss_0_1629126106_172352"
PROJECT = "corebo00000000000ng9hgl5vhtinhmo"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (f"{SESSION}.mp4", FileNameIds(SESSION, None)),
        (f"2026-11-27_10-15-02_{SESSION}.mp4", FileNameIds(SESSION, None)),
        (f"2026-11-27_10-15-02_{SESSION}_{PROJECT}.mp4", FileNameIds(SESSION, PROJECT)),
        (f"{PROJECT}_{SESSION}.mp4", FileNameIds(SESSION, PROJECT)),
        (f"rec {PROJECT} x {SESSION} (2).mp4", FileNameIds(SESSION, PROJECT)),
        ("node_12_domain_3_nauss_7_1_2.webm", FileNameIds("node_12_domain_3_nauss_7_1_2", None)),
    ],
)
def test_standard_pattern_finds_the_ids_anywhere(name, expected):
    assert file_name_ids(name=name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "notes.mp4",
        "2026-11-27_10-15-02.mp4",
        f"x{SESSION}.mp4",  # glued to other letters: not a session id
        "node_0_domain_0_1629126106_172352.mp4",  # no nauss part
        f"{PROJECT}.mp4",  # a project id alone is not enough
    ],
)
def test_standard_pattern_finds_nothing_in_other_names(name):
    assert file_name_ids(name=name) is None


def test_a_longer_run_is_not_cut_into_a_project_id():
    name = f"{SESSION}_{PROJECT}abc.mp4"
    assert file_name_ids(name=name) == FileNameIds(SESSION, None)


def test_a_zone_pattern_replaces_the_standard_one():
    pattern = r"^(?P<project_id>[A-Z]{3})-(?P<session_id>\d{6,})\."
    assert file_name_ids(name="ABC-123456.mp4", pattern=pattern) == FileNameIds("123456", "ABC")
    assert file_name_ids(name=f"{SESSION}.mp4", pattern=pattern) is None


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        ("(unclosed", "invalid_regex"),
        (r"\d+", "no_named_groups"),
        (r"(?P<project_id>\w{32})", "no_session_id"),
        (r"(?P<session_id>\d+)_(?P<sessionid2>\d+)", "unknown_groups"),
        (r"(?P<sesion_id>\d+)", "no_session_id"),
    ],
)
def test_unusable_patterns_are_refused_with_a_reason(pattern, code):
    with pytest.raises(ValidationError) as info:
        file_name_pattern_check(pattern)
    assert info.value.code == code


@pytest.mark.django_db
def test_services_refuse_an_unusable_pattern_on_the_field():
    with pytest.raises(ValidationError) as info:
        make_zone(file_name_pattern=r"(?P<project_id>\w{32})")
    assert "file_name_pattern" in info.value.message_dict
    assert not Zone.objects.exists()

    zone = make_zone()
    with pytest.raises(ValidationError) as info:
        zone_update(zone=zone, file_name_pattern="(unclosed")
    assert "file_name_pattern" in info.value.message_dict
    zone.refresh_from_db()
    assert zone.file_name_pattern == ""


# --- when and who: the groups date, time and operator ----------------------------------------


def test_the_standard_pattern_reads_the_recorders_stamp_as_the_start(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    found = file_name_ids(name=f"2026-11-27_10-15-02_{SESSION}.mp4")
    assert (found.date, found.time) == (date(2026, 11, 27), time(10, 15, 2))
    assert found.started_at == datetime(2026, 11, 27, 7, 15, 2, tzinfo=UTC)  # 10:15 in Moscow
    assert found.operator is None
    # Anywhere in the name, as the ids are; without one, the ids alone.
    later = file_name_ids(name=f"{PROJECT}_{SESSION}_2026-11-26_14-09-13.mp4")
    assert (later.project_id, later.date, later.time) == (
        PROJECT,
        date(2026, 11, 26),
        time(14, 9, 13),
    )
    bare = file_name_ids(name=f"{SESSION}.mp4")
    assert (bare.date, bare.time, bare.started_at) == (None, None, None)


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-11-27 10-15-02", (date(2026, 11, 27), time(10, 15, 2))),
        ("20261127 101502", (date(2026, 11, 27), time(10, 15, 2))),
        ("27.11.2026 10:15:02", (date(2026, 11, 27), time(10, 15, 2))),
        ("27.11.2026 10.15.02", (date(2026, 11, 27), time(10, 15, 2))),
        # Not real dates or times: absent, the name still the call's.
        ("2026-02-30 10-15-02", (None, time(10, 15, 2))),
        ("2026-11-27 25-00-00", (date(2026, 11, 27), None)),
        ("2026-11-27 10-15:02", (date(2026, 11, 27), None)),  # mixed separators
        ("27-11-2026 10-15-02", (None, time(10, 15, 2))),  # not a spelling recorders use
    ],
)
def test_a_zone_pattern_reads_the_date_and_time_in_each_spelling(stamp, expected):
    pattern = r"^(?P<date>\S+) (?P<time>\S+) (?P<session_id>node\S+)\.mp4$"
    found = file_name_ids(name=f"{stamp} {SESSION}.mp4", pattern=pattern)
    assert found == FileNameIds(SESSION, None)
    assert (found.date, found.time) == expected
    assert (found.started_at is not None) == (None not in expected)


def test_a_zone_pattern_reads_the_operators_login():
    pattern = r"^(?P<operator>[a-z0-9.]+)_(?P<session_id>node\S+?)\.mp4$"
    assert file_name_ids(name=f"i.petrova_{SESSION}.mp4", pattern=pattern).operator == "i.petrova"
    # An empty group, or one no login could be, is no operator.
    loose = r"^(?P<operator>[^_]*)_(?P<session_id>node\S+?)\.mp4$"
    assert file_name_ids(name=f"_{SESSION}.mp4", pattern=loose).operator is None
    assert file_name_ids(name=f"{'x' * 151}_{SESSION}.mp4", pattern=loose).operator is None


def test_the_new_groups_are_known_and_a_misspelt_one_is_named():
    file_name_pattern_check(
        r"(?P<date>\d{8})_(?P<time>\d{6})_(?P<operator>\w+)_(?P<session_id>\d+)"
    )
    with pytest.raises(ValidationError) as info:
        file_name_pattern_check(r"(?P<session_id>\d+)_(?P<operater>\w+)")
    assert info.value.code == "unknown_groups"
    assert info.value.params == {"names": "operater"}
    with translation.override("en"):
        assert "date, time and operator" in info.value.messages[0]


def test_the_known_groups_are_named_in_russian_too():
    with pytest.raises(ValidationError) as info:
        file_name_pattern_check(r"(?P<session_id>\d+)_(?P<operater>\w+)")
    with translation.override("ru"):
        message = info.value.messages[0]
    assert message.startswith("Неизвестные имена групп: operater.")
    assert "date, time и operator" in message


# --- whether the name's date is the call's ----------------------------------------------------


@pytest.mark.parametrize(
    ("named", "picked"),
    [
        (date(2026, 11, 28), date(2026, 11, 28)),  # the modification date itself
        (date(2026, 11, 27), date(2026, 11, 27)),  # the day before: a call across midnight
        (date(2026, 11, 29), date(2026, 11, 29)),  # the day after: a clock a little ahead
        (date(2026, 11, 26), date(2026, 11, 28)),  # two days before: not the call's
        (date(2019, 3, 1), date(2026, 11, 28)),  # years ago: a stale stamp
        (date(2031, 1, 1), date(2026, 11, 28)),  # the future: a wrong clock
        (None, date(2026, 11, 28)),  # no date in the name
    ],
)
def test_the_names_date_counts_within_a_day_of_the_modification_date_in_time_zone(
    settings, named, picked
):
    settings.TIME_ZONE = "Europe/Moscow"
    modified = datetime(2026, 11, 27, 21, 20, tzinfo=UTC).timestamp()  # 00:20 on the 28th MSK
    assert call_date_pick(named=named, modified=modified) == picked


def test_the_modification_date_is_taken_in_the_time_zone_asked(settings):
    settings.TIME_ZONE = "Europe/Moscow"
    modified = datetime(2026, 11, 27, 21, 20, tzinfo=UTC).timestamp()  # 00:20 on the 28th MSK
    assert call_date_pick(named=date(2026, 11, 26), modified=modified) == date(2026, 11, 28)
    # Still the 27th in UTC, where the 26th is the day before.
    assert call_date_pick(named=date(2026, 11, 26), modified=modified, tz=UTC) == date(2026, 11, 26)
