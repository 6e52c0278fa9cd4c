"""SSH key pairs for the zones' storage servers, and the authorized_keys line that confines them.

Every workstation of a zone uses the same private key (it is read from ``CONFIG.RSA_KEY``), so
the key must be worth as little as possible to whoever copies it off a workstation: on the
storage server it is installed behind a forced command that starts rsync's own daemon for
one write-only module rooted at ``PATH_DST`` (its configuration is installed by
docker/storage/bootstrap.sh): the key can only *add* plain files, with fixed modes, under
``PATH_DST/<directory>/``: no shell, no reads, no deletes, no overwrites, no links, devices
or FIFOs, no change of the mode, owner or time of anything that exists, no forwarding.

Keys are generated here (ed25519 by default; RSA 4096 for storage servers whose sshd is too
old for ed25519) rather than by hand with ``ssh-keygen`` as in the old README, and a pasted
key is checked here, once, with a message an administrator can act on, instead of failing
later in an ssh call on every workstation. Keys are stored in the OpenSSH private key format
whatever format they were pasted in, so every consumer sees one format.
"""

from __future__ import annotations

import base64
import hashlib
import re
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .validators import absolute_path_validator, path_has_no_dot_segments, zone_name_validator

if TYPE_CHECKING:
    from .models import Zone

KeyType = Literal["ed25519", "rsa"]
KEY_TYPES: tuple[KeyType, ...] = ("ed25519", "rsa")

# Debian's rsync package installs it here; a storage host with another layout passes its own.
RSYNC_PATH = "/usr/bin/rsync"
# The upload module's configuration on the storage server, written there by bootstrap.sh
# (root's, so the storage user cannot loosen it); its pre-xfer check lies beside it.
UPLOAD_CONFIG = "/etc/opvideo/rsyncd-upload.conf"
# The module's name in that configuration: the client sends to USER@SERVER::opvideo/<ws>/.
UPLOAD_MODULE = "opvideo"

RSA_GENERATED_BITS = 4096
RSA_MIN_BITS = 2048
# OpenSSH refuses bigger RSA keys; the bound also keeps a pasted monster from eating the CPU.
RSA_MAX_BITS = 16384
# A 16384-bit RSA key in PEM is about 12.5 KB; anything much longer is not one key.
MAX_KEY_TEXT_LENGTH = 20_000

# What may stand unquoted inside command="…" in authorized_keys and in rsync's arguments:
# no quote, backslash, space, newline or shell metacharacter can get through.
_COMMAND_SAFE_PATH = re.compile(r"/[A-Za-z0-9._@+/-]*\Z")

_PUBLIC_KEY_RE = re.compile(
    r"(?:^|\s)(?:ssh-(?:rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+)\s+AAAA",
    re.MULTILINE,
)
_PUBLIC_PEM_MARKERS = ("PUBLIC KEY-----", "---- BEGIN SSH2 PUBLIC KEY ----")

_ALGORITHM_NAMES = {
    "ssh-ed25519": "ED25519",
    "ssh-rsa": "RSA",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
}

MSG_EMPTY = _("Paste a private key.")
MSG_TOO_LONG = _("This text is too long to be one private key.")
MSG_PUBLIC = _(
    "This is a public key. Paste the private key: the text between "
    "'-----BEGIN … PRIVATE KEY-----' and '-----END … PRIVATE KEY-----', inclusive."
)
MSG_PUTTY = _(
    "This is a PuTTY key (.ppk). In PuTTYgen use Conversions → Export OpenSSH key and paste "
    "the exported file."
)
MSG_CERTIFICATE = _("This is a certificate, not an SSH private key.")
MSG_GARBAGE = _(
    "This is not a private key. Paste an OpenSSH key ('-----BEGIN OPENSSH PRIVATE KEY-----') "
    "or a PEM key ('-----BEGIN RSA PRIVATE KEY-----', '-----BEGIN PRIVATE KEY-----')."
)
MSG_ENCRYPTED = _(
    "This key is protected by a passphrase. Workstations cannot type it: remove the "
    "passphrase (ssh-keygen -p -N '' -f <file>) and paste the key again."
)
MSG_DSA = _("DSA keys are insecure and no longer accepted by OpenSSH. Use ed25519 or RSA.")
MSG_RSA_WEAK = _(
    "This RSA key has %(bits)s bits; at least %(min)s are required. Generate a new key."
)
MSG_RSA_HUGE = _("This RSA key has %(bits)s bits; OpenSSH accepts at most %(max)s.")
MSG_UNSUPPORTED = _(
    "This key type is not supported for ssh. Use ed25519 (recommended) or RSA of at least "
    "2048 bits."
)


@dataclass(frozen=True)
class SshKey:
    """A parsed, accepted private key and what may be shown about it.

    The private text is kept out of ``repr`` so a key never lands in a log line or a
    traceback by way of this object.
    """

    private_openssh: str = field(repr=False)
    ssh_type: str  # the key type as ssh names it: "ssh-ed25519", "ssh-rsa", …
    bits: int
    public_blob: bytes = field(repr=False)

    @property
    def algorithm(self) -> str:
        """The name ``ssh-keygen -l`` prints in brackets: ED25519, RSA, ECDSA."""
        return _ALGORITHM_NAMES.get(self.ssh_type, self.ssh_type.upper())

    @property
    def fingerprint(self) -> str:
        """``SHA256:…`` exactly as ``ssh-keygen -lf`` prints it (unpadded base64)."""
        digest = hashlib.sha256(self.public_blob).digest()
        return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")

    def public_line(self, *, comment: str = "") -> str:
        """The public key as one ``authorized_keys``/``.pub`` line."""
        line = f"{self.ssh_type} {base64.b64encode(self.public_blob).decode('ascii')}"
        return f"{line} {comment}" if comment else line


def key_generate(*, key_type: KeyType = "ed25519") -> str:
    """A new unencrypted private key in the OpenSSH format.

    Unencrypted because the workstation daemon runs unattended; the copy at rest is
    protected by the column encryption instead, and the key's power by the forced command.
    """
    if key_type == "ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    elif key_type == "rsa":
        private = rsa.generate_private_key(public_exponent=65537, key_size=RSA_GENERATED_BITS)
    else:
        raise ValueError(f"unknown key type {key_type!r}; expected one of {KEY_TYPES}")
    return _serialise(private)


def key_load(*, private_key: str) -> SshKey:
    """Parse a pasted private key, refusing anything the workstations could not use.

    Raises ``ValidationError`` with a message that says what was pasted instead and what to
    do, because the person pasting is usually copying files around between servers and
    grabbed the wrong one.
    """
    text = _normalise_text(private_key)
    if not text:
        raise ValidationError(MSG_EMPTY, code="empty")
    if len(text) > MAX_KEY_TEXT_LENGTH:
        raise ValidationError(MSG_TOO_LONG, code="too_long")
    if "PRIVATE KEY-----" not in text:
        _raise_for_not_private(text)
    data = text.encode("ascii", errors="replace")
    try:
        with warnings.catch_warnings():
            # DSA keys load with a deprecation warning; they are refused just below anyway.
            warnings.simplefilter("ignore")
            if "-----BEGIN OPENSSH PRIVATE KEY-----" in text:
                private = serialization.load_ssh_private_key(data, password=None)
            else:
                private = serialization.load_pem_private_key(data, password=None)
    except TypeError as exc:  # cryptography's way of saying "a password is needed"
        raise ValidationError(MSG_ENCRYPTED, code="encrypted") from exc
    except UnsupportedAlgorithm as exc:
        raise ValidationError(MSG_UNSUPPORTED, code="unsupported") from exc
    except ValueError as exc:
        if "ENCRYPTED" in text:
            raise ValidationError(MSG_ENCRYPTED, code="encrypted") from exc
        raise ValidationError(MSG_GARBAGE, code="invalid") from exc
    _check_strength(private)
    return _describe(private)


def authorized_keys_line(
    *, zone: Zone, rsync_path: str = RSYNC_PATH, config_path: str = UPLOAD_CONFIG
) -> str:
    """The line to append to the storage user's ``~/.ssh/authorized_keys`` for ``zone``.

    ``restrict`` turns off pty, port/agent/X11 forwarding and user rc. Whatever the client
    asks to run, sshd runs the forced command: rsync's daemon over ssh (``--server
    --daemon``), reading its one module, write only, from ``config_path``, with the module's
    path set to the zone's PATH_DST (``--dparam``: a default for the module, which sets no
    path of its own). What the module lets a client do, and why, is in that configuration
    (docker/storage/bootstrap.sh writes it). ``umask 027`` because the one directory rsync
    creates outside its file list, the destination ``<workstation>/``, gets the daemon's
    umask rather than the module's ``incoming chmod``. ``env -i``: nothing of the session's
    environment reaches rsync, where an sshd that accepts the client's variables
    (``AcceptEnv``) would otherwise let it send ``RSYNC_NO_XFER_EXEC`` and switch the
    module's pre-transfer check off.

    PATH_DST and the paths go in unquoted: the model's validators hold PATH_DST to a
    character set that needs no quoting, and this function refuses to build the line if
    that ever stops being true.
    """
    path_dst = _command_safe_path(zone.path_dst, what="PATH_DST")
    rsync = _command_safe_path(rsync_path, what="rsync path")
    config = _command_safe_path(config_path, what="rsync module configuration")
    zone_name_validator(zone.name)  # the comment must not be able to break the line
    key = key_load(private_key=zone.ssh_private_key)
    command = (
        f"umask 027; exec /usr/bin/env -i {rsync} --server --daemon --config={config} "
        f"--dparam=path={path_dst} ."
    )
    line = f'restrict,command="{command}" {key.public_line(comment=key_comment(zone=zone))}'
    if "\n" in line or "\r" in line:  # pragma: no cover - guarded by the checks above
        raise ValueError("an authorized_keys line must be one line")
    return line


def key_comment(*, zone: Zone) -> str:
    """The comment that tells a storage server's admin which zone a key line belongs to."""
    return f"opvideo-{zone.name}"


# --- internals ------------------------------------------------------------------------------


def _normalise_text(text: str) -> str:
    """Undo what copy and paste does to a key: CRLF, indentation, trailing blanks."""
    lines = [line.strip() for line in (text or "").strip().splitlines()]
    return "\n".join(lines) + "\n" if lines else ""


def _raise_for_not_private(text: str) -> None:
    if text.startswith("PuTTY-User-Key-File-"):
        raise ValidationError(MSG_PUTTY, code="putty")
    if any(marker in text for marker in _PUBLIC_PEM_MARKERS) or _PUBLIC_KEY_RE.search(text):
        raise ValidationError(MSG_PUBLIC, code="public_key")
    if "-----BEGIN CERTIFICATE-----" in text or "-cert-v01@openssh.com" in text:
        raise ValidationError(MSG_CERTIFICATE, code="certificate")
    raise ValidationError(MSG_GARBAGE, code="invalid")


def _check_strength(private: object) -> None:
    if isinstance(private, rsa.RSAPrivateKey):
        bits = private.key_size
        if bits < RSA_MIN_BITS:
            raise ValidationError(
                MSG_RSA_WEAK, code="too_weak", params={"bits": bits, "min": RSA_MIN_BITS}
            )
        if bits > RSA_MAX_BITS:
            raise ValidationError(
                MSG_RSA_HUGE, code="too_big", params={"bits": bits, "max": RSA_MAX_BITS}
            )
    elif isinstance(private, ed25519.Ed25519PrivateKey):
        pass
    elif isinstance(private, ec.EllipticCurvePrivateKey):
        if private.curve.name not in {"secp256r1", "secp384r1", "secp521r1"}:
            raise ValidationError(MSG_UNSUPPORTED, code="unsupported")
    elif isinstance(private, dsa.DSAPrivateKey):
        raise ValidationError(MSG_DSA, code="dsa")
    else:
        raise ValidationError(MSG_UNSUPPORTED, code="unsupported")


def _serialise(private) -> str:
    return private.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.OpenSSH,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")


def _describe(private) -> SshKey:
    public_line = (
        private.public_key()
        .public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        .decode("ascii")
    )
    ssh_type, blob_b64 = public_line.split()[:2]
    bits = 256 if isinstance(private, ed25519.Ed25519PrivateKey) else private.key_size
    return SshKey(
        private_openssh=_serialise(private),
        ssh_type=ssh_type,
        bits=bits,
        public_blob=base64.b64decode(blob_b64),
    )


def _command_safe_path(value: str, *, what: str) -> str:
    """Return ``value`` if it can stand unquoted in a forced command, else refuse."""
    absolute_path_validator(value)
    path_has_no_dot_segments(value)
    if not _COMMAND_SAFE_PATH.match(value):
        raise ValidationError(
            _("%(what)s %(value)s cannot be put into an ssh forced command."),
            code="unsafe_path",
            params={"what": what, "value": value},
        )
    return value
