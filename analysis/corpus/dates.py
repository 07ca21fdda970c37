"""Publication dates: the forms news exports write, parsed into calendar dates (pure, no I/O).

Forms read (``dayfirst=True``, the Vietnamese convention, is the study default)::

    2024-04-03, 2024-04-03T20:05:00+07:00, 2024-04-03 20:05, 20240403    ISO 8601
    3/4/2024, 03-04-2024, 03.04.2024                                    day first (or month first)
    3 tháng 4 năm 2024, ngày 03 tháng 04 năm 2024, 3 tháng 4, 2024      Vietnamese
    Thứ hai, 18/03/2024 20:05 GMT+7, Chủ nhật, 17/3/2024               Vietnamese dateline
    April 3, 2024, Apr 3 2024, 3 April 2024, Wednesday, April 3, 2024   English
    Wed, 03 Apr 2024 13:05:00 GMT                                       RFC 2822 (e-mail, RSS)

A timestamp with a zone gives the calendar date *as written* (the day in the zone of
publication), not the UTC date: "2024-04-03T23:30:00-05:00" was published on 3 April where it
was published, and a per-day count of coverage should say so. A weekday that disagrees with the
date ("Thứ ba, 18/03/2024": 18 March 2024 was a Monday) is an error, as are impossible dates
(31/02/2024), months above 12 and two-digit years (which century is a guess). An empty value, or
an export's placeholder for one (``NaT``, ``nan``, ``None``, ``null``), is a missing date: allowed,
and counted by the caller.

>>> parse_date("Thứ hai, 18/03/2024 20:05 GMT+7")
datetime.date(2024, 3, 18)
>>> parse_date("3/4/2024"), parse_date("3/4/2024", dayfirst=False)
(datetime.date(2024, 4, 3), datetime.date(2024, 3, 4))
>>> parse_date("3 tháng 4 năm 2024"), parse_date("April 3, 2024")
(datetime.date(2024, 4, 3), datetime.date(2024, 4, 3))
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

import pandas as pd

MISSING = {"", "nat", "nan", "none", "null", "na", "n/a", "-"}

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# Monday = 0, as datetime.date.weekday().
_WEEKDAY_NAMES_EN = [
    ("monday", "mon"),
    ("tuesday", "tue", "tues"),
    ("wednesday", "wed"),
    ("thursday", "thu", "thur", "thurs"),
    ("friday", "fri"),
    ("saturday", "sat"),
    ("sunday", "sun"),
]
WEEKDAYS_EN = {name: i for i, names in enumerate(_WEEKDAY_NAMES_EN) for name in names}
WEEKDAYS_VI = {
    "thứ hai": 0,
    "thứ 2": 0,
    "thứ ba": 1,
    "thứ 3": 1,
    "thứ tư": 2,
    "thứ 4": 2,
    "thứ năm": 3,
    "thứ 5": 3,
    "thứ sáu": 4,
    "thứ 6": 4,
    "thứ bảy": 5,
    "thứ 7": 5,
    "chủ nhật": 6,
    "cn": 6,
}


class DateError(ValueError):
    """A value that is not a date, or not a possible one; ``str(error)`` says why."""


_ISO = re.compile(
    r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"  # year, separator, month, the same separator, day
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"  # optional time
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2}|[+-]\d{1,2})?",  # optional zone
    re.IGNORECASE,
)
_ISO_BASIC = re.compile(r"(\d{4})(\d{2})(\d{2})(?:T\d{2}:?\d{2}(?::?\d{2})?(?:Z|[+-]\d{2}:?\d{2})?)?")
_NUMERIC = re.compile(r"(\d{1,2})\s*([/.-])\s*(\d{1,2})\s*\2\s*(\d{2,4})")
_VI_WORDS = re.compile(r"(?:ngày\s+)?(\d{1,2})\s+tháng\s+(\d{1,2})(?:\s*(?:năm|,)\s*(\d{2,4}))")
_EN_MONTH_FIRST = re.compile(r"([a-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{2,4})")
_EN_DAY_FIRST = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([a-z]{3,9})\.?,?\s+(\d{2,4})")
_TIME_ZONE = re.compile(
    r"(?:[-,|]\s*)?(?:lúc\s+)?(?:\d{1,2}[:h]\d{2}(?::\d{2})?\s*(?:am|pm|sa|ch)?)?\s*(?:\(?(?:gmt|utc|ict)\s*(?:[+-]\s*\d{1,2}(?::?\d{2})?)?\)?|[+-]\d{2}:?\d{2}|z)?\s*$",
    re.IGNORECASE,
)


def is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or str(value).strip().lower() in MISSING


def parse_date(value: str, dayfirst: bool = True) -> dt.date | None:
    """The calendar date written in ``value``; ``None`` if it is missing.

    Parameters
    ----------
    value : str
        One cell of a date column, in any of the forms of the module docstring.
    dayfirst : bool
        Read ``3/4/2024`` as 3 April (True, the Vietnamese and British convention) or as
        4 March (False, the United States convention). ISO dates are never ambiguous.

    Raises
    ------
    DateError
        Not a date in a known form, an impossible date, or a weekday that disagrees with it.

    Examples
    --------
    >>> parse_date("2024-04-03T23:30:00-05:00")  # the day where it was published, not in UTC
    datetime.date(2024, 4, 3)
    >>> parse_date("03-04-2024"), parse_date("Wed, 03 Apr 2024 13:05:00 GMT")
    (datetime.date(2024, 4, 3), datetime.date(2024, 4, 3))
    >>> parse_date("") is None, parse_date("NaT") is None
    (True, True)
    >>> parse_date("31/02/2024")
    Traceback (most recent call last):
    analysis.corpus.dates.DateError: '31/02/2024' is not a possible date (2024-02-31 does not exist)
    """
    if is_missing(value):
        return None
    text = str(value).strip()
    if text[:4].isdigit() and text[4:5] == "-":
        try:  # the common case, in C; gives the date as written, whatever the zone
            return dt.datetime.fromisoformat(text.replace("z", "Z")).date()
        except ValueError:
            pass  # the patterns below say why, or read forms fromisoformat does not
    text = unicodedata.normalize("NFC", text)
    low = re.sub(r"\s+", " ", text.lower())
    weekday, low = _strip_weekday(low)
    date = _match(low, dayfirst)
    if date is None:
        raise DateError(
            f"'{text}' is not a date in a known form (ISO 2024-04-03, 3/4/2024, 3 tháng 4 năm 2024, April 3, 2024)"
        )
    if weekday is not None and date.weekday() != weekday:
        raise DateError(f"'{text}' names the wrong weekday: {date.isoformat()} is a {date.strftime('%A')}")
    return date


_WEEKDAY_VI = re.compile(
    "(" + "|".join(sorted(map(re.escape, WEEKDAYS_VI), key=len, reverse=True)) + r")\b\.?,?\s*(?:ngày\s+)?"
)
_WEEKDAY_EN = re.compile("(" + "|".join(sorted(map(re.escape, WEEKDAYS_EN), key=len, reverse=True)) + r")\b\.?,?\s*")


def _strip_weekday(low: str) -> tuple[int | None, str]:
    if not low[:1].isalpha():  # ISO and numeric dates: the common case, no weekday
        return None, low
    match = _WEEKDAY_VI.match(low)
    if match:
        return WEEKDAYS_VI[match[1]], low[match.end() :]
    match = _WEEKDAY_EN.match(low)
    # "mon"/"sat"... before a letter must be followed by a month name ("Wed, 03 Apr" / "Wednesday, April 3")
    if match and (
        not low[match.end() : match.end() + 1].isalpha() or low[match.end() :].split(" ")[0].rstrip(".,") in MONTHS
    ):
        return WEEKDAYS_EN[match[1]], low[match.end() :]
    return None, low


def _make(year: int, month: int, day: int, text: str) -> dt.date:
    if year < 100:
        raise DateError(f"'{text}' has a two-digit year (which century?)")
    if not 1 <= month <= 12:
        raise DateError(f"'{text}' has month {month}: not a possible date (is the day first? see [corpus] dayfirst)")
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DateError(f"'{text}' is not a possible date ({year}-{month:02d}-{day:02d} does not exist)") from None


def _rest_is_time(rest: str) -> bool:
    return _TIME_ZONE.fullmatch(rest.strip()) is not None


def _match(low: str, dayfirst: bool) -> dt.date | None:
    match = _ISO.fullmatch(low.strip())
    if match:
        year, month, day = int(match[1]), int(match[3]), int(match[4])
        if match[5] is not None and (int(match[5]) > 23 or int(match[6]) > 59 or (match[7] and int(match[7]) > 60)):
            raise DateError(f"'{low}' has an impossible time of day")
        return _make(year, month, day, low)
    match = _ISO_BASIC.fullmatch(low.strip())
    if match:
        return _make(int(match[1]), int(match[2]), int(match[3]), low)
    match = _NUMERIC.match(low)
    if match and _rest_is_time(low[match.end() :]):
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        day, month = (first, second) if dayfirst else (second, first)
        return _make(year, month, day, low)
    match = _VI_WORDS.match(low)
    if match and _rest_is_time(low[match.end() :]):
        return _make(int(match[3]), int(match[2]), int(match[1]), low)
    for pattern, order in ((_EN_MONTH_FIRST, "md"), (_EN_DAY_FIRST, "dm")):
        match = pattern.match(low)
        if match and _rest_is_time(low[match.end() :]):
            month_name, day = (match[1], match[2]) if order == "md" else (match[2], match[1])
            if month_name in MONTHS:
                return _make(int(match[3]), MONTHS[month_name], int(day), low)
    return None


def parse_dates(values: Iterable, dayfirst: bool = True) -> list[dt.date | None]:
    """:func:`parse_date` of every value; the first bad one raises (with its position in ``args[1]``)."""
    out = []
    for position, value in enumerate(values):
        try:
            out.append(parse_date(value, dayfirst))
        except DateError as exc:
            raise DateError(str(exc), position) from None
    return out


def iso_dates(dates: Sequence[dt.date | None]) -> list[str]:
    """The docvars form: ``YYYY-MM-DD`` strings, ``""`` for a missing date."""
    return [d.isoformat() if d is not None else "" for d in dates]


def date_ranges(
    docvars: pd.DataFrame, by: Sequence[str] = ("language", "outlet"), column: str = "date"
) -> pd.DataFrame:
    """First and last date and the number of undated documents per group, with ``all`` totals.

    Groups and totals follow :func:`analysis.text.textstat.corpus_summary` (each value of the first
    key over the others, then the whole corpus), so the two tables join on ``by``.

    Returns
    -------
    DataFrame with columns ``*by, first_date, last_date, undated`` (dates as ISO strings, ``""``
    when a group has no dated document).

    Examples
    --------
    >>> docvars = pd.DataFrame({"language": ["vi", "vi", "en"], "date": ["2024-04-01", "", "2024-04-03"]})
    >>> print(date_ranges(docvars, by=["language"]).to_string(index=False))
    language first_date  last_date  undated
          en 2024-04-03 2024-04-03        0
          vi 2024-04-01 2024-04-01        1
         all 2024-04-01 2024-04-03        1
    """
    keys = list(by)
    table = docvars[keys].astype(str).copy()
    table["_date"] = docvars[column].astype(str).to_numpy() if column in docvars.columns else ""
    groups = sorted(set(map(tuple, table[keys].to_numpy().tolist())))
    subtotals = {(*g[:depth], *("all",) * (len(keys) - depth)) for g in groups for depth in range(1, len(keys))}
    records = []
    for group in [*groups, *subtotals, ("all",) * len(keys)]:
        mask = pd.Series(True, index=table.index)
        for key, value in zip(keys, group):
            if value != "all":
                mask &= table[key] == value
        dates = sorted(d for d in table.loc[mask, "_date"] if d)
        records.append((*group, dates[0] if dates else "", dates[-1] if dates else "", int(mask.sum()) - len(dates)))
    return pd.DataFrame(records, columns=[*keys, "first_date", "last_date", "undated"])
