"""The nginx config reaches hosts two ways, `render_nginx_conf` and the image's entrypoint;
both fill the same template and must give the same file, which nginx accepts and serves."""

import http.client
import os
import re
import shutil
import subprocess
import time

import pytest

from storage.nginx import NginxConfigError, nginx_conf_render
from storage.samples import sample_mp4_make
from tests.factories import LINK_SECRET, unsaved_zone
from tests.helpers import REPO, free_port, manage, subprocess_db_env
from tests.services.media import media_tree_make
from tests.storage.test_video_access import signed
from zones.models import Zone

ENTRYPOINT = REPO / "docker" / "nginx" / "entrypoint.sh"
TEMPLATE = REPO / "docker" / "nginx" / "nginx.conf.template"
SECRET = LINK_SECRET


def zone_row(**extra) -> Zone:
    values = {"public_address": "video.kursk.example.ru", "public_port": 88, **extra}
    return unsaved_zone(**values)


def entrypoint_env(tmp_path, **extra) -> dict[str, str]:
    env = {
        **os.environ,
        "TEMPLATE": str(TEMPLATE),
        "NGINX_CONF": str(tmp_path / "nginx.conf"),
        "ZONE": "kursk",
        "PATH_DST": "/srv/video",
        "VIDEO_EXTENSION": "mp4",
        "LINK_SECRET": SECRET,
        "LISTEN_PORT": "88",
        "SERVER_NAME": "video.kursk.example.ru",
        "ACCESS_LOG": "/dev/stdout",
        "ERROR_LOG": "stderr",
        "PID_FILE": str(tmp_path / "nginx.pid"),
        "TEMP_DIR": str(tmp_path / "temp"),
    }
    env.update(extra)
    return env


def test_entrypoint_and_command_render_the_same_config(tmp_path):
    expected = nginx_conf_render(
        zone=zone_row(),
        access_log="/dev/stdout",
        error_log="stderr",
        pid_file=str(tmp_path / "nginx.pid"),
        temp_dir=str(tmp_path / "temp"),
        worker_group="opvideo",
    )
    out = subprocess.run(
        [str(ENTRYPOINT), "--render-only"],
        env=entrypoint_env(tmp_path, NGINX_USER="www-data opvideo"),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == expected
    assert "${" not in out
    assert "$secure_link_expires$uri$arg_download " + SECRET in out
    assert r"location ~* \.mp4$ {" in out
    assert "\nuser www-data opvideo;\n" in out


def test_the_container_has_no_user_directive_unless_asked(tmp_path):
    # It starts as the storage user: a user directive would only be ignored with a warning.
    out = subprocess.run(
        [str(ENTRYPOINT), "--render-only"],
        env=entrypoint_env(tmp_path),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert not re.search(r"^\s*user\s", out, re.MULTILINE)
    assert out == nginx_conf_render(
        zone=zone_row(),
        access_log="/dev/stdout",
        error_log="stderr",
        pid_file=str(tmp_path / "nginx.pid"),
        temp_dir=str(tmp_path / "temp"),
        worker_user=None,
    )


def test_the_workers_run_with_the_storage_users_group_by_default():
    # bootstrap.sh makes PATH_DST 750 and the module stores files 640, all of the storage
    # user's group; nginx's workers without it get "Permission denied".
    out = nginx_conf_render(zone=zone_row(ssh_user="opvideo"))
    assert re.search(r"^user www-data opvideo;$", out, re.MULTILINE)
    out = nginx_conf_render(zone=zone_row(), worker_user="nginx", worker_group="video")
    assert re.search(r"^user nginx video;$", out, re.MULTILINE)


@pytest.mark.parametrize(
    ("user", "group"), [("www-data;", None), ("www-data", "a b"), ("x\nuser root", None)]
)
def test_render_refuses_a_worker_account_that_is_not_a_name(user, group):
    with pytest.raises(NginxConfigError, match="POSIX"):
        nginx_conf_render(zone=zone_row(), worker_user=user, worker_group=group)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"LINK_SECRET": ""}, "LINK_SECRET"),
        ({"LINK_SECRET": 'bad"secret;with quotes'}, "LINK_SECRET has characters"),
        ({"LINK_SECRET": "short"}, "shorter than 16"),
        ({"PATH_DST": ""}, "PATH_DST"),
        ({"VIDEO_EXTENSION": ""}, "VIDEO_EXTENSION"),
        ({"VIDEO_EXTENSION": "mp4|html"}, "VIDEO_EXTENSION must be"),
        ({"VIDEO_EXTENSION": "mpeg4x"}, "VIDEO_EXTENSION must be"),
        ({"NGINX_USER": "www-data; root"}, "NGINX_USER must be"),
        ({"NGINX_USER": "www-data\nuser root"}, "NGINX_USER must be one line"),
    ],
)
def test_entrypoint_refuses_bad_settings(tmp_path, change, message):
    result = subprocess.run(
        [str(ENTRYPOINT), "--render-only"],
        env=entrypoint_env(tmp_path, **change),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert message in result.stderr
    assert not (tmp_path / "nginx.conf").exists()


def test_entrypoint_reads_the_secret_from_a_file(tmp_path):
    secret_file = tmp_path / "link_secret"
    secret_file.write_text(SECRET + "\n")
    env = entrypoint_env(tmp_path, LINK_SECRET_FILE=str(secret_file))
    del env["LINK_SECRET"]
    out = subprocess.run(
        [str(ENTRYPOINT), "--render-only"], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert f'$uri$arg_download {SECRET}";' in out
    assert oct((tmp_path / "nginx.conf").stat().st_mode & 0o777) == "0o600"


def test_entrypoint_starts_nginx_that_serves_signed_links(tmp_path):
    media = media_tree_make(sample=sample_mp4_make(path=tmp_path / "s.mp4", seconds=2))
    port = free_port()
    env = entrypoint_env(
        tmp_path, PATH_DST=str(media.path_dst), LISTEN_PORT=str(port), ACCESS_LOG="/dev/null"
    )
    proc = subprocess.Popen([str(ENTRYPOINT)], env=env, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", signed("/plain.mp4"))
                break
            except ConnectionRefusedError:
                assert proc.poll() is None, proc.stderr.read()
                time.sleep(0.1)
        response = conn.getresponse()
        assert response.status == 200
        assert response.read() == media.data("plain.mp4")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(media.base)


@pytest.mark.django_db(transaction=True)
def test_render_nginx_conf_command(tmp_path):
    zone = zone_row()
    zone.save()
    out = manage("render_nginx_conf", "--zone", "kursk", env=subprocess_db_env()).stdout
    assert "root /srv/video;" in out
    assert "listen 88;" in out
    assert f"\nuser www-data {zone.ssh_user};\n" in out
    out = manage(
        "render_nginx_conf", "--zone", "kursk", "--user", "nginx", "--group", "video",
        env=subprocess_db_env(),
    ).stdout  # fmt: skip
    assert "\nuser nginx video;\n" in out
    assert f'$uri$arg_download {SECRET}";' in out


@pytest.mark.parametrize("extension", ["", "mp4|html", "mp4$", "mpeg4x"])
def test_render_refuses_an_extension_that_is_not_letters_and_digits(extension):
    # The extension goes into a location regex: "mp4|html" would serve pages again.
    with pytest.raises(NginxConfigError, match="extension"):
        nginx_conf_render(zone=zone_row(file_extension=extension))


@pytest.mark.django_db(transaction=True)
def test_render_nginx_conf_refuses_unknown_zone_and_missing_secret():
    zone_row(link_secret="").save()
    unknown = manage("render_nginx_conf", "--zone", "nowhere", env=subprocess_db_env(), check=False)
    assert unknown.returncode != 0 and "no zone named 'nowhere'" in unknown.stderr
    no_secret = manage("render_nginx_conf", "--zone", "kursk", env=subprocess_db_env(), check=False)
    assert no_secret.returncode != 0 and "no link secret" in no_secret.stderr
