"""End to end, as a QA reviewer works: paste a call's session id (in another case) into the
search, see its parts in a table, play the first, let it run on into the second, write a
note at a moment there, and come back to that moment by its link. Listing hands out no link
and no view; each part played is one view. On a page of several calls the player stops at
the end of a call: the next row is another call nobody chose to watch. The recordings'
start times, lengths and previews come from the zone worker's real media read
(tests/e2e/review_call.py)."""

import pytest

from search.models import AccessEvent
from storage.models import VideoNote
from tests.e2e.admin_pages import WIDTHS, page_fits
from tests.e2e.review_call import (
    CALL,
    PASSWORD,
    outside_the_browser,
    reviewer_page,
    sign_in,
    wait_time,
)

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def views() -> dict[int, int]:
    def read():
        rows = AccessEvent.objects.filter(action="view").values_list("video_id", flat=True)
        counts: dict[int, int] = {}
        for video_id in rows:
            counts[video_id] = counts.get(video_id, 0) + 1
        return counts

    return outside_the_browser(read)


def test_a_reviewer_finds_a_call_plays_it_through_and_notes_a_moment(call, live_server):
    first, second, other = call["first"], call["second"], call["other"]
    base = live_server.url
    with reviewer_page() as (page, errors):
        page.goto(f"{base}/")
        page.fill("input[name=username]", "reviewer")
        page.fill("input[name=password]", PASSWORD)
        page.click("main form button[type=submit]")

        # Pasted upper-case, as some CRM cards show it: found all the same.
        page.fill("input[name=session]", f"  {CALL.upper()} ")
        page.press("input[name=session]", "Enter")
        page.wait_for_selector("table.results-table")
        rows = page.locator("table.results-table tbody tr")
        assert rows.count() == 2
        first_row = rows.nth(0).inner_text()
        assert "27.11.2026 14:02:40" in first_row and "op101" in first_row and "0:12" in first_row
        assert "14:09:00" in rows.nth(1).inner_text()  # the later part second
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page_fits(page, name="review-search", width=width)
        page.set_viewport_size({"width": 1366, "height": 1000})
        # The first part's poster is shown before anything plays; listing is no view.
        poster = page.get_attribute("#reviewer-video", "poster")
        assert poster and "/.previews/" in poster
        assert views() == {}

        page.click('button.play[data-part-index="0"]')
        wait_time(page, "t > 0.3")
        assert views() == {first.pk: 1}
        # Near its end it runs on into the second part, which is asked for only now.
        page.evaluate("() => { const v = document.getElementById('reviewer-video');"
                      " v.currentTime = v.duration - 0.4; }")  # fmt: skip
        page.wait_for_function(
            "() => document.getElementById('reviewer-video').currentSrc.includes('14-09-00')",
            timeout=20_000,
        )
        wait_time(page, "t > 1.5")  # a whole second in: the moment link names it
        page.wait_for_selector('tr[data-part-index="1"][aria-current=true]')
        page.keyboard.press("k")  # pause, from the keyboard
        page.wait_for_function("() => document.getElementById('reviewer-video').paused")

        # A note at this moment of the second part.
        page.click(".note-form textarea")
        moment = page.input_value(".note-form [name=at]")
        page.fill(".note-form textarea", "Клиента переключили, вопрос повторён")
        page.click(".note-form button[type=submit]")
        page.wait_for_selector(".notes-list .note")
        note = outside_the_browser(VideoNote.objects.get)
        assert note.video_id == second.pk and note.author_name == "reviewer"
        assert page.inner_text(".notes-list .note-time") == moment
        # Styled as a note of the player's list, not as the search page's prefix notice
        # (both style sheets are on this page).
        look = page.eval_on_selector(
            ".notes-list .note",
            "e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).borderLeftStyle]",
        )
        assert look == ["rgba(0, 0, 0, 0)", "solid"], look

        # Its link to the moment brings a colleague there.
        link = page.input_value("#reviewer-link")
        assert link.startswith(f"{base}/videos/{second.pk}/?t=")
        seconds = float(link.rsplit("=", 1)[1])
        page.goto(link)
        wait_time(page, f"Math.abs(t - {seconds}) < 0.2")
        assert page.locator(".notes-list .note").count() == 1
        assert errors == []

    # One view per part played, one for opening the second's page; none for the other call.
    assert views() == {first.pk: 1, second.pk: 2}
    assert other.pk not in views()
    searches = outside_the_browser(
        lambda: list(
            AccessEvent.objects.filter(action="search").values_list("result_count", flat=True)
        )
    )
    assert searches == [2]


VIDEO = "document.getElementById('reviewer-video')"
PROJECT = "corebo00000000000ng9hgl5vhtinhmo"  # every recording of the `call` fixture's


def test_the_search_pages_player_stops_at_the_end_of_a_call(call, live_server):
    first, second, other = call["first"], call["second"], call["other"]
    base = live_server.url
    with reviewer_page() as (page, errors):
        sign_in(page, base, f"/?project={PROJECT}")

        # Two calls on the page: the transferred one (newer) first, then the unrelated
        # recording. The table is the list of parts: the player shows none of its own.
        rows = page.locator("table.results-table tbody tr")
        assert [rows.nth(i).get_attribute("id") for i in range(rows.count())] == [
            f"video-{first.pk}",
            f"video-{second.pk}",
            f"video-{other.pk}",
        ]
        assert page.locator(".reviewer-part-list").count() == 0
        assert "Части звонка" not in page.inner_text("main")
        calls = page.evaluate("() => window.opvideoReviewer.parts.map(p => p.call)")
        assert calls == [CALL.lower(), CALL.lower(), other.session_id.lower()]
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page_fits(page, name="review-search-calls", width=width)
        page.set_viewport_size({"width": 1366, "height": 1000})
        next_button = page.locator(".reviewer-next")
        assert next_button.is_visible() and next_button.is_enabled()  # part 1 of 2 is chosen

        # The call's last part: nothing after it in this call.
        page.click('button.play[data-part-index="1"]')
        wait_time(page, "t > 0.3")
        assert page.inner_text(".reviewer-label").startswith("Часть 2 из 2")
        assert next_button.is_visible() and next_button.is_disabled()
        page.evaluate(f"() => {{ const v = {VIDEO}; v.currentTime = v.duration - 0.4; }}")
        page.wait_for_function(f"() => {VIDEO}.ended", timeout=20_000)
        # Time enough for the player to have asked for the next row's link, had it gone on.
        page.wait_for_timeout(1500)
        assert views() == {second.pk: 1}
        page.keyboard.press("n")  # nor does the key go into the other call
        page.wait_for_timeout(500)
        assert page.evaluate("() => window.opvideoReviewer.index") == 1
        assert "14-09-00" in page.evaluate(f"() => {VIDEO}.currentSrc")
        assert page.evaluate(f"() => {VIDEO}.paused")
        assert page.get_attribute(f"#video-{other.pk}", "aria-current") is None
        assert views() == {second.pk: 1}

        # Chosen without playing, the unrelated recording (a call of one part) has no next
        # part to offer; choosing is not watching, so still no view of it.
        page.evaluate("() => window.opvideoReviewer.select(2)")
        assert page.inner_text(".reviewer-label").startswith("op101")
        assert next_button.is_disabled()
        assert errors == []

    assert views() == {second.pk: 1}
    served = {e["uri"] for e in call["nginx"].log_entries() if e["status"] in (200, 206)}
    assert "/LOUD.MP4" not in served
