"""The client's two log files, as the old client had them and the admins know them.

``op_rsync.log`` gets what ssh and rsync say (the ``client_agent.rsync`` logger),
``videos_error.log`` everything else (``client_agent``). Both are opened with
WatchedFileHandler, so logrotate can move them away without a restart or copytruncate.
A log file that cannot be opened (a manual run as a user who may not write /var/log) falls
back to stderr with one line saying so, rather than the client refusing to work.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from pathlib import Path

RSYNC_LOGGER = "client_agent.rsync"
MAIN_LOGGER = "client_agent"
FORMAT = "%(asctime)s %(levelname)s %(message)s"


def logs_configure(*, rsync_log: Path, error_log: Path, level: str = "INFO") -> None:
    formatter = logging.Formatter(FORMAT)
    for name, path, propagate in (
        (MAIN_LOGGER, error_log, False),
        (RSYNC_LOGGER, rsync_log, False),
    ):
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
            handler.close()
        logger.addHandler(_handler(path=path, formatter=formatter))
        logger.setLevel(level.upper())
        logger.propagate = propagate


def _handler(*, path: Path, formatter: logging.Formatter) -> logging.Handler:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.WatchedFileHandler(path, encoding="utf-8")
    except OSError as exc:
        print(
            f"opvideo client: cannot write {path} ({exc.strerror}); logging to stderr",
            file=sys.stderr,
        )
        handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    return handler
