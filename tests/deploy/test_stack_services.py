"""`manage.py render_stack_services`: a site's two services rendered from its CONFIG row,
printed or written into the stack file (idempotently), valid Compose either way; and
`manage.py zone_link_secret`, the Swarm secret the site's nginx reads."""

import os
import subprocess
import sys

import pytest

from storage.nginx import nginx_conf_render
from tests.deploy.stack import STACK_FILE, compose_check, load_yaml, zones_in
from tests.helpers import REPO, manage, subprocess_db_env
from zones.deployment import StackRenderError, stack_file_update, stack_services_render
from zones.models import Zone
from zones.services import zone_create, zone_update

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def zone() -> Zone:
    return zone_create(
        name="orel-2",
        server="docker5.orel-2.example.ru",
        ssh_user="opvideo",
        speed_kbps=3000,
        path_src="/home/oper/.videos/",
        path_dst="/srv/opvideo/orel-2/",
        file_extension="mp4",
        public_address="docker5.orel-2.example.ru",
        public_port=8088,
    )


def render(*args: str, check: bool = True):
    return manage("render_stack_services", *args, env=subprocess_db_env(), check=check)


def test_printed_services_are_valid_compose_for_the_zone(zone, tmp_path):
    out = render("--zone", "orel-2", "--user", "1001:1002").stdout
    path = tmp_path / "site.yml"
    path.write_text(out)
    result = compose_check(path)
    assert result.returncode == 0, result.stdout

    doc = load_yaml(path)
    assert set(doc["services"]) == {"nginx_orel-2", "rm_orel-2"}
    nginx, worker = doc["services"]["nginx_orel-2"], doc["services"]["rm_orel-2"]
    # The row's values, trailing slash dropped so the mount and the checks agree.
    assert nginx["environment"]["PATH_DST"] == "/srv/opvideo/orel-2"
    assert nginx["environment"]["VIDEO_EXTENSION"] == "mp4"  # nothing else is served
    assert nginx["volumes"][0]["source"] == "/srv/opvideo/orel-2"
    assert nginx["ports"] == [
        {"target": 8080, "published": 8088, "protocol": "tcp", "mode": "host"}
    ]
    assert nginx["user"] == worker["user"] == "1001:1002"
    assert worker["environment"]["OPVIDEO_ZONE"] == "orel-2"
    # The worker reaches Redis (on the internal network only) with the broker's password;
    # nginx gets neither.
    assert worker["environment"]["REDIS_PASSWORD_FILE"] == "/run/secrets/redis_password"
    assert {s["source"] for s in worker["secrets"]} == {"db_password_rm", "redis_password"}
    assert worker["networks"] == ["opvideo", "broker"]
    assert {s["source"] for s in nginx["secrets"]} == {"link_secret_orel-2"}
    assert "networks" not in nginx
    assert doc["secrets"] == {
        "link_secret_orel-2": {"external": True, "name": "opvideo_link_secret_orel-2"}
    }


def test_write_adds_a_site_to_the_stack_file_once(zone, tmp_path):
    stack = tmp_path / "docker-compose.yml"
    original = STACK_FILE.read_text()
    stack.write_text(original)

    first = render("--zone", "orel-2", "--user", "1001:1001", "--write", str(stack))
    assert "wrote the services of site orel-2" in first.stdout
    written = stack.read_text()
    assert compose_check(stack).returncode == 0
    doc = load_yaml(stack)
    assert zones_in(doc) == zones_in(load_yaml(STACK_FILE)) | {"orel-2"}
    assert "link_secret_orel-2" in doc["secrets"]
    # Everything that was there is still there, as it was.
    assert written.startswith(original.split("  # >>> site")[0])

    again = render("--zone", "orel-2", "--user", "1001:1001", "--write", str(stack))
    assert "already up to date" in again.stdout
    assert stack.read_text() == written

    # The zone's directory moves: the site's block is replaced, not added a second time.
    zone_update(zone=Zone.objects.get(pk=zone.pk), path_dst="/data/orel-2")
    render("--zone", "orel-2", "--user", "1001:1001", "--write", str(stack))
    moved = stack.read_text()
    assert moved.count("# >>> site orel-2") == 2  # one in services, one in secrets
    assert "/srv/opvideo/orel-2" not in moved
    assert load_yaml(stack)["services"]["rm_orel-2"]["volumes"][0]["target"] == "/data/orel-2"


FILTER_ARGS = ("--zone", "orel-2", "--user", "1001:1001", "--write", "-")


def test_write_dash_filters_the_stack_file_from_stdin_to_stdout(zone):
    result = subprocess.run(
        [sys.executable, "manage.py", "render_stack_services", *FILTER_ARGS],
        cwd=REPO,
        input=STACK_FILE.read_text(),
        env={**os.environ, **subprocess_db_env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    in_place = stack_file_update(
        text=STACK_FILE.read_text(),
        block=stack_services_render(zone=Zone.objects.get(pk=zone.pk), run_as="1001:1001"),
    )
    assert result.stdout == in_place
    assert "nginx_orel-2:" in result.stdout


def test_the_example_site_in_the_stack_file_is_the_commands_output():
    # Nobody edited the example by hand: it is exactly what the command renders.
    kursk = Zone(name="kursk", path_dst="/srv/opvideo/kursk", file_extension="mp4", public_port=88)
    text = STACK_FILE.read_text()
    assert (
        stack_file_update(text=text, block=stack_services_render(zone=kursk, run_as="1001:1001"))
        == text
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--zone", "nowhere", "--user", "1001:1001"], "no zone named 'nowhere'"),
        (["--zone", "orel-2", "--user", "0:0"], "must not run as root"),
        (["--zone", "orel-2", "--user", "opvideo"], "--user must be UID:GID"),
        (["--zone", "orel-2", "--user", "1:1", "--node-label", "a b"], "not a node label"),
    ],
)
def test_refusals_say_what_is_wrong(zone, args, message):
    result = render(*args, check=False)
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_zone_without_a_video_port_cannot_be_published(zone):
    zone_update(zone=Zone.objects.get(pk=zone.pk), public_port=None)
    result = render("--zone", "orel-2", "--user", "1001:1001", check=False)
    assert result.returncode == 1
    assert "no video server port" in result.stderr


def test_write_refuses_a_file_that_is_not_a_stack(zone, tmp_path):
    other = tmp_path / "other.yml"
    other.write_text("version: '3'\n")
    result = render("--zone", "orel-2", "--user", "1:1", "--write", str(other), check=False)
    assert result.returncode == 1
    assert "no top-level 'services:' section" in result.stderr
    assert other.read_text() == "version: '3'\n"
    with pytest.raises(StackRenderError):
        stack_file_update(
            text="services:\n  # >>> site kursk\nsecrets:\n",
            block=stack_services_render(
                zone=Zone(name="kursk", path_dst="/v", public_port=1), run_as="1:1"
            ),
        )


def test_link_secret_goes_to_the_zones_nginx_as_a_swarm_secret_file(zone, tmp_path):
    secret = manage("zone_link_secret", "--zone", "orel-2", env=subprocess_db_env()).stdout
    stored = Zone.objects.get(pk=zone.pk)
    assert secret == stored.link_secret  # exactly the secret: no newline in the secret file
    secret_file = tmp_path / "link_secret"
    secret_file.write_text(secret)

    # The nginx image's entrypoint, given the file as the stack gives it, renders the same
    # configuration as the command that reads the row.
    env = {
        **os.environ,
        "TEMPLATE": str(REPO / "docker" / "nginx" / "nginx.conf.template"),
        "NGINX_CONF": str(tmp_path / "nginx.conf"),
        "ZONE": "orel-2",
        "PATH_DST": "/srv/opvideo/orel-2",
        "VIDEO_EXTENSION": stored.file_extension,
        "LINK_SECRET_FILE": str(secret_file),
        "LISTEN_PORT": "8080",
        "PID_FILE": str(tmp_path / "nginx.pid"),
        "TEMP_DIR": str(tmp_path / "temp"),
    }
    rendered = subprocess.run(
        [str(REPO / "docker" / "nginx" / "entrypoint.sh"), "--render-only"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    stored.path_dst = "/srv/opvideo/orel-2"  # as the stack passes it, without the slash
    expected = nginx_conf_render(
        zone=stored,
        listen_port=8080,
        access_log="/dev/stdout",
        error_log="stderr",
        pid_file=str(tmp_path / "nginx.pid"),
        temp_dir=str(tmp_path / "temp"),
        worker_user=None,  # the container runs as the storage user: no user directive
    )
    assert rendered.replace("server_name _;", "") == expected.replace(
        f"server_name {stored.public_address};", ""
    )


def test_link_secret_refuses_unknown_zones(zone):
    result = manage("zone_link_secret", "--zone", "nowhere", env=subprocess_db_env(), check=False)
    assert result.returncode == 1
    assert "no zone named 'nowhere'" in result.stderr
    assert result.stdout == ""
