"""The operators' pages are Jinja2 templates: their messages must reach locale/ and come out
Russian. ``make test`` compiles the catalogue before the suite, so this reads the real one."""

from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from search.management.commands.makemessages import jinja2_gettext_calls, jinja2_messages

TEMPLATES = sorted((Path(settings.BASE_DIR) / "search" / "jinja2").rglob("*.html"))


def messages_of(path: Path) -> list[tuple[str, ...]]:
    """Each gettext call of a template as its literal strings (singular, plural)."""
    return [strings for _line, _fn, strings in jinja2_messages(path.read_text(encoding="utf-8"))]


def test_every_operator_template_has_messages():
    assert {p.name for p in TEMPLATES} >= {"base.html", "index.html", "login.html", "video.html"}
    assert all(messages_of(p) for p in TEMPLATES if not p.name.startswith("_"))


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_every_message_of_the_template_is_translated_to_russian(path):
    with translation.override("ru"):
        for strings in messages_of(path):
            if len(strings) == 2:
                translated = translation.ngettext(strings[0], strings[1], 5)
                original = strings[1]
            else:
                translated, original = translation.gettext(strings[0]), strings[0]
            assert translated != original, f"{path.name}: {original!r} has no Russian"


def test_gettext_calls_keep_the_template_line_numbers():
    source = (
        '<h1>{{ _("Find a recording") }}</h1>\n'
        "<p>nothing here</p>\n"
        "{% trans counter=n %}{{ counter }} found{% pluralize %}{{ counter }} all"
        "{% endtrans %}"
        '{{ pgettext("button", "Search") }}\n'
    )
    lines = jinja2_gettext_calls(source).splitlines()
    assert lines[0] == "gettext('Find a recording')"
    assert lines[1] == ""
    # xgettext reads these as Python: a plural needs its count argument, a context its own.
    assert lines[2] == (
        "ngettext('%(counter)s found', '%(counter)s all', n); pgettext('button', 'Search')"
    )
