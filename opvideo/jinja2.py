"""The Jinja2 environment of the operators' pages (search/jinja2/).

The search page is the hot path: rendered by Django's template language it took about a
third of the page's CPU (profiled, ~2.5 ms); Jinja2 compiles templates to Python and
renders the same page in well under half of that. The admin keeps Django's templates.

What the pages used from Django's template language is given here under the same names:
``url`` and ``static``, Django's ``date`` and ``filesizeformat`` filters (localised, unlike
Jinja2's own ``filesizeformat``), and Django's gettext for ``_()`` and ``{% trans %}``, so
the messages and their Russian translations are the ones of locale/ (``make messages``
extracts them, see search/management/commands/makemessages.py). Autoescaping is on (the
Jinja2 backend's default) and ``csrf_input`` comes from the backend itself.
"""

from datetime import datetime

from django.template.defaultfilters import date, filesizeformat
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from jinja2 import Environment


def url(name: str, *args, **kwargs) -> str:
    """``{{ url('search:video', video.pk) }}``: Django's ``{% url %}``."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def local_date(value, arg=None) -> str:
    """Django's ``date`` filter, in TIME_ZONE: Django's own template language converts an
    aware datetime to local time before the filter sees it; Jinja2 does not."""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date(value, arg)


def environment(**options) -> Environment:
    # Always escaped, whatever OPTIONS say (the backend's default is on, too).
    options.pop("autoescape", None)
    env = Environment(autoescape=True, extensions=["jinja2.ext.i18n"], **options)
    # newstyle: ``_()`` and ``{% trans %}`` escape the values put into a message, and a
    # message is looked up once, with its placeholders, as Django's blocktranslate does.
    env.install_gettext_callables(
        translation.gettext,
        translation.ngettext,
        newstyle=True,
        pgettext=translation.pgettext,
        npgettext=translation.npgettext,
    )
    env.globals.update(url=url, static=static)
    env.filters.update(date=local_date, filesizeformat=filesizeformat)
    return env
