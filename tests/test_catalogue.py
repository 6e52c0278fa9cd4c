"""The Russian catalogue is complete: every message translated, none fuzzy, the file valid
for GNU gettext (msgfmt -c), and the admin's noun forms usable (opvideo.admin_nouns)."""

import re
import subprocess

import pytest
from django.utils import translation

from opvideo.admin_nouns import NOUNS
from tests.helpers import REPO

CYRILLIC = "[\u0430-\u044f\u0451]"  # a lower-case Russian letter
CATALOGUE = REPO / "locale" / "ru" / "LC_MESSAGES" / "django.po"


def test_msgfmt_finds_every_message_translated_and_none_fuzzy(tmp_path):
    result = subprocess.run(
        ["msgfmt", "-c", "--statistics", "-o", str(tmp_path / "django.mo"), str(CATALOGUE)],
        capture_output=True,
        text=True,
        env={"LC_ALL": "C"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    statistics = result.stderr.strip().splitlines()[-1]
    # "N translated messages." alone; msgfmt adds ", N fuzzy translations" and
    # ", N untranslated messages" when there are any.
    assert re.fullmatch(r"\d+ translated messages?\.", statistics), statistics


def _entries(text: str):
    """(flags, msgid, msgstrs) of each entry of a .po file, the header left out."""
    for block in re.split(r"\n\s*\n", text):
        lines = [line for line in block.splitlines() if line.strip()]
        flags = " ".join(line for line in lines if line.startswith("#,"))
        fields: dict[str, str] = {}
        key = None
        for line in lines:
            if line.startswith("#"):
                continue
            match = re.match(r'(msgctxt|msgid_plural|msgid|msgstr(?:\[\d\])?) "(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif key and line.startswith('"'):
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            yield flags, fields["msgid"], [v for k, v in fields.items() if k.startswith("msgstr")]


def test_no_entry_is_fuzzy_or_empty():
    problems = [
        msgid
        for flags, msgid, msgstrs in _entries(CATALOGUE.read_text(encoding="utf-8"))
        if "fuzzy" in flags or not msgstrs or not all(msgstrs)
    ]
    assert problems == []


@pytest.mark.parametrize("label", sorted(NOUNS))
def test_each_admin_noun_has_its_russian_forms(label):
    forms = NOUNS[label]
    with translation.override("ru"):
        assert str(forms.gender) in {"m", "f", "n"}, label
        assert re.search(CYRILLIC, str(forms.accusative)), label
        assert re.search(CYRILLIC, str(forms.selected)), label
        counted = [forms.counted % {"count": n} for n in (1, 2, 5)]
    assert all(re.search(CYRILLIC, c) for c in counted), counted
    assert len(set(counted)) == 3, counted  # 1 площадка, 2 площадки, 5 площадок


def test_every_model_in_the_admin_has_its_russian_forms():
    """A model newly registered in the admin needs its forms in opvideo/admin_nouns.py, or
    its titles and messages fall back to Django's («Добавить площадка»)."""
    from django.contrib import admin

    missing = sorted(m._meta.label_lower for m in admin.site._registry)
    missing = [label for label in missing if label not in NOUNS]
    assert missing == []
