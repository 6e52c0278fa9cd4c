"""The storage server's host keys, pinned in ``CONFIG.HOST_KEYS``.

A workstation that trusted the first key it was shown (``StrictHostKeyChecking=accept-new``)
would, freshly installed or re-imaged, send its recordings to whatever answered at the
storage server's address first, get "up to date" from that impostor's dry run, and delete
the only copies. So the key is pinned by an admin instead: fetched with ``ssh-keyscan`` from
the web server and confirmed against what the storage server itself prints
(``ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub``), or pasted from the server's ``.pub``
files. Workstations write their known_hosts from this column for each session and connect
with ``StrictHostKeyChecking=yes``; a zone with nothing pinned sends nothing.

Stored as ``<type> <base64>`` per line: no host names (workstations name the server with
``HostKeyAlias``) and no comments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import shutil
import struct
import subprocess
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .validators import hostname_validator

if TYPE_CHECKING:
    from .models import Zone

# The name workstations give the server in their known_hosts and to ssh (HostKeyAlias): the
# pinned keys then match whatever SERVER and SSH_PORT say, and a name or an IP address in
# SERVER need no [host]:port spelling.
HOST_KEY_ALIAS = "opvideo-storage"

# What OpenSSH offers as host keys today; DSA is gone from OpenSSH, security keys (sk-*) are
# user keys, certificates need a CA line this column does not hold.
SUPPORTED_TYPES = {
    "ssh-ed25519": "ED25519",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
    "ssh-rsa": "RSA",
}
RSA_MIN_BITS = 2048
# A server has one key per type; more lines than this are not one server's keys.
MAX_KEYS = 10
MAX_TEXT_LENGTH = 20_000
KEYSCAN_TIMEOUT = 10

MSG_EMPTY = _("No host key found. Paste the server's public host key, one per line.")
MSG_TOO_LONG = _("This text is too long to be a server's host keys.")
MSG_TOO_MANY = _("More than %(max)s keys: a server has one host key per type.")
MSG_PRIVATE = _(
    "This is a private key: it must never leave the server. Paste the public host key "
    "instead: the contents of /etc/ssh/ssh_host_ed25519_key.pub on the storage server."
)
MSG_MARKER = _(
    "Line %(line)s is a %(marker)s line. Paste the server's own host key "
    "(a .pub file or a plain known_hosts line)."
)
MSG_CERTIFICATE = _(
    "Line %(line)s is a certificate, not a host key. Paste the server's own host key "
    "(the .pub file)."
)
MSG_DSA = _("Line %(line)s is a DSA key, which OpenSSH no longer accepts.")
MSG_UNSUPPORTED = _(
    "Line %(line)s: the key type %(type)s cannot be a storage server's host key "
    "(ed25519, ECDSA or RSA are accepted)."
)
MSG_NOT_A_KEY = _(
    "Line %(line)s is neither a known_hosts line nor a public key (.pub) line. "
    "Expected, for example: ssh-ed25519 AAAAC3Nza…"
)
MSG_DAMAGED = _("Line %(line)s: the key is damaged (its base64 text is cut off or changed).")
MSG_RSA_WEAK = _("Line %(line)s: an RSA key of %(bits)s bits; at least %(min)s are required.")
MSG_NO_KEYSCAN = _("ssh-keyscan is not installed on the web server; paste the keys instead.")
MSG_UNREACHABLE = _(
    "Could not fetch the host keys of %(server)s, port %(port)s: %(detail)s. Check the "
    "server name and the ssh port, or paste the keys."
)
MSG_MOVED = _(
    "The pinned host keys belong to %(server)s, port %(port)s. After changing the server "
    "or the port, fetch or paste the keys of the new one (or remove the pinned keys)."
)


@dataclass(frozen=True)
class HostKey:
    ssh_type: str  # as ssh names it: "ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"
    blob: bytes = field(repr=False)
    bits: int

    @property
    def algorithm(self) -> str:
        """The name ``ssh-keygen -l`` prints in brackets: ED25519, ECDSA, RSA."""
        return SUPPORTED_TYPES[self.ssh_type]

    @property
    def fingerprint(self) -> str:
        """``SHA256:…`` exactly as ``ssh-keygen -lf`` prints it (unpadded base64)."""
        digest = hashlib.sha256(self.blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")

    def line(self) -> str:
        return f"{self.ssh_type} {base64.b64encode(self.blob).decode('ascii')}"

    def describe(self) -> str:
        """One line for people: ``ED25519 (256) SHA256:…``, in ssh-keygen's words."""
        return f"{self.algorithm} ({self.bits}) {self.fingerprint}"


def host_keys_parse(text: str) -> list[HostKey]:
    """The keys in pasted text: ``.pub`` lines, known_hosts lines, ``ssh-keyscan`` output.

    Raises ``ValidationError`` naming the line that is wrong and what to paste instead; a
    private key anywhere refuses the whole text.
    """
    return _parse(text, strict=True)


def host_keys_text(keys: Iterable[HostKey]) -> str:
    """The column's value: ``<type> <base64>`` per line, each key once, in the given order."""
    seen: set[bytes] = set()
    lines = []
    for key in keys:
        if key.blob not in seen:
            seen.add(key.blob)
            lines.append(key.line())
    return "".join(f"{line}\n" for line in lines)


def host_keys_normalise(text: str) -> str:
    """What to store for pasted ``text`` (ValidationError if it is not host keys)."""
    return host_keys_text(host_keys_parse(text)) if (text or "").strip() else ""


def zone_host_keys(*, zone: Zone) -> list[HostKey]:
    """The zone's pinned keys; ValidationError if the column holds something else."""
    return host_keys_parse(zone.host_keys) if (zone.host_keys or "").strip() else []


def known_hosts_text(*, keys: Iterable[HostKey]) -> str:
    """A known_hosts file that knows the storage server only by its pinned keys."""
    return "".join(f"{HOST_KEY_ALIAS} {key.line()}\n" for key in keys)


def host_keys_fetch(*, server: str, port: int, timeout: int = KEYSCAN_TIMEOUT) -> list[HostKey]:
    """The host keys ``server`` shows on ``port`` now, read with OpenSSH's ssh-keyscan.

    What the web server sees is not proof of anything by itself (an impostor could answer
    it too): the admin confirms the fingerprints against the server's own before they are
    pinned. ValidationError with the reason when nothing could be fetched.
    """
    hostname_validator(server)  # never an option or anything but a host name reaches argv
    if shutil.which("ssh-keyscan") is None:
        raise ValidationError(MSG_NO_KEYSCAN, code="no_keyscan")
    command = ["ssh-keyscan", "-T", str(timeout), "-p", str(int(port))]
    command += ["-t", "ed25519,ecdsa,rsa", "--", server]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    try:
        result = subprocess.run(  # noqa: S603 - a fixed program, a validated host name
            command, capture_output=True, text=True, timeout=timeout + 5, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        detail = _("no answer within %(seconds)s seconds") % {"seconds": timeout}
        raise _unreachable(server, port, detail) from None
    keys = _parse(result.stdout, strict=False)
    if not keys:
        errors = [
            line.strip()
            for line in result.stderr.splitlines()
            if line.strip() and not line.startswith("#")
        ]
        detail = errors[-1][:200] if errors else _("no ssh server answered")
        raise _unreachable(server, port, detail)
    return keys


def zone_fields_host_keys_clean(fields: dict[str, Any]) -> None:
    """Normalise ``fields["host_keys"]`` in place for the services (ValidationError on
    "host_keys" if it is not host keys). Here rather than in ``Zone.clean``: an admin form
    does not edit the column itself, and a model error on a field the form lacks is a crash."""
    if "host_keys" in fields:
        try:
            fields["host_keys"] = host_keys_normalise(fields["host_keys"])
        except ValidationError as exc:
            raise ValidationError({"host_keys": exc.error_list}) from exc


def zone_move_check(*, zone: Zone, fields: Mapping[str, Any]) -> None:
    """Refuse to point a zone at another server or port while keeping the keys it has
    pinned: they are the old server's, and keeping them would either stop every
    workstation or, worse, look like the new server is an impostor only when it is not."""
    if "host_keys" in fields or zone.pk is None:
        return
    stored = type(zone).objects.filter(pk=zone.pk).values("server", "ssh_port", "host_keys")
    old = stored.first()
    if old is None or not old["host_keys"].strip():
        return
    if any(name in fields and fields[name] != old[name] for name in ("server", "ssh_port")):
        raise ValidationError(
            {
                "host_keys": ValidationError(
                    MSG_MOVED,
                    code="moved",
                    params={"server": old["server"], "port": old["ssh_port"]},
                )
            }
        )


# --- internals ------------------------------------------------------------------------------


def _unreachable(server: str, port: int, detail: str) -> ValidationError:
    return ValidationError(
        MSG_UNREACHABLE,
        code="unreachable",
        params={"server": server, "port": port, "detail": detail},
    )


def _parse(text: str, *, strict: bool) -> list[HostKey]:
    """Keys from ``text``; ``strict``: every line must be one (pasted), else lines that are
    not supported keys are skipped (ssh-keyscan prints comments and may print other types)."""
    text = (text or "").replace("\r", "")
    if strict and len(text) > MAX_TEXT_LENGTH:
        raise ValidationError(MSG_TOO_LONG, code="too_long")
    if "PRIVATE KEY" in text or text.lstrip().startswith("PuTTY-User-Key-File-"):
        raise ValidationError(MSG_PRIVATE, code="private")
    keys: list[HostKey] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            key = _parse_line(line, number=number)
        except ValidationError:
            if strict:
                raise
            continue
        if all(key.blob != other.blob for other in keys):
            keys.append(key)
    if strict and not keys:
        raise ValidationError(MSG_EMPTY, code="empty")
    if len(keys) > MAX_KEYS:
        raise ValidationError(MSG_TOO_MANY, code="too_many", params={"max": MAX_KEYS})
    return keys


def _parse_line(line: str, *, number: int) -> HostKey:
    tokens = line.split()
    if tokens[0].startswith("@"):
        raise ValidationError(
            MSG_MARKER, code="marker", params={"line": number, "marker": tokens[0]}
        )
    # A .pub line starts with the type; a known_hosts line (and ssh-keyscan's) with the hosts.
    for start in (0, 1):
        if len(tokens) > start + 1 and _looks_like_type(tokens[start]):
            ssh_type, encoded = tokens[start], tokens[start + 1]
            break
    else:
        raise ValidationError(MSG_NOT_A_KEY, code="invalid", params={"line": number})
    params = {"line": number, "type": ssh_type}
    if ssh_type.endswith("-cert-v01@openssh.com"):
        raise ValidationError(MSG_CERTIFICATE, code="certificate", params=params)
    if ssh_type == "ssh-dss":
        raise ValidationError(MSG_DSA, code="dsa", params=params)
    if ssh_type not in SUPPORTED_TYPES:
        raise ValidationError(MSG_UNSUPPORTED, code="unsupported", params=params)
    try:
        blob = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationError(MSG_DAMAGED, code="damaged", params=params) from exc
    if _blob_type(blob) != ssh_type:
        raise ValidationError(MSG_DAMAGED, code="damaged", params=params)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            public = serialization.load_ssh_public_key(f"{ssh_type} {encoded}".encode("ascii"))
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise ValidationError(MSG_DAMAGED, code="damaged", params=params) from exc
    bits = 256 if ssh_type == "ssh-ed25519" else public.key_size
    if isinstance(public, rsa.RSAPublicKey) and bits < RSA_MIN_BITS:
        raise ValidationError(
            MSG_RSA_WEAK, code="too_weak", params={**params, "bits": bits, "min": RSA_MIN_BITS}
        )
    return HostKey(ssh_type=ssh_type, blob=blob, bits=bits)


def _looks_like_type(token: str) -> bool:
    return token in SUPPORTED_TYPES or token.startswith(("ssh-", "ecdsa-", "sk-"))


def _blob_type(blob: bytes) -> str:
    """The type the key's own bytes name (its first ssh string)."""
    if len(blob) < 4:
        return ""
    (length,) = struct.unpack(">I", blob[:4])
    return blob[4 : 4 + length].decode("ascii", "replace")
