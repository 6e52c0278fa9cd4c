"""Finding the zone from DNS (docker1 → docker1.<zone>.<domain>), and the override."""

import pytest

from zones.detection import ZoneNotDetected, system_resolver, zone_detect, zone_from_name


def answer(*names):
    """A resolver that answers with ``names`` and records what it was asked."""
    asked = []

    def resolver(host):
        asked.append(host)
        return iter(names)

    resolver.asked = asked
    return resolver


def test_zone_is_the_label_after_the_host_name():
    resolver = answer("docker1.kursk.grancall.ru")
    assert zone_detect(resolver=resolver) == "kursk"
    assert resolver.asked == ["docker1"]


def test_dns_case_and_the_root_dot_do_not_matter():
    assert zone_detect(resolver=answer("Docker1.Zone-Test.GranCall.RU.")) == "zone-test"


def test_the_host_name_is_configurable():
    resolver = answer("storage.orel.example.ru")
    assert zone_detect(host="storage", resolver=resolver) == "orel"
    assert resolver.asked == ["storage"]


def test_a_cname_falls_through_to_the_name_dns_answered_for():
    # The system resolver reports the CNAME target; DNS then says which search-domain name
    # it answered for.
    resolver = answer("srv42.dc.grancall.ru", "docker1.belgorod.grancall.ru")
    assert zone_detect(resolver=resolver) == "belgorod"


def test_the_override_wins_and_dns_is_not_asked():
    resolver = answer("docker1.kursk.grancall.ru")
    assert zone_detect(override=" Orel ", resolver=resolver) == "orel"
    assert resolver.asked == []


def test_an_override_that_is_not_a_zone_name_is_refused():
    with pytest.raises(ZoneNotDetected, match="not a zone name"):
        zone_detect(override="kursk; DROP TABLE", resolver=answer())


def test_no_answer_says_what_to_check():
    with pytest.raises(ZoneNotDetected) as info:
        zone_detect(resolver=answer())
    assert "docker1 does not resolve" in str(info.value)
    assert "OPVIDEO_ZONE" in str(info.value)


@pytest.mark.parametrize(
    "names",
    [
        ("docker1",),  # /etc/hosts without a domain
        ("docker1.grancall",),  # no zone label
        ("other.kursk.grancall.ru",),  # not the host asked for
        ("docker1.bad_zone!.grancall.ru",),  # not a zone name
    ],
)
def test_names_without_a_zone_are_reported(names):
    with pytest.raises(ZoneNotDetected) as info:
        zone_detect(resolver=answer(*names))
    assert names[0] in str(info.value)


def test_zone_from_name():
    assert zone_from_name(host="docker1", name="docker1.kursk.grancall.ru") == "kursk"
    assert zone_from_name(host="docker1", name="docker10.kursk.grancall.ru") is None


def test_the_system_resolver_answers_for_a_name_this_machine_knows():
    # localhost resolves everywhere, to a name with no zone in it: the real resolver path
    # runs end to end and the result is a clear refusal, not a crash.
    names = list(system_resolver("localhost"))
    assert names
    with pytest.raises(ZoneNotDetected):
        zone_detect(host="localhost")
