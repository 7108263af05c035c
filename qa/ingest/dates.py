"""An article's date: from its dateline, else from what the file says about itself.

A press release opens with a dateline: "Oulan-Bator, 21 mai 2013 – …",
"Mauritanie - Le 14 mars 2017 - …", "Astana, 21 May 2015 – …". That date is the
article's. When the text has none, the date a collection record, a saved
page or a PDF gives in its metadata is taken (``article_date``). The file's
modification time never is: copying a folder changes it.

Dates are ISO ``YYYY-MM-DD`` strings, so that comparing them as strings
compares the days (``DateRange``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

# Month names in the languages the articles and questions come in, lower case without accents;
# abbreviations with or without their dot.
_MONTH_NAMES = {
    1: "janvier janv january jan januar enero",
    2: "fevrier fevr fev february feb februar febrero",
    3: "mars march mar marz marzo",
    4: "avril avr april apr abril",
    5: "mai may mayo",
    6: "juin june jun juni junio",
    7: "juillet juil july jul juli julio",
    8: "aout august aug agosto",
    9: "septembre sept september sep septiembre setiembre",
    10: "octobre oct october oktober octubre",
    11: "novembre nov november noviembre",
    12: "decembre dec december dezember diciembre",
}
MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names.split()}

_DASH = r"[-–—]"
_MONTH = r"(?P<month>[^\W\d_]{3,10})\.?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"
# "21 mai 2013", "1er juin 2016", "14. März 2017", "14 de marzo de 2017"
_DAY_MONTH_YEAR = rf"(?P<day>\d{{1,2}})(?:er|st|nd|rd|th|\.)?\s+(?:de\s+)?{_MONTH}\s+(?:de\s+)?{_YEAR}"
# "March 14, 2017"
_MONTH_DAY_YEAR = rf"{_MONTH}\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?,?\s+{_YEAR}"
# What stands before the date: a place ("Oulan-Bator,", "N’Djamena –", "Mauritanie - Le"), at most a few words.
_PLACE = rf"(?:[^\n.!?:;]{{1,60}}?(?:,|\s{_DASH})\s*)?(?:(?:le|el|on|am)\s+)?"
# What follows it: a dash (after "(OIM)" perhaps), or the end of a line that holds only the date.
_AFTER = rf"\s*(?:\([^()\n]{{1,20}}\)\s*)?(?:{_DASH}|$)"
_DATELINES = tuple(
    re.compile(rf"\A\s*{_PLACE}(?:{date}){_AFTER}", re.IGNORECASE | re.MULTILINE)
    for date in (_DAY_MONTH_YEAR, _MONTH_DAY_YEAR)
)
_DATELINE_CHARS = 160  # a dateline is in the first characters of the body
_ISO = re.compile(r"\A\s*(?:D:)?(?P<year>\d{4})-?(?P<month>\d\d)-?(?P<day>\d\d)")  # 2017-03-14…, D:20170314…


def dateline_date(text: str) -> str | None:
    """The date of the dateline that opens ``text`` (an article's body), ISO; None without one."""
    head = text[:_DATELINE_CHARS]
    for pattern in _DATELINES:
        match = pattern.match(head)
        if match:
            return _iso(match["year"], MONTHS.get(_folded(match["month"])), match["day"])
    return None


def metadata_date(value: object) -> str | None:
    """A date given as metadata (a record's "date", a page's or a PDF's), ISO; None when it is not one.

    Takes ISO dates and times ("2017-03-14", "2017-03-14T09:00:00Z"), PDF dates ("D:20170314093000"),
    dates in words ("14 mars 2017", "March 14, 2017") and ``datetime.date`` values.
    """
    if isinstance(value, dt.date):
        return _iso(value.year, value.month, value.day)
    if not isinstance(value, str):
        return None
    match = _ISO.match(value)
    if match:
        return _iso(match["year"], int(match["month"]), match["day"])
    for pattern in _DATELINES:
        match = pattern.match(value.strip()[:_DATELINE_CHARS])
        if match:
            return _iso(match["year"], MONTHS.get(_folded(match["month"])), match["day"])
    return None


def article_date(body: str, metadata: object = None) -> str | None:
    """An article's date: its dateline's, else its metadata's (see the module docstring)."""
    return dateline_date(body) or metadata_date(metadata)


def _folded(word: str) -> str:
    """Lower case without accents: "Février" → "fevrier", "März" → "marz"."""
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _iso(year: str | int, month: int | None, day: str | int) -> str | None:
    if month is None:
        return None
    try:
        date = dt.date(int(year), month, int(day))
    except ValueError:  # 31 février
        return None
    return date.isoformat() if 1900 <= date.year <= 2100 else None


def parse_day(text: str) -> str:
    """A day given by a person (``--since 2017-03-14``) as ISO; ValueError saying what is expected."""
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", text)
    day = _iso(match[1], int(match[2]), match[3]) if match else None
    if day is None:
        raise ValueError(f"not a date of the form YYYY-MM-DD: {text[:40]!r}")
    return day


@dataclass(frozen=True)
class DateRange:
    """Articles dated from ``since`` to ``until`` (both days included; None: no bound).

    An article without a date is outside every range.
    """

    since: str | None = None
    until: str | None = None

    @classmethod
    def of(cls, since: str | None, until: str | None) -> DateRange | None:
        """The range of two days given by a person (None when neither is); ValueError when one is
        not a date or the range is empty."""
        if since is None and until is None:
            return None
        found = cls(parse_day(since) if since is not None else None, parse_day(until) if until is not None else None)
        if found.since is not None and found.until is not None and found.since > found.until:
            raise ValueError(f"no day is both since {found.since} and until {found.until}")
        return found

    def holds(self, date: str | None) -> bool:
        if date is None:
            return False
        return (self.since is None or date >= self.since) and (self.until is None or date <= self.until)
