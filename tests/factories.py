"""Rows for tests, made through the project's own services where one exists."""

import itertools
from datetime import date

from storage.models import Video
from zones import ssh_keys
from zones.models import Zone
from zones.services import zone_create

_seq = itertools.count(1)
# The host key the factory's zones pin for their (imaginary) storage servers; a zone whose
# server is a real test sshd pins that server's own key instead (``host_keys=``).
PLACEHOLDER_HOST_KEY = ssh_keys.key_load(private_key=ssh_keys.key_generate()).public_line()


def make_zone(**overrides) -> Zone:
    n = next(_seq)
    fields = dict(
        name=f"zone{n}",
        server=f"storage{n}.example.ru",
        ssh_user="opvideo",
        speed_kbps=3000,
        path_src="/home/oper/.videos",
        path_dst=f"/srv/video{n}",
        file_extension="mp4",
        public_address=f"video{n}.example.ru",
        public_port=88,
        host_keys=PLACEHOLDER_HOST_KEY,
    )
    fields.update(overrides)
    return zone_create(**fields)


def session_id(n: int) -> str:
    return f"node_0_domain_0_nauss_0_{1629126106 + n}_{172352 + n}"


def make_video(*, zone: Zone, **overrides) -> Video:
    n = next(_seq)
    fields = dict(
        zone=zone,
        session_id=session_id(n),
        project_id="corebo00000000000ng9hgl5vhtinhmo",
        file_name=f"rec_{n}.mp4",
        recording_date=date(2026, 11, 1),
        size=1_000_000 + n,
        workstation="op101",
    )
    fields.update(overrides)
    return Video.objects.create(**fields)


LINK_SECRET = "k" * 20 + "-link-secret_0123456789"


def unsaved_zone(**overrides) -> Zone:
    """A zone that never touches the database, for what needs only its fields (link
    signing, nginx config). The private key is a placeholder: nothing here uses ssh."""
    fields = dict(
        name="kursk",
        server="storage.kursk.example.ru",
        ssh_user="opvideo",
        ssh_private_key="unused",
        speed_kbps=3000,
        path_src="/home/oper/.videos",
        path_dst="/srv/video",
        file_extension="mp4",
        link_secret=LINK_SECRET,
    )
    fields.update(overrides)
    return Zone(**fields)
