"""``python -m client_agent run|once|status|check``: the thin entry point.

Exit status: 0 success; 1 the cycle or a check failed (the reason is printed and logged);
2 the configuration cannot be used (one line says why); 3 another instance is running.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading

EXIT_OK, EXIT_FAILED, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 3

COMMANDS = {
    "run": "the service: a cycle every interval, until stopped",
    "once": "one cycle now; the exit status says whether it succeeded",
    "status": "zone, its settings, recordings waiting and left in place, last success and error",
    "check": "database, zone, key, PATH_SRC, tools and the ssh login to storage",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m client_agent",
        description="OPVideo workstation client: sends finished screen recordings to the "
        "zone's storage server and registers them.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, text in COMMANDS.items():
        commands.add_parser(name, help=text, description=text)
    args = parser.parse_args(argv)

    # The client always runs with its own minimal settings, whatever the shell exported.
    os.environ["DJANGO_SETTINGS_MODULE"] = "client_agent.settings"
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
        from django.conf import settings

        from .conf import agent_config
        from .logs import logs_configure

        config = agent_config()
        logs_configure(
            rsync_log=config.rsync_log, error_log=config.error_log, level=settings.LOG_LEVEL
        )
    except ImproperlyConfigured as exc:
        print(f"opvideo client: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return _COMMANDS[args.command](config)
    except Exception as exc:  # a bug: say so in one line, keep the traceback in the log
        import logging

        from .logs import MAIN_LOGGER

        logging.getLogger(MAIN_LOGGER).exception("%s failed", args.command)
        print(f"opvideo client: {args.command} failed: {exc!r} (see the log)", file=sys.stderr)
        return EXIT_FAILED


def _run(config) -> int:
    from .runner import AlreadyRunning, instance_lock, loop_run, stop_on_signals
    from .services import cycle_run

    stop = threading.Event()
    try:
        with stop_on_signals(stop), instance_lock(path=config.lock_file, mode="run"):
            loop_run(config=config, cycle=lambda: cycle_run(config=config), stop=stop)
    except AlreadyRunning as exc:
        return _locked(exc)
    return EXIT_OK


def _once(config) -> int:
    from .runner import AlreadyRunning, instance_lock, stop_on_signals
    from .services import cycle_run

    stop = threading.Event()
    report = None
    try:
        with stop_on_signals(stop), instance_lock(path=config.lock_file, mode="once"):
            report = cycle_run(config=config)
    except AlreadyRunning as exc:
        return _locked(exc)
    if report is None:
        print("interrupted", file=sys.stderr)
        return EXIT_FAILED
    print(report.summary())
    for error in report.errors:
        print(f"error: {error}")
    return EXIT_OK if report.ok else EXIT_FAILED


def _status(config) -> int:
    from .diagnostics import agent_status

    print(agent_status(config=config).text())
    return EXIT_OK


def _check(config) -> int:
    from .diagnostics import agent_check

    report = agent_check(config=config)
    print(report.text())
    return EXIT_OK if report.ok else EXIT_FAILED


def _locked(exc: Exception) -> int:
    import logging

    from .logs import MAIN_LOGGER

    logging.getLogger(MAIN_LOGGER).warning("%s", exc)
    print(f"opvideo client: {exc}", file=sys.stderr)
    return EXIT_LOCKED


_COMMANDS = {"run": _run, "once": _once, "status": _status, "check": _check}
