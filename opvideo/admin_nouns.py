"""The forms of each admin model's name that Django's admin does not have.

Django builds its admin phrases from ``verbose_name`` (nominative) and
``verbose_name_plural`` alone: «Добавить площадка», «0 API-токены». Russian needs the
accusative, counted forms (1 площадка, 3 площадки, 5 площадок) and the gender of the
participle (площадка добавлена, токен добавлен). Each model shown in the admin has its forms
here, as messages of the catalogue, written out literally so that makemessages finds
them: the msgids are the English names with a context naming
the form, so the Russian lives in locale/ru only, and English reads as before.

``gender`` is translated to a code: ``m``, ``f`` or ``n`` (English has no gender; any other
value reads as masculine, whose English phrases are the same anyway).
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import npgettext_lazy
from django.utils.translation import pgettext_lazy as p


@dataclass(frozen=True)
class Noun:
    gender: Promise  # "m", "f" or "n" in the catalogue
    accusative: Promise  # «площадку»: Добавить площадку, Выберите площадку для изменения
    selected: Promise  # «выбранные площадки», «выбранных пользователей» (accusative)
    counted: Promise  # "%(count)s ..." with the three Russian plural forms


NOUNS: dict[str, Noun] = {
    "zones.zone": Noun(
        p("gender", "zone"),
        p("accusative", "zone"),
        p("selected, accusative", "zones"),
        npgettext_lazy("count", "%(count)s zone", "%(count)s zones", "count"),
    ),
    "client_agent.workstation": Noun(
        p("gender", "workstation"),
        p("accusative", "workstation"),
        p("selected, accusative", "workstations"),
        npgettext_lazy("count", "%(count)s workstation", "%(count)s workstations", "count"),
    ),
    "storage.video": Noun(
        p("gender", "recording"),
        p("accusative", "recording"),
        p("selected, accusative", "recordings"),
        npgettext_lazy("count", "%(count)s recording", "%(count)s recordings", "count"),
    ),
    "storage.purgerun": Noun(
        p("gender", "purge run"),
        p("accusative", "purge run"),
        p("selected, accusative", "purge runs"),
        npgettext_lazy("count", "%(count)s purge run", "%(count)s purge runs", "count"),
    ),
    "storage.integrityfinding": Noun(
        p("gender", "integrity finding"),
        p("accusative", "integrity finding"),
        p("selected, accusative", "integrity findings"),
        npgettext_lazy(
            "count", "%(count)s integrity finding", "%(count)s integrity findings", "count"
        ),
    ),
    "search.accessevent": Noun(
        p("gender", "access event"),
        p("accusative", "access event"),
        p("selected, accusative", "access events"),
        npgettext_lazy("count", "%(count)s access event", "%(count)s access events", "count"),
    ),
    "search.apitoken": Noun(
        p("gender", "API token"),
        p("accusative", "API token"),
        p("selected, accusative", "API tokens"),
        npgettext_lazy("count", "%(count)s API token", "%(count)s API tokens", "count"),
    ),
    "auth.user": Noun(
        p("gender", "user"),
        p("accusative", "user"),
        p("selected, accusative", "users"),
        npgettext_lazy("count", "%(count)s user", "%(count)s users", "count"),
    ),
    "auth.group": Noun(
        p("gender", "group"),
        p("accusative", "group"),
        p("selected, accusative", "groups"),
        npgettext_lazy("count", "%(count)s group", "%(count)s groups", "count"),
    ),
    "axes.accessattempt": Noun(
        p("gender", "access attempt"),
        p("accusative", "access attempt"),
        p("selected, accusative", "access attempts"),
        npgettext_lazy("count", "%(count)s access attempt", "%(count)s access attempts", "count"),
    ),
    "axes.accesslog": Noun(
        p("gender", "access log"),
        p("accusative", "access log"),
        p("selected, accusative", "access logs"),
        npgettext_lazy("count", "%(count)s access log", "%(count)s access logs", "count"),
    ),
    "axes.accessfailurelog": Noun(
        p("gender", "access failure"),
        p("accusative", "access failure"),
        p("selected, accusative", "access failures"),
        npgettext_lazy("count", "%(count)s access failure", "%(count)s access failures", "count"),
    ),
    "django_celery_beat.periodictask": Noun(
        p("gender", "periodic task"),
        p("accusative", "periodic task"),
        p("selected, accusative", "periodic tasks"),
        npgettext_lazy("count", "%(count)s periodic task", "%(count)s periodic tasks", "count"),
    ),
    "django_celery_beat.intervalschedule": Noun(
        p("gender", "interval"),
        p("accusative", "interval"),
        p("selected, accusative", "intervals"),
        npgettext_lazy("count", "%(count)s interval", "%(count)s intervals", "count"),
    ),
    "django_celery_beat.crontabschedule": Noun(
        p("gender", "crontab"),
        p("accusative", "crontab"),
        p("selected, accusative", "crontabs"),
        npgettext_lazy("count", "%(count)s crontab", "%(count)s crontabs", "count"),
    ),
    "django_celery_beat.solarschedule": Noun(
        p("gender", "solar event"),
        p("accusative", "solar event"),
        p("selected, accusative", "solar events"),
        npgettext_lazy("count", "%(count)s solar event", "%(count)s solar events", "count"),
    ),
    "django_celery_beat.clockedschedule": Noun(
        p("gender", "clocked"),
        p("accusative", "clocked"),
        p("selected, accusative", "clocked"),
        npgettext_lazy("count", "%(count)s clocked", "%(count)s clocked", "count"),
    ),
}


def noun(opts) -> Noun | None:
    """The forms of the model whose ``_meta`` is ``opts``, or None for a model not listed."""
    return NOUNS.get(opts.label_lower)
