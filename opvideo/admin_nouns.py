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
from django.utils.translation import npgettext_lazy, pgettext_lazy


@dataclass(frozen=True)
class Noun:
    gender: Promise  # "m", "f" or "n" in the catalogue
    accusative: Promise  # «площадку»: Добавить площадку, Выберите площадку для изменения
    selected: Promise  # «выбранные площадки», «выбранных пользователей» (accusative)
    counted: Promise  # "%(count)s ..." with the three Russian plural forms


NOUNS: dict[str, Noun] = {
    "zones.zone": Noun(
        pgettext_lazy("gender", "zone"),
        pgettext_lazy("accusative", "zone"),
        pgettext_lazy("selected, accusative", "selected zones"),
        npgettext_lazy("count", "%(count)s zone", "%(count)s zones", "count"),
    ),
    "client_agent.workstation": Noun(
        pgettext_lazy("gender", "workstation"),
        pgettext_lazy("accusative", "workstation"),
        pgettext_lazy("selected, accusative", "selected workstations"),
        npgettext_lazy("count", "%(count)s workstation", "%(count)s workstations", "count"),
    ),
    "storage.video": Noun(
        pgettext_lazy("gender", "recording"),
        pgettext_lazy("accusative", "recording"),
        pgettext_lazy("selected, accusative", "selected recordings"),
        npgettext_lazy("count", "%(count)s recording", "%(count)s recordings", "count"),
    ),
    "storage.purgerun": Noun(
        pgettext_lazy("gender", "purge run"),
        pgettext_lazy("accusative", "purge run"),
        pgettext_lazy("selected, accusative", "selected purge runs"),
        npgettext_lazy("count", "%(count)s purge run", "%(count)s purge runs", "count"),
    ),
    "storage.integrityfinding": Noun(
        pgettext_lazy("gender", "integrity finding"),
        pgettext_lazy("accusative", "integrity finding"),
        pgettext_lazy("selected, accusative", "selected integrity findings"),
        npgettext_lazy(
            "count", "%(count)s integrity finding", "%(count)s integrity findings", "count"
        ),
    ),
    "search.accessevent": Noun(
        pgettext_lazy("gender", "access event"),
        pgettext_lazy("accusative", "access event"),
        pgettext_lazy("selected, accusative", "selected access events"),
        npgettext_lazy("count", "%(count)s access event", "%(count)s access events", "count"),
    ),
    "search.apitoken": Noun(
        pgettext_lazy("gender", "API token"),
        pgettext_lazy("accusative", "API token"),
        pgettext_lazy("selected, accusative", "selected API tokens"),
        npgettext_lazy("count", "%(count)s API token", "%(count)s API tokens", "count"),
    ),
    "auth.user": Noun(
        pgettext_lazy("gender", "user"),
        pgettext_lazy("accusative", "user"),
        pgettext_lazy("selected, accusative", "selected users"),
        npgettext_lazy("count", "%(count)s user", "%(count)s users", "count"),
    ),
    "auth.group": Noun(
        pgettext_lazy("gender", "group"),
        pgettext_lazy("accusative", "group"),
        pgettext_lazy("selected, accusative", "selected groups"),
        npgettext_lazy("count", "%(count)s group", "%(count)s groups", "count"),
    ),
    "axes.accessattempt": Noun(
        pgettext_lazy("gender", "access attempt"),
        pgettext_lazy("accusative", "access attempt"),
        pgettext_lazy("selected, accusative", "selected access attempts"),
        npgettext_lazy("count", "%(count)s access attempt", "%(count)s access attempts", "count"),
    ),
    "axes.accesslog": Noun(
        pgettext_lazy("gender", "access log"),
        pgettext_lazy("accusative", "access log"),
        pgettext_lazy("selected, accusative", "selected access logs"),
        npgettext_lazy("count", "%(count)s access log", "%(count)s access logs", "count"),
    ),
    "axes.accessfailurelog": Noun(
        pgettext_lazy("gender", "access failure"),
        pgettext_lazy("accusative", "access failure"),
        pgettext_lazy("selected, accusative", "selected access failures"),
        npgettext_lazy("count", "%(count)s access failure", "%(count)s access failures", "count"),
    ),
    "django_celery_beat.periodictask": Noun(
        pgettext_lazy("gender", "periodic task"),
        pgettext_lazy("accusative", "periodic task"),
        pgettext_lazy("selected, accusative", "selected periodic tasks"),
        npgettext_lazy("count", "%(count)s periodic task", "%(count)s periodic tasks", "count"),
    ),
    "django_celery_beat.intervalschedule": Noun(
        pgettext_lazy("gender", "interval"),
        pgettext_lazy("accusative", "interval"),
        pgettext_lazy("selected, accusative", "selected intervals"),
        npgettext_lazy("count", "%(count)s interval", "%(count)s intervals", "count"),
    ),
    "django_celery_beat.crontabschedule": Noun(
        pgettext_lazy("gender", "crontab"),
        pgettext_lazy("accusative", "crontab"),
        pgettext_lazy("selected, accusative", "selected crontabs"),
        npgettext_lazy("count", "%(count)s crontab", "%(count)s crontabs", "count"),
    ),
    "django_celery_beat.solarschedule": Noun(
        pgettext_lazy("gender", "solar event"),
        pgettext_lazy("accusative", "solar event"),
        pgettext_lazy("selected, accusative", "selected solar events"),
        npgettext_lazy("count", "%(count)s solar event", "%(count)s solar events", "count"),
    ),
    "django_celery_beat.clockedschedule": Noun(
        pgettext_lazy("gender", "clocked"),
        pgettext_lazy("accusative", "clocked"),
        pgettext_lazy("selected, accusative", "selected clocked"),
        npgettext_lazy("count", "%(count)s clocked", "%(count)s clocked", "count"),
    ),
}


def noun(opts) -> Noun | None:
    """The forms of the model whose ``_meta`` is ``opts``, or None for a model not listed."""
    return NOUNS.get(opts.label_lower)
