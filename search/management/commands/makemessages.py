"""``makemessages`` that also reads the Jinja2 templates (``<app>/jinja2/``).

Django's command reads ``.html`` files as Django templates, and would miss every message of
a Jinja2 one (``{{ _("…") }}``, ``{% trans %}``). Here a Jinja2 template is turned into the
gettext calls it makes, each on its template's line, and handed to xgettext like the
Python code Django makes of its own templates; everything else is Django's command.
"""

from pathlib import Path

from django.core.management.commands import makemessages
from django.template import engines
from jinja2.ext import GETTEXT_FUNCTIONS, extract_from_ast

TEMPLATE_DIR = "jinja2"


def jinja2_messages(source: str) -> list[tuple[int, str, tuple[str, ...]]]:
    """Each gettext call of the Jinja2 template ``source``: (line, function, its literal
    strings). The count and a newstyle call's placeholder values are not literals (Jinja2
    gives None for them) and are left out."""
    environment = engines["jinja2"].env
    found = []
    for lineno, function, message in extract_from_ast(
        environment.parse(source), gettext_functions=GETTEXT_FUNCTIONS
    ):
        strings = message if isinstance(message, tuple) else (message,)
        found.append((lineno, function, tuple(s for s in strings if s)))
    return found


def jinja2_gettext_calls(source: str) -> str:
    """Python source calling gettext/ngettext/pgettext/npgettext with each message of the
    Jinja2 template ``source``, on the template's own line numbers."""
    lines: dict[int, list[str]] = {}
    for lineno, function, strings in jinja2_messages(source):
        # xgettext skips a call with more arguments than it expects: only the literals,
        # and a stand-in count for the plurals.
        name = "gettext" if function == "_" else function
        count = ["n"] if name in ("ngettext", "npgettext") else []
        arguments = ", ".join([*map(repr, strings), *count])
        lines.setdefault(lineno, []).append(f"{name}({arguments})")
    last = max(lines, default=0)
    return "\n".join("; ".join(lines.get(n, [])) for n in range(1, last + 1)) + "\n"


class JinjaAwareBuildFile(makemessages.BuildFile):
    @property
    def is_jinja2(self) -> bool:
        return TEMPLATE_DIR in Path(self.path).parts

    def preprocess(self):
        if not (self.is_templatized and self.is_jinja2):
            return super().preprocess()
        source = Path(self.path).read_text(encoding="utf-8")
        Path(self.work_path).write_text(jinja2_gettext_calls(source), encoding="utf-8")


class Command(makemessages.Command):
    build_file_class = JinjaAwareBuildFile
