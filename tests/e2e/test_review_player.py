"""End to end: a QA reviewer opens a transferred call's first part in headless Chromium,
plays it from the zone's real nginx, drives the player with its buttons and keys, writes a
note at a moment, lets it run on into the second part, and comes back by a moment link.
The audit must hold one view per opened or played recording and none for the part never
played; screenshots of the page at three widths must show no sideways scrolling."""

import pytest
from django.contrib.auth.models import User

from search.models import AccessEvent
from storage.models import VideoNote
from tests.e2e.admin_pages import ARTIFACTS, WIDTHS, page_fits
from tests.e2e.review_call import (
    FIRST_NAME,
    SECOND_NAME,
    outside_the_browser,
    reviewer_page,
    sign_in,
    time_of,
    views_of,
    wait_time,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_reviewer_plays_a_call_through_with_keys_notes_and_moment_links(call, live_server):
    first, second, other = call["first"], call["second"], call["other"]
    base = live_server.url
    with reviewer_page() as (page, script_errors):
        sign_in(page, base, f"/videos/{first.pk}/")

        # What the call was, its parts, this one current; the poster before playing.
        assert page.title().startswith("Звонок 27.11.2026, 14:02 · op101")
        assert page.inner_text(".reviewer-label") == "Часть 1 из 2 · op101 · 27.11.2026 14:02:40"
        current = page.locator(".reviewer-parts button[aria-current=true]")
        assert current.inner_text() == "Часть 1 из 2 · op101 · 27.11.2026 14:02:40"
        poster = page.get_attribute("#reviewer-video", "poster")
        assert poster.startswith(f"http://127.0.0.1:{call['port']}/.previews/op101/")
        assert views_of(first) == 1 and views_of(second) == 0  # opening the page is a view

        # Thumbnails while scrubbing: the sprite's tile for the moment under the pointer.
        page.wait_for_function("() => document.getElementById('reviewer-video').duration > 0")
        bar = page.locator(".reviewer-bar").bounding_box()
        page.mouse.move(bar["x"] + bar["width"] * 0.5 + 1, bar["y"] + bar["height"] / 2)
        thumb = page.locator(".reviewer-thumb-image")
        geometry = first.preview
        tile = int(6 // geometry["interval"])  # the tile of 6 s, the middle of 12
        assert thumb.get_attribute("data-tile") == str(tile)
        position = thumb.evaluate("e => getComputedStyle(e).backgroundPosition")
        x = -(tile % geometry["columns"]) * geometry["tile_width"]
        y = -(tile // geometry["columns"]) * geometry["tile_height"]
        assert position == f"{x}px {y}px"
        assert thumb.evaluate("e => getComputedStyle(e).backgroundImage").startswith(
            f'url("http://127.0.0.1:{call["port"]}/.previews/op101/'
        )
        assert page.inner_text(".reviewer-thumb-time") == "0:06"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "review-thumbnail-1366.png"))
        page.mouse.move(bar["x"], bar["y"] + 200)

        # Speed, remembered; play; skip buttons; keys.
        page.select_option("[data-speed]", "1.5")
        assert page.evaluate("() => document.getElementById('reviewer-video').playbackRate") == 1.5
        page.click(".reviewer-play")
        wait_time(page, "t > 0.3")
        page.keyboard.press("k")
        page.wait_for_function("() => document.getElementById('reviewer-video').paused")
        page.keyboard.press("Digit0")
        wait_time(page, "t < 0.05")
        page.click("[data-skip='5']")
        wait_time(page, "Math.abs(t - 5) < 0.1")
        page.keyboard.press("l")
        wait_time(page, "t > 11.5")  # +10 s stops at the end
        page.keyboard.press("j")
        wait_time(page, "t < 2")
        page.keyboard.press("ArrowRight")
        wait_time(page, "t > 6.5 && t < 7.1")
        page.keyboard.press("ArrowLeft")
        page.click("[data-skip='-10']")
        wait_time(page, "t < 0.05")
        page.keyboard.press("5")
        wait_time(page, "Math.abs(t - 6) < 0.1")
        before = time_of(page)
        page.keyboard.press(".")
        wait_time(page, f"t > {before + 0.01}")
        page.keyboard.press("Digit5")
        wait_time(page, "Math.abs(t - 6) < 0.1")

        # The link to this moment, and copying it.
        assert page.input_value("#reviewer-link") == f"{base}/videos/{first.pk}/?t=6"
        page.click("[data-action='copy']")
        page.wait_for_function(
            "() => document.querySelector('.reviewer-copy-status').textContent.length > 0"
        )

        # A note at this moment: listed, with its mark on the bar; clicking it seeks there.
        page.click(".note-form textarea")
        assert page.input_value(".note-form [name=at]") == "0:06"
        page.keyboard.press("l")  # typed into the note, not a key of the player
        assert abs(time_of(page) - 6) < 0.1
        page.fill(".note-form textarea", "Оператор не представился")
        page.click(".note-form button[type=submit]")
        page.wait_for_selector(".notes-list .note")
        note = outside_the_browser(VideoNote.objects.get)
        assert (note.video_id, note.text, round(note.at_seconds)) == (
            first.pk,
            "Оператор не представился",
            6,
        )
        assert page.inner_text(".notes-list .note-time") == "0:06"
        assert page.locator(".reviewer-mark").count() == 1
        added = outside_the_browser(
            lambda: AccessEvent.objects.filter(action="note_add", video_id=first.pk).count()
        )
        assert added == 1
        page.keyboard.press("Digit0")
        wait_time(page, "t < 0.05")
        page.click(".notes-list .note-time")
        wait_time(page, "Math.abs(t - 6) < 0.1")
        assert page.url.endswith(f"/videos/{first.pk}/")  # seeking, not following the link

        # Run on into the second part: it is asked for (and audited) only now.
        assert views_of(second) == 0
        page.evaluate(
            "() => document.addEventListener('opvideo:part',"
            " e => { window.partEvents = [...(window.partEvents || []), e.detail]; })"
        )
        page.keyboard.press("Digit9")
        page.locator(".reviewer-bar").focus()
        page.keyboard.press("Space")
        page.wait_for_function(
            "() => document.querySelector('.reviewer-label').textContent"
            ".startsWith('Часть 2 из 2')",
            timeout=20_000,
        )
        page.wait_for_function(
            "() => { const v = document.getElementById('reviewer-video');"
            " return v.currentSrc.includes('14-09-00') && v.currentTime > 0.3; }",
            timeout=20_000,
        )
        assert page.evaluate("() => document.getElementById('reviewer-video').playbackRate") == 1.5
        assert (
            page.locator(".reviewer-parts button[aria-current=true]")
            .inner_text()
            .startswith("Часть 2 из 2")
        )
        assert page.locator(".notes-list .note").count() == 0  # the second part's notes
        assert page.evaluate("() => window.partEvents") == [{"index": 1, "id": second.pk}]
        assert page.evaluate("() => window.opvideoReviewer.index") == 1
        assert views_of(second) == 1

        # Back by the moment link: the page seeks there, the speed is remembered.
        page.goto(f"{base}/videos/{first.pk}/?t=6")
        wait_time(page, "Math.abs(t - 6) < 0.2")
        assert page.input_value("[data-speed]") == "1.5"
        assert page.locator(".notes-list .note").count() == 1
        page.click(".notes-list .note-time")
        wait_time(page, "Math.abs(t - 6) < 0.2")

        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{base}/videos/{first.pk}/?t=6")
            page.wait_for_function(
                "() => document.getElementById('reviewer-video').readyState >= 2"
            )
            page_fits(page, name="video-page", width=width)
            buttons = page.locator(".reviewer-controls button")
            for i in range(buttons.count()):
                box = buttons.nth(i).bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= width, (width, i)
        assert script_errors == []

    assert views_of(first) == 2 + len(WIDTHS)  # each opening of its page
    assert views_of(second) == 1  # played once
    assert views_of(other) == 0  # never opened nor played
    served = {e["uri"] for e in call["nginx"].log_entries() if e["status"] in (200, 206)}
    assert served >= {f"/{FIRST_NAME}", f"/{SECOND_NAME}"}
    # The poster and the sprite came from the zone's nginx, through their signed links.
    assert {f"/.previews/{FIRST_NAME}/poster.jpg", f"/.previews/{FIRST_NAME}/sprite.jpg"} <= served


def test_qa_places_and_lifts_a_hold_with_reason_and_confirmation(call, live_server, settings):
    first = call["first"]

    def make_qa():
        from django.contrib.auth.models import Group

        user = User.objects.get(username="reviewer")
        user.groups.add(Group.objects.create(name=settings.OPVIDEO_HOLD_GROUP))

    make_qa()
    with reviewer_page(width=390, height=900) as (page, errors):
        sign_in(page, live_server.url, f"/videos/{first.pk}/")
        page.fill(".hold-card input[name=reason]", "Жалоба клиента № 17")
        page.click(".hold-card button[type=submit]")
        page.wait_for_selector(".hold-lift")
        assert "Жалоба клиента № 17" in page.inner_text(".hold-card")
        assert "reviewer" in page.inner_text(".hold-card dl")

        # The browser will not send a lift without the confirmation (nor would the server).
        page.fill(".hold-lift input[name=reason]", "Претензия отозвана")
        page.click(".hold-lift button[type=submit]")
        assert page.locator(".hold-lift").count() == 1
        page.check(".hold-lift input[name=confirm]")
        page.locator(".hold-card").scroll_into_view_if_needed()
        page_fits(page, name="video-page-hold", width=390)
        page.click(".hold-lift button[type=submit]")
        page.wait_for_selector(".hold-card:not(:has(.hold-lift))")
        trail = page.inner_text(".hold-trail")
        assert trail.index("снято") < trail.index("установлено")
        assert "Претензия отозвана" in trail and "Жалоба клиента № 17" in trail
        assert errors == []

    held = outside_the_browser(
        lambda: list(
            AccessEvent.objects.filter(video_id=first.pk, action__startswith="hold")
            .order_by("id")
            .values_list("action", "detail")
        )
    )
    assert held == [("hold_place", "Жалоба клиента № 17"), ("hold_lift", "Претензия отозвана")]
