"""Date parsing (analysis/corpus/dates.py) against a table of the forms news exports write."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.corpus.dates import DateError, date_ranges, iso_dates, parse_date, parse_dates

D = dt.date

FORMS = [
    # ISO 8601 and timestamps with zones: the date as written, never shifted to UTC
    ("2024-04-03", True, D(2024, 4, 3)),
    ("2024-4-3", True, D(2024, 4, 3)),
    ("2024/04/03", True, D(2024, 4, 3)),
    ("20240403", True, D(2024, 4, 3)),
    ("2024-04-03T20:05:00", True, D(2024, 4, 3)),
    ("2024-04-03T20:05:00.123456", True, D(2024, 4, 3)),
    ("2024-04-03T20:05:00+07:00", True, D(2024, 4, 3)),
    ("2024-04-03T23:30:00-05:00", True, D(2024, 4, 3)),
    ("2024-04-03T03:00:00Z", True, D(2024, 4, 3)),
    ("2024-04-03 20:05:00", True, D(2024, 4, 3)),
    ("2024-04-03 20:05 UTC", True, D(2024, 4, 3)),
    ("  2024-04-03  ", True, D(2024, 4, 3)),
    # day first (the Vietnamese convention) and month first
    ("3/4/2024", True, D(2024, 4, 3)),
    ("3/4/2024", False, D(2024, 3, 4)),
    ("03-04-2024", True, D(2024, 4, 3)),
    ("03-04-2024", False, D(2024, 3, 4)),
    ("03.04.2024", True, D(2024, 4, 3)),
    ("18/03/2024 - 20:05", True, D(2024, 3, 18)),
    ("18/03/2024 20h05", True, D(2024, 3, 18)),
    # Vietnamese
    ("3 tháng 4 năm 2024", True, D(2024, 4, 3)),
    ("ngày 03 tháng 04 năm 2024", True, D(2024, 4, 3)),
    ("3 tháng 4, 2024", True, D(2024, 4, 3)),
    ("Thứ hai, 18/03/2024 20:05 GMT+7", True, D(2024, 3, 18)),
    ("Thứ Hai, ngày 18/03/2024", True, D(2024, 3, 18)),
    ("Chủ nhật, 17/3/2024", True, D(2024, 3, 17)),
    ("Thứ 4, 3/4/2024, 08:30 (GMT+7)", True, D(2024, 4, 3)),
    # English
    ("April 3, 2024", True, D(2024, 4, 3)),
    ("April 3, 2024", False, D(2024, 4, 3)),
    ("Apr 3 2024", True, D(2024, 4, 3)),
    ("Apr. 3, 2024", True, D(2024, 4, 3)),
    ("3 April 2024", True, D(2024, 4, 3)),
    ("3rd April 2024", True, D(2024, 4, 3)),
    ("Wednesday, April 3, 2024", True, D(2024, 4, 3)),
    ("April 3, 2024 10:05 AM", True, D(2024, 4, 3)),
    ("Wed, 03 Apr 2024 13:05:00 GMT", True, D(2024, 4, 3)),
    ("Wed, 03 Apr 2024 13:05:00 +0700", True, D(2024, 4, 3)),
    ("May 1, 2024", True, D(2024, 5, 1)),
    ("29/02/2024", True, D(2024, 2, 29)),  # a leap day
]


@pytest.mark.parametrize("text, dayfirst, expected", FORMS)
def test_forms(text, dayfirst, expected):
    assert parse_date(text, dayfirst) == expected


@pytest.mark.parametrize("text", ["", "   ", "NaT", "nan", "None", "null", None, float("nan")])
def test_missing(text):
    assert parse_date(text) is None


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("31/02/2024", "2024-02-31 does not exist"),
        ("29/02/2023", "2023-02-29 does not exist"),
        ("4/13/2024", "month 13"),  # day first: month 13 is impossible, it is never silently swapped
        ("2024-13-01", "month 13"),
        ("3/4/24", "two-digit year"),
        ("Thứ ba, 18/03/2024", "wrong weekday: 2024-03-18 is a Monday"),
        ("Tuesday, April 3, 2024", "wrong weekday: 2024-04-03 is a Wednesday"),
        ("2024-04-03T25:00:00", "impossible time"),
        ("hôm qua", "not a date in a known form"),
        ("45385", "not a date in a known form"),  # an Excel serial number is not guessed
        ("3 Aprl 2024", "not a date in a known form"),
        ("April 3, 2024 and more", "not a date in a known form"),
    ],
)
def test_bad_dates(text, fragment):
    with pytest.raises(DateError, match=fragment):
        parse_date(text)


def test_parse_dates_reports_the_position():
    with pytest.raises(DateError) as info:
        parse_dates(["2024-04-03", "", "31/02/2024"])
    assert info.value.args[1] == 2
    assert iso_dates(parse_dates(["3/4/2024", "", "April 5, 2024"])) == ["2024-04-03", "", "2024-04-05"]


@given(st.dates(min_value=D(1900, 1, 1), max_value=D(2100, 12, 31)), st.booleans())
def test_every_date_round_trips_in_every_numeric_form(date, dayfirst):
    day_month = f"{date.day}/{date.month}/{date.year}" if dayfirst else f"{date.month}/{date.day}/{date.year}"
    assert parse_date(day_month, dayfirst) == date
    assert parse_date(date.isoformat(), dayfirst) == date
    assert parse_date(f"{date.day} tháng {date.month} năm {date.year}", dayfirst) == date
    assert parse_date(date.strftime("%B %d, %Y"), dayfirst) == date
    assert parse_date(date.strftime("%A, %d/%m/%Y"), True) == date


def test_date_ranges_by_language_and_outlet():
    docvars = pd.DataFrame(
        {
            "language": ["vi", "vi", "vi", "en"],
            "outlet": ["A", "A", "B", "C"],
            "date": ["2024-04-03", "2024-03-18", "", "2024-04-04"],
        }
    )
    table = date_ranges(docvars)
    rows = {(r.language, r.outlet): (r.first_date, r.last_date, r.undated) for r in table.itertuples()}
    assert rows[("vi", "A")] == ("2024-03-18", "2024-04-03", 0)
    assert rows[("vi", "B")] == ("", "", 1)
    assert rows[("vi", "all")] == ("2024-03-18", "2024-04-03", 1)
    assert rows[("all", "all")] == ("2024-03-18", "2024-04-04", 1)
    assert len(table) == 3 + 2 + 1
