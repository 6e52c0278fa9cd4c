"""Every admin page in Russian, in Chromium, as a new admin sees it: no English left, and
Django's phrases built from a model's name agreeing in case, gender and number.

A page fails on a word in Latin letters outside ALLOWED and outside the data the test put
in the database (zone names, host names, paths are Latin by nature). Walked: the index, each
section's page, and for each model the admin shows: its list (with rows), the add form, a
row's page, its delete confirmation and its history; plus a list drilled down to a day.
"""

import re
from datetime import date, timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from client_agent.models import Workstation
from search.actors import Actor
from search.models import AccessEvent
from search.services import api_token_issue
from storage.models import IntegrityFinding, PurgeRun
from tests.e2e.admin_pages import (
    ARTIFACTS,
    OVERFLOW,
    PASSWORD,
    WIDTHS,
    admin_sign_in,
    page_fits,
)
from tests.factories import make_video, make_zone
from tests.services.browser import chromium

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Latin words an admin page may show, each for a reason:
ALLOWED = {
    "OPVideo",  # the product's name
    "API",  # «API-токены»: the term the integrators use
    "ID",  # Django's «ID» column of a few lists, and «ID» of an object
    "IP",  # «IP-адрес»: the usual Russian term
    "SSH",  # the protocol the zone's worker uses
    "SHA",  # «SHA-256» of a recording's contents
    "URL",
    "RSA",  # the kind of SSH key a zone can be given
    "nginx",  # the video server
    "rsync",  # what the workstations copy recordings with
    "cron",  # «расписание cron»: the Unix tool's name
    "m",  # a cron schedule's fields, as the task schedule names them: (m/h/dM/MY/d)
    "h",
    "dM",
    "MY",
    "d",
    "UTC",  # the time zone, by its name
    "JSON",  # the format the task schedule's arguments are written in
    "Celery",  # the task queue's name, and the two brokers it can use
    "AMQP",
    "RabbitMQ",
    "Redis",
    "CSV",  # the audit's export format
    "LDAP",  # the directory, as Django's help on passwords names it
    "Ctrl",  # the keys to hold for a multiple choice, as printed on them
    "Mac",
    "Cmd",
}
# The zone's page explains the file name pattern by its groups' names and the video server's
# address by its scheme; the storage server's commands run as root.
ZONE_PAGE = {"date", "time", "operator", "http", "https", "root"}
PAGE_ALLOWED = {"zones_zone-add": ZONE_PAGE, "zones_zone-change": ZONE_PAGE}

# Not read: code (commands, configuration lines, key lines) and the time zone and task
# pickers, whose options are identifiers (Europe/Moscow, search.directory_sync).
_HIDE_CODE = (
    "code, pre, kbd, samp, bdi, select[name=timezone], select[name=regtask]"
    " { display: none !important; }"
)

# The bad phrases of issue 16 (regular expressions), none of which may come back.
BAD_PHRASES = (
    "Изменить площадка",
    "Добавить площадка",
    "Выберите площадка",
    "был успешно добавлен",
    "Выбрать все журнал доступа",
    r"\d API-токены",
    "Выберите Запись",
    r"\d Ноябрь",
    "Логи доступа",
    "Площадки \u203a Площадки",
    "Записи \u203a Записи",
    "Изменено Retention",
)

LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
# A run of Latin letters, digits and the characters of paths, options and identifiers.
LATIN_TOKEN = re.compile(r"[A-Za-z0-9_./:@-]*[A-Za-z][A-Za-z0-9_./:@-]*")


def _words(text: str) -> set[str]:
    """The Latin words of a page, code left out: a file name, a path, an option, a command,
    an identifier (authorized_keys, /srv/video, --bwlimit, ssh-keygen, session_id)."""
    words = set()
    for token in LATIN_TOKEN.findall(text):
        if token.startswith(("-", ".")):  # an option (--bwlimit), an extension (.pub)
            continue
        token = token.strip(".:-")  # the end of a sentence, «API-токены»
        if re.search(r"[_./@:0-9]|[A-Za-z]-[A-Za-z]", token):
            continue
        words |= {w.lower() for w in LATIN_WORD.findall(token)}
    return words


def _data_words() -> set[str]:
    """Every Latin word stored in the rows the admin shows: their data, not its wording."""
    words = set()
    for model in admin.site._registry:
        for obj in model._default_manager.all():
            for field in obj._meta.concrete_fields:
                value = getattr(obj, field.attname)
                # A code (the page must show its label, in Russian), or a value with no words
                # of data: its "None", "True" or "False" must not become allowed words.
                if field.choices or value is None or isinstance(value, bool):
                    continue
                words |= set(LATIN_WORD.findall(str(value)))
    return words


def _fill_every_model(superuser) -> None:
    zone = make_zone(name="kursk", server="storage.kursk.example.ru")
    video = make_video(zone=zone, recording_date=date(2026, 11, 30))
    make_video(zone=zone, recording_date=date(2026, 11, 29))
    now = timezone.now()
    PurgeRun.objects.create(
        zone=zone,
        zone_name=zone.name,
        trigger="schedule",
        status="finished",
        today=now.date(),
        started_at=now,
    )
    IntegrityFinding.objects.create(
        video=video, zone=zone, zone_name=zone.name, found_at=now, kind="missing"
    )
    AccessEvent.objects.create(
        user=superuser, username=superuser.username, action="view", video=video
    )
    api_token_issue(
        user=superuser, label="Выгрузка для отдела качества", actor=Actor(user=superuser)
    )
    Workstation.objects.create(host="op101", zone_name=zone.name, zone=zone, last_seen=now)
    Group.objects.create(name="Контроль качества")
    AccessAttempt.objects.create(
        username="ivanov", ip_address="10.0.0.7", user_agent="Chromium", failures_since_start=2
    )
    AccessLog.objects.create(username="ivanov", ip_address="10.0.0.7", user_agent="Chromium")
    AccessFailureLog.objects.create(username="ivanov", ip_address="10.0.0.7", user_agent="Chromium")
    every = IntervalSchedule.objects.create(every=10, period=IntervalSchedule.MINUTES)
    CrontabSchedule.objects.create(minute="30", hour="2")
    SolarSchedule.objects.create(event="sunrise", latitude=51.73, longitude=36.19)
    ClockedSchedule.objects.create(clocked_time=now + timedelta(days=1))
    PeriodicTask.objects.create(name="Проверка", task="opvideo.noop", interval=every)


def _pages(base: str) -> list[tuple[str, str]]:
    """(name, address) of every admin page to walk; the ORM is read here, not in the browser."""
    pages = [("index", reverse("admin:index"))]
    for label in sorted({m._meta.app_label for m in admin.site._registry}):
        pages.append((f"app-{label}", reverse("admin:app_list", args=[label])))
    for model in admin.site._registry:
        opts = model._meta
        name = f"{opts.app_label}_{opts.model_name}"
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"no {name} row to show"
        pages.append((f"{name}-list", reverse(f"admin:{name}_changelist")))
        pages.append((f"{name}-add", reverse(f"admin:{name}_add")))
        pages.append((f"{name}-change", reverse(f"admin:{name}_change", args=[obj.pk])))
        pages.append((f"{name}-delete", reverse(f"admin:{name}_delete", args=[obj.pk])))
        pages.append((f"{name}-history", reverse(f"admin:{name}_history", args=[obj.pk])))
    pages.append(
        (
            "storage_video-day",
            reverse("admin:storage_video_changelist")
            + "?recording_date__day=30&recording_date__month=11&recording_date__year=2026",
        )
    )
    pages.append(
        (
            "storage_video-month",
            reverse("admin:storage_video_changelist")
            + "?recording_date__month=11&recording_date__year=2026",
        )
    )
    return [(name, base + url) for name, url in pages]


def test_every_admin_page_reads_in_russian(live_server):
    superuser = get_user_model().objects.create_superuser("admin", "admin@example.ru", PASSWORD)
    _fill_every_model(superuser)
    # Compared in lower case: innerText follows the CSS (headers and the user's name are shown
    # in capitals).
    with chromium(locale="ru-RU") as browser:  # a first sign-in: its log row is data too
        admin_sign_in(browser.new_page(), base_url=live_server.url)
    allowed = {w.lower() for w in ALLOWED | _data_words()}
    pages = _pages(live_server.url)
    texts = ARTIFACTS / "admin-text"  # each page's text, for a person to read
    texts.mkdir(parents=True, exist_ok=True)
    english: dict[str, set[str]] = {}
    bad: dict[str, list[str]] = {}
    wide: dict[str, int] = {}  # pages wider than 1366 px, by how much
    with chromium(locale="ru-RU", viewport={"width": 1366, "height": 900}) as browser:
        page = browser.new_page()
        admin_sign_in(page, base_url=live_server.url)
        for name, url in pages:
            response = page.goto(url)
            if response.status in (403, 404):  # a page the admin does not offer (read-only)
                continue
            assert response.status == 200, (name, response.status)
            overflow = page.evaluate(OVERFLOW)
            if overflow > 0:
                wide[name] = overflow
            page.add_style_tag(content=_HIDE_CODE)
            text = page.inner_text("body")
            (texts / f"{name}.txt").write_text(text, encoding="utf-8")
            words = _words(text) - allowed - PAGE_ALLOWED.get(name, set())
            if words:
                english[name] = words
            found = [phrase for phrase in BAD_PHRASES if re.search(phrase, text)]
            if found:
                bad[name] = found
        # The index and a list, at a phone's, a tablet's and a desktop's width, for a person
        # to look at (every page's fit at each width: test_admin_widths).
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(dict(pages)["index"])
            page_fits(page, name="admin-russian-index", width=width)
            page.goto(dict(pages)["zones_zone-list"])
            page_fits(page, name="admin-russian-zone-list", width=width)
    assert english == {}, "\n".join(f"{k}: {sorted(v)}" for k, v in english.items())
    assert wide == {}, wide
    assert bad == {}, bad
