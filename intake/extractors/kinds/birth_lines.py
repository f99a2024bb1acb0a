"""The holder's birth date when its printed line was read but no date was found in it (issue 16).

On a phone photo or a page turned a quarter turn, the separators of a date are the first thing
tesseract loses or changes: "07 09.2010", "11,12,1994", or slashes read as digits ("11127008").
The date parser rightly refuses those (a run of digits is no date). Here, under a birth label
("Né(e) le", "Date de naissance", a licence's field 3), the line is read twice:

- the first reading, with any one or two marks (or a space) taken as a separator, or none at all
  in a whole DDMMYYYY (the label says what the digits are);
- the same printed line read again alone (one tesseract line, the second reading).

A date both readings give is read twice; a date only one of them gives is a single reading of a
line the page reader could not parse, kept under the key-field threshold (a person reads it)."""

from __future__ import annotations

import re
from datetime import date

from intake.extractors.dates import find_dates, fold_text

#: A birth date's label: "Né(e) le", "Née le", "Date de naissance", a licence's field "3.".
_LABEL = re.compile(r"(?:\bn[eé]\s*(?:\(?\s*e\s*\)?)?\s*le\b|\bdate de naissance\b|^\s*3\s*[.,]\s)", re.I)
#: A licence's field 3 with its number lost: a date-like run, then the birth place and its
#: department in brackets ("11,12,1994 PARIS (75)").
_PLACED = re.compile(r"^\W{0,3}([\dOoIl|/.,\- ]{6,12}\d)\s+[A-ZÀ-Þ][^\d()]{1,40}\(\s*\w{1,3}\s*\)")
#: Day, month, year (four digits, 19xx or 20xx) with at most two marks or spaces between them.
_LOOSE = re.compile(r"(?<!\d)(\d{1,2})([^\w\n]{0,2})(\d{1,2})([^\w\n]{0,2})((?:19|20)\d{2})(?!\d)")
#: A run that may be a date whose separators were misread: 6 to 10 digits, letters or marks.
_DATE_LIKE = re.compile(r"(?<![\w])[\dOoIl|/.,\- ]{6,12}\d(?![\w])")


def loose_date(text: str, today: date | None = None) -> date | None:
    """The first day-month-year of `text` with loose separators (one place at least has one), a
    real day no later than `today`."""
    today = today or date.today()
    for m in _LOOSE.finditer(text):
        day, sep1, month, sep2, year = m.groups()
        if not (sep1.strip() or sep2.strip() or (sep1 and sep2)) and len(day + month) != 4:
            continue  # digits glued to the year: only a whole DDMMYYYY under its label
        try:
            found = date(int(year), int(month), int(day))
        except ValueError:
            continue
        if found <= today:
            return found
    return None


def labelled_lines(text: str, licence: bool = False) -> list[str]:
    """The lines of `text` that hold a birth label, each with the line after it (a form prints the
    value under its label); on a licence, also field 3 known by the place after its date."""
    lines = [line for line in text.splitlines() if line.strip()]
    out = []
    for i, line in enumerate(lines):
        if licence and _PLACED.match(line):
            out.append(line)
            continue
        m = _LABEL.search(fold_text(line))
        if m:
            rest = line[m.end():]
            if not re.search(r"\d", rest) and i + 1 < len(lines):
                rest = lines[i + 1]
            out.append(rest)
    return out


def date_token(rest: str) -> str | None:
    """The part of a labelled line that may print the date (digits with misread separators)."""
    m = _DATE_LIKE.search(rest)
    return m.group(0).strip() if m else None


def second_reading(reread: str, today: date | None = None) -> date | None:
    """The date a line read again alone gives: its first date-like run after the birth label (a
    later date on the line is another one: "né le ... a obtenu l'ASSR le 15/04/2023"), taken by the
    date parser, else with loose separators."""
    today = today or date.today()
    m = _LABEL.search(fold_text(reread))
    token = date_token(reread[m.end():] if m else reread)
    if not token:
        return None
    for candidate in find_dates(token):
        if candidate.date <= today:
            return candidate.date
    return loose_date(token, today)
