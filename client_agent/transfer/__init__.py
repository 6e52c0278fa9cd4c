r"""Sending recordings to the zone's storage server with the system's rsync and ssh.

The storage server lets the zone's key do one thing: add plain files under PATH_DST through
rsync's daemon over ssh, a write-only module rooted at PATH_DST (see ``zones.ssh_keys`` and
docker/storage/bootstrap.sh, which writes the module's configuration). Destinations are
therefore ``USER@SERVER::opvideo/<workstation>/``: each workstation writes under its own
directory (so two operators' recordings of one transferred call never collide), the
server gives every file and directory its own fixed mode, and an existing file is never
replaced. The module refuses every option but the ones sent here, and a request without
``--ignore-existing`` (never replace) or ``--omit-dir-times`` (never change a directory's
time).

That rule decides how an interrupted transfer is handled. The module refuses
``--partial-dir`` (moving a partial file into place would be an overwrite), and ``--partial``
would leave a truncated file under the final name, which ``--ignore-existing`` would then
protect forever. So no partial files are kept: rsync writes each file to a hidden temporary
name and renames it only when it is complete, the server side deletes the temporary file
when the connection dies, and an interrupted file is sent again from the start. A file
under its final name on storage is always complete.

Whether a file arrived is not inferred from rsync's exit status: after each transfer a dry
run asks the server, for every file, whether it exists and whether its size and modification
time are the local file's (``--info=skip2``). A file this cycle did not send because its name
already existed on storage (sent by a killed earlier cycle, or by a cloned workstation with
the same host name) is asked about by content instead (``--checksum``): a name and a size
prove nothing about the bytes. Only files reported up to date count as delivered; one
reported as different is a collision that needs a person, and the local file stays.

Names are bytes: a recording may be named in any script. rsync runs with ``LC_ALL=C`` (its
messages are parsed) and would print every non-ASCII byte of a name as a ``\#ooo`` escape;
``--8-bit-output`` makes it print names as they are, and its output is matched against the
names' own bytes (``os.fsencode``), never decoded and compared as text.

The storage server is trusted only if it shows a host key an admin pinned in
``CONFIG.HOST_KEYS`` (``zones.host_keys``): each session writes its own known_hosts from that
column and ssh runs with ``StrictHostKeyChecking=yes``. Nothing is learnt on first use, so a
new or re-imaged workstation that reaches an impostor first sends it nothing (and so never
hears "up to date" from it and deletes nothing); a zone with no pinned key sends nothing.

The private key exists on disk only for the duration of a session: written 0600 into a
fresh 0700 directory under the key directory (a tmpfs, ``/run/opvideo``) and removed in
``finally``, even when the cycle fails. Leftovers of a client that was killed are removed
before the next session starts.
"""

from .link import (
    CHECK_KEY_DIR_PREFIX,
    KEY_DIR_PREFIX,
    HostKeysNotPinned,
    StorageLink,
    host_keys_missing_message,
    key_dirs_clean,
    pinned_host_keys,
)
from .runs import Failure, RsyncRun, Sent, Verification, failure_classify

__all__ = [
    "CHECK_KEY_DIR_PREFIX",
    "KEY_DIR_PREFIX",
    "Failure",
    "HostKeysNotPinned",
    "RsyncRun",
    "Sent",
    "StorageLink",
    "Verification",
    "failure_classify",
    "host_keys_missing_message",
    "key_dirs_clean",
    "pinned_host_keys",
]
