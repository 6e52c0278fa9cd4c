"""docker/prometheus: the rules pass `promtool check rules` and their unit tests
(`promtool test rules`), the example configuration passes `promtool check config`, and every
metric the rules (and their tests) name is one /metrics really exports.

promtool comes from Debian's `prometheus` package, which `make test` installs
(scripts/install-deps.sh): a missing promtool is a failure, not a skip."""

import re
import shutil
import subprocess

import pytest
import yaml

from tests.helpers import REPO
from tests.metrics.scrape import samples, scrape

RULES_DIR = REPO / "docker" / "prometheus"
METRIC_NAME = re.compile(r"\bopvideo_[a-z0-9_]+")


def promtool(*args: str, cwd=RULES_DIR) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool is missing: scripts/install-deps.sh test installs `prometheus`"
    return subprocess.run(
        [binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_rules_are_valid():
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_rules_unit_tests_pass():
    result = promtool("test", "rules", "alerts_test.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_tested_firing_and_quiet():
    rules = yaml.safe_load((RULES_DIR / "alerts.yml").read_text(encoding="utf-8"))
    alerts = {r["alert"] for g in rules["groups"] for r in g["rules"] if "alert" in r}
    tests = yaml.safe_load((RULES_DIR / "alerts_test.yml").read_text(encoding="utf-8"))
    cases = [case for group in tests["tests"] for case in group.get("alert_rule_test", [])]
    firing = {case["alertname"] for case in cases if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in cases if not case.get("exp_alerts")}
    assert alerts - firing == set(), "never seen firing"
    assert alerts - quiet == set(), "never seen quiet"
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
                assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]


def test_example_config_is_valid(tmp_path):
    token = tmp_path / "token"
    token.write_text("t0ken\n")
    config = (RULES_DIR / "prometheus.yml").read_text(encoding="utf-8")
    assert "/run/secrets/opvideo_metrics_token" in config
    (tmp_path / "prometheus.yml").write_text(
        config.replace("/run/secrets/opvideo_metrics_token", str(token)), encoding="utf-8"
    )
    shutil.copy(RULES_DIR / "alerts.yml", tmp_path / "alerts.yml")
    result = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _load(name: str):
    return yaml.safe_load((RULES_DIR / name).read_text(encoding="utf-8"))


def names_in(texts) -> set[str]:
    return {name for text in texts for name in METRIC_NAME.findall(text)}


@pytest.mark.django_db
def test_rules_name_only_exported_metrics(client, seeded):
    client.get("/healthz/")  # so the request histogram has a sample
    exported = {name for name, _ in samples(scrape(client).content.decode())}
    used = names_in(r["expr"] for g in _load("alerts.yml")["groups"] for r in g["rules"])
    assert len(used) >= 10
    assert used - exported == set()
    # The rules' tests feed the same names, so a renamed metric fails them too.
    fed = names_in(
        s["series"] for group in _load("alerts_test.yml")["tests"] for s in group["input_series"]
    )
    assert fed - exported == set()
