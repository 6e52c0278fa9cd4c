"""A search as a link and in words: to re-run a recent search with one click, to say what
was searched when nothing was found, and to offer a wider search.

A search is the query dict the access audit stores (``VideoFilters.as_query``: session,
match, project, from, to, zone), so a link can be made from an audit row as well as from
the form's filters.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from .session_ids import session_id_shorter_prefix

# The audit's names for the filters, and the search form's.
PARAMS = {
    "session": "session",
    "match": "match",
    "project": "project",
    "from": "date_from",
    "to": "date_to",
    "zone": "zone",
}


@dataclass(frozen=True)
class SearchLink:
    query: dict[str, str]  # the audit's form of the filters

    @property
    def url(self) -> str:
        params = {PARAMS[k]: v for k, v in self.query.items()}
        return f"{reverse('search:index')}?{urlencode(params)}"

    @property
    def key(self) -> tuple:
        """Two searches are the same if they differ only in the case of the session id."""
        return tuple(sorted((k, v.lower() if k == "session" else v) for k, v in self.query.items()))

    @property
    def words(self) -> list[str]:
        return query_words(query=self.query)

    @property
    def text(self) -> str:
        return " · ".join(self.words)

    @property
    def short(self) -> str:
        """The values alone, for a recent search's chip (its title has the words)."""
        query, parts = self.query, []
        if session := query.get("session"):
            parts.append(session + ("…" if query.get("match") == "prefix" else ""))
        if project := query.get("project"):
            parts.append(_("project %(value)s") % {"value": project})
        start, end = query.get("from"), query.get("to")
        if start or end:
            dates = (_short_date(start) if start else "", _short_date(end) if end else "")
            parts.append("\N{EN DASH}".join(dates))
        if zone := query.get("zone"):
            parts.append(zone)
        return " · ".join(parts)

    def without(self, *names: str) -> SearchLink:
        return SearchLink(query={k: v for k, v in self.query.items() if k not in names})


def search_link(*, query: dict) -> SearchLink | None:
    """The search an audit row recorded, as a link; None for a row that cannot be one (no
    filter the page takes, or a value of another shape)."""
    if not isinstance(query, dict):
        return None
    kept = {k: v for k, v in query.items() if k in PARAMS and isinstance(v, str) and v}
    if not ({"session", "project", "from", "to"} & kept.keys()):
        return None
    for name in ("from", "to"):
        if name in kept and _day(kept[name]) is None:
            return None
    return SearchLink(query=kept)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _short_date(value: str) -> str:
    return formats.date_format(_day(value), "SHORT_DATE_FORMAT")


def query_words(*, query: dict[str, str]) -> list[str]:
    """The filters of a search in words, one phrase each."""
    words = []
    if session := query.get("session"):
        if query.get("match") == "prefix":
            words.append(_("session id starting with %(value)s") % {"value": session})
        else:
            words.append(_("session id %(value)s") % {"value": session})
    if project := query.get("project"):
        words.append(_("project %(value)s") % {"value": project})
    start, end = query.get("from"), query.get("to")
    if start and end:
        words.append(
            _("recorded from %(start)s to %(end)s")
            % {"start": _short_date(start), "end": _short_date(end)}
        )
    elif start:
        words.append(_("recorded on or after %(start)s") % {"start": _short_date(start)})
    elif end:
        words.append(_("recorded on or before %(end)s") % {"end": _short_date(end)})
    if zone := query.get("zone"):
        words.append(_("zone %(value)s") % {"value": zone})
    return words


@dataclass(frozen=True)
class Widening:
    text: str
    link: SearchLink


def widenings(*, link: SearchLink) -> list[Widening]:
    """Wider searches to offer when ``link`` found nothing: each drops or shortens one
    filter, and is still a search the form accepts."""
    query = link.query
    offers = []
    has_id = "session" in query or "project" in query
    if has_id and ("from" in query or "to" in query):
        offers.append(Widening(_("any date"), link.without("from", "to")))
    if "zone" in query:
        offers.append(Widening(_("all zones"), link.without("zone")))
    if "session" in query and "project" in query:
        offers.append(Widening(_("any project"), link.without("project")))
    if session := query.get("session"):
        shorter = session_id_shorter_prefix(session)
        if shorter:
            wider = SearchLink(query={**query, "session": shorter, "match": "prefix"})
            text = _("session id starting with %(value)s") % {"value": shorter}
            offers.append(Widening(text, wider))
    return offers
