"""A zone's part of the Swarm stack: its two services, rendered from its CONFIG row.

Each site runs two services on its storage server, named as the old system named them once
the stack is deployed as ``opvideo``: ``opvideo_nginx_<zone>`` (video access, PATH_DST
read-only) and ``opvideo_rm_<zone>`` (the retention worker, queue ``zone.<zone>``). They are
rendered here from the zone's row rather than written by hand, so the path the worker
deletes in, the path nginx serves and the port the search pages link to are the ones the
database holds.

The block is plain text between ``# >>> site <zone>`` / ``# <<< site <zone>`` markers, so it
can be pasted into docker-compose.yml, kept as a file of its own (``docker stack deploy -c
docker-compose.yml -c <file>``), or put in place by ``stack_file_update`` (the command's
``--write``), which replaces the site's earlier block and leaves everything else as it was.
"""

from __future__ import annotations

import json
import re
import string
from dataclasses import dataclass

from .models import Zone
from .validators import normalise_dir

STACK_NAME = "opvideo"
NODE_LABEL = "opvideo.zone"
NGINX_CONTAINER_PORT = 8080

_RUN_AS = re.compile(r"^(\d{1,10}):(\d{1,10})\Z")
_NODE_LABEL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*\Z")


class StackRenderError(ValueError):
    """The zone (or what was asked) cannot be turned into working stack services."""


@dataclass(frozen=True)
class StackBlock:
    zone: str
    services: str  # lines to go under `services:`, markers included
    secrets: str  # lines to go under `secrets:`, markers included

    def document(self) -> str:
        """The block as a compose file of its own (valid YAML, valid Compose)."""
        return f"services:\n{self.services}secrets:\n{self.secrets}"


def service_names(*, zone_name: str) -> tuple[str, str]:
    """(nginx, worker) service keys in the stack file; Swarm prefixes them with ``opvideo_``."""
    return f"nginx_{zone_name}", f"rm_{zone_name}"


def link_secret_name(*, zone_name: str) -> str:
    """The Swarm secret (``docker secret create <name> -``) holding the zone's link secret."""
    return f"{STACK_NAME}_link_secret_{zone_name}"


def link_secret_reload_commands(*, zone_name: str) -> tuple[str, str]:
    """How to give the zone's nginx a regenerated link secret: (without Docker, in the stack).

    A Swarm secret cannot be changed in place, so the stack's way removes the service and
    the secret, creates the secret again (README, "Adding a zone", step 4) and redeploys.
    """
    nginx, _worker = service_names(zone_name=zone_name)
    secret = link_secret_name(zone_name=zone_name)
    conf = f"/etc/nginx/opvideo-{zone_name}.conf"
    plain = (
        f"python manage.py render_nginx_conf --zone {zone_name} > {conf} && "
        f"nginx -c {conf} -s reload"
    )
    stack = (
        f"docker service rm {STACK_NAME}_{nginx} && docker secret rm {secret}\n"
        f'docker exec "$web" opvideo manage zone_link_secret --zone {zone_name} '
        f"| docker secret create {secret} -\n"
        f"docker stack deploy -c docker-compose.yml {STACK_NAME}"
    )
    return plain, stack


class _Template(string.Template):
    # @{NAME} placeholders: the text is full of Compose's own ${VARIABLE}s, which must stay.
    delimiter = "@"
    idpattern = r"[A-Z_]+"


_SERVICES = _Template("""\
  # >>> site @{ZONE}
  # Rendered by: manage.py render_stack_services --zone @{ZONE} --user @{RUN_AS}
  @{NGINX}:
    image: "${OPVIDEO_IMAGE_PREFIX:?set OPVIDEO_IMAGE_PREFIX}/nginx:${OPVIDEO_TAG:?set OPVIDEO_TAG}"
    # The storage user: it can read what it received, and the mount is read-only anyway.
    user: @{Q_RUN_AS}
    environment:
      ZONE: @{Q_ZONE}
      PATH_DST: @{Q_PATH}
      VIDEO_EXTENSION: @{Q_EXTENSION}
      LINK_SECRET_FILE: /run/secrets/link_secret
      LISTEN_PORT: "@{CONTAINER_PORT}"
    secrets:
      - source: @{SECRET_KEY}
        target: link_secret
    volumes:
      - type: bind
        source: @{Q_PATH}
        target: @{Q_PATH}
        read_only: true
    ports:
      # Host mode: every site may publish the same port, each on its own storage server.
      - target: @{CONTAINER_PORT}
        published: @{PUBLIC_PORT}
        protocol: tcp
        mode: host
    deploy:
      replicas: 1
      placement:
        constraints: [@{Q_CONSTRAINT}]
      update_config:
        order: stop-first  # the host port can be held by one container at a time
      restart_policy:
        condition: any
  @{WORKER}:
    image: "${OPVIDEO_IMAGE_PREFIX:?set OPVIDEO_IMAGE_PREFIX}/app:${OPVIDEO_TAG:?set OPVIDEO_TAG}"
    command: ["worker"]
    # The storage user: the owner of the recordings is who may delete them.
    user: @{Q_RUN_AS}
    env_file: "${OPVIDEO_ENV_FILE:-opvideo.env}"
    environment:
      OPVIDEO_ZONE: @{Q_ZONE}
      # The retention worker's own database user (README, Operations: database users).
      DATABASE_URL: "${OPVIDEO_RM_DATABASE_URL:?set OPVIDEO_RM_DATABASE_URL}"
      DATABASE_PASSWORD_FILE: /run/secrets/db_password
      # Redis's password, which the settings give Celery beside CELERY_BROKER_URL.
      REDIS_PASSWORD_FILE: /run/secrets/redis_password
    secrets:
      - source: db_password_rm
        target: db_password
      - source: redis_password
        target: redis_password
    volumes:
      - type: bind
        source: @{Q_PATH}
        target: @{Q_PATH}
    # broker: the internal network on which alone Redis is.
    networks: [opvideo, broker]
    deploy:
      replicas: 1
      placement:
        constraints: [@{Q_CONSTRAINT}]
      update_config:
        order: stop-first  # one purge of a zone at a time, also during an update
      restart_policy:
        condition: any
  # <<< site @{ZONE}
""")

_SECRETS = _Template("""\
  # >>> site @{ZONE}
  @{SECRET_KEY}:
    # manage.py zone_link_secret --zone @{ZONE} | docker secret create @{SECRET_NAME} -
    external: true
    name: @{SECRET_NAME}
  # <<< site @{ZONE}
""")


def stack_services_render(*, zone: Zone, run_as: str, node_label: str = NODE_LABEL) -> StackBlock:
    """The zone's two services and its link-secret declaration.

    ``run_as`` is ``UID:GID`` of the storage user that receives the recordings (printed by
    docker/storage/bootstrap.sh): the worker must be able to delete its files and nginx to
    read them, and neither needs more.
    """
    match = _RUN_AS.match(run_as or "")
    if not match:
        raise StackRenderError(
            f"--user must be UID:GID in numbers (e.g. 1001:1001), not {run_as!r}"
        )
    if match.group(1) == "0":
        raise StackRenderError(
            "the zone's services must not run as root: give the storage user's UID:GID"
        )
    if not _NODE_LABEL.match(node_label):
        raise StackRenderError(f"{node_label!r} is not a node label name")
    if not zone.public_port:
        raise StackRenderError(
            f"zone {zone.name} has no video server port (PUBLIC_PORT): set it in the admin first"
        )
    name = zone.name
    path = normalise_dir(zone.path_dst)
    nginx, worker = service_names(zone_name=name)
    # A JSON string is a YAML double-quoted scalar: no value can end a line or start a tag.
    values = {
        "ZONE": name,
        "Q_ZONE": json.dumps(name),
        "RUN_AS": run_as,
        "Q_RUN_AS": json.dumps(run_as),
        "NGINX": nginx,
        "WORKER": worker,
        "Q_PATH": json.dumps(path),
        "Q_EXTENSION": json.dumps(zone.file_extension),
        "CONTAINER_PORT": str(NGINX_CONTAINER_PORT),
        "PUBLIC_PORT": str(int(zone.public_port)),
        "Q_CONSTRAINT": json.dumps(f"node.labels.{node_label} == {name}"),
        "SECRET_KEY": f"link_secret_{name}",
        "SECRET_NAME": link_secret_name(zone_name=name),
    }
    return StackBlock(
        zone=name,
        services=_SERVICES.substitute(values),
        secrets=_SECRETS.substitute(values),
    )


def stack_file_update(*, text: str, block: StackBlock) -> str:
    """``text`` (a stack file) with the zone's block in both sections, replacing an older one."""
    lines = text.splitlines(keepends=True)
    for section, body in (("services", block.services), ("secrets", block.secrets)):
        lines = _section_put(lines, section=section, zone=block.zone, body=body)
    return "".join(lines)


def _section_put(lines: list[str], *, section: str, zone: str, body: str) -> list[str]:
    try:
        start = lines.index(f"{section}:\n")
    except ValueError:
        raise StackRenderError(f"the stack file has no top-level '{section}:' section") from None
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].strip() and not lines[i][0].isspace() and not lines[i].startswith("#")
        ),
        len(lines),
    )
    opening, closing = f"  # >>> site {zone}\n", f"  # <<< site {zone}\n"
    new = body.splitlines(keepends=True)
    if opening in lines[start:end]:
        first = lines.index(opening, start, end)
        try:
            last = lines.index(closing, first, end)
        except ValueError:
            raise StackRenderError(
                f"'{section}:' has '# >>> site {zone}' without its '# <<< site {zone}'"
            ) from None
        return lines[:first] + new + lines[last + 1 :]
    # A new site goes last in the section, before the blank lines and comments that lead
    # into the next top-level key.
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    return lines[:end] + new + lines[end:]
