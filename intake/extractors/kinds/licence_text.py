"""The European licence's front read from its lines when the field numbers are lost (issue 16).

A photographed card often loses its small field numbers ("1.", "2.", "9.") and the thin slashes
between categories, and a fragment of its title may stand on a line of its own ("REP" of
"RÉPUBLIQUE FRANÇAISE", cut by a glare). `fields.licence_fields` then takes the fragment for the
surname, or finds no categories in "AMB". The licence's own order settles both: the names are the
two lines just above the birth date and place (field 3), under the title; the categories are the
line under the number (field 5), and a run of category codes with nothing between them splits in
one way only (no category is a letter E or a digit alone)."""

from __future__ import annotations

import re

from intake.extractors.dates import fold_text
from intake.extractors.fields import CATEGORY_RE, lines_of

#: Categories, the longer codes before their prefixes: a run read greedily splits the one way.
_CODES = ("C1E", "D1E", "AM", "A1", "A2", "B1", "BE", "C1", "CE", "D1", "DE", "A", "B", "C", "D")
#: Title words of the licence's front (its header, never a name).
_TITLE_WORDS = ("permis", "conduire", "republique", "francaise", "driving", "licence", "union")
#: Field 3: the birth date with dots (or slashes) and the place.
_BIRTH_LINE = re.compile(r"^\W{0,3}(?:3\.?\s*)?\d{2}[./-]\d{2}[./-]\d{4}\s*\S")
#: A name line: capitals, spaces, hyphens, apostrophes, a field number 1 or 2 before it.
_NAME_LINE = re.compile(r"^\s*(?:[12]\.?\s+)?([A-ZÀ-Þ][A-ZÀ-Þ'’\- ]{2,40})$")
#: Field 5: the licence number alone on its line (12 digits, or the 2013 model's 9 characters).
_NUMBER_LINE = re.compile(r"^\s*(?:5\.?\s*)?(\d{12}|\d{2}[A-Z]{2}\d{5})\s*$")
#: A field number read as letters or signs before field 9's value ("9.", "9 :", "S.").
_FIELD_9 = re.compile(r"^\s*(?:9\.?|\S{1,2}\s*[.:]|\S\s*:)\s*")


def split_run(run: str) -> list[str] | None:
    """Categories of a run of codes with nothing between them ("AMB" -> AM, B; "B1BE" -> B1, BE),
    or None when the run is not categories only."""
    out: list[str] = []
    i = 0
    while i < len(run):
        for code in _CODES:
            if run.startswith(code, i):
                out.append(code)
                i += len(code)
                break
        else:
            return None
    return out if out and len(set(out)) == len(out) else None


def categories_under_number(text: str) -> tuple[list[str], bool] | None:
    """Field 9 read on one of the two lines under the licence number, its codes run together or
    apart, a field number misread before it taken off, and whether two codes were run together (a
    slash lost: a less sure reading); None when no such line is categories only."""
    lines = lines_of(text)
    for i, line in enumerate(lines):
        if not _NUMBER_LINE.match(line.replace(" ", "") if len(line) < 20 else line):
            continue
        for nxt in lines[i + 1:i + 3]:
            for value in (nxt, _FIELD_9.sub("", nxt, count=1)):
                parts = re.split(r"[\s/,|]+", value.strip())
                found: list[str] = []
                glued = False
                for part in parts:
                    codes = split_run(part) if part else None
                    if codes is None:
                        found = []
                        break
                    glued = glued or len(codes) > 1
                    found += [c for c in codes if c not in found]
                if found:
                    return found, glued
        return None
    return None


def _is_title(line: str) -> bool:
    folded = fold_text(line).lower()
    return any(word in folded for word in _TITLE_WORDS)


def names_above_birth(text: str) -> tuple[str, str] | None:
    """(surname, given names): the two name lines just above field 3, below the last title line
    before it (a fragment of the title, a stray sign between, are passed over); None when the
    birth line or two name lines under the title are not found."""
    lines = lines_of(text)
    birth = next((i for i, line in enumerate(lines) if _BIRTH_LINE.match(line)), None)
    if birth is None:
        return None
    names: list[str] = []
    for line in reversed(lines[:birth]):
        if _is_title(line):
            break
        m = _NAME_LINE.match(line)
        value = m.group(1).strip() if m else ""
        if len(re.sub(r"[^A-ZÀ-Þ]", "", value)) >= 2 and not CATEGORY_RE.fullmatch(value):
            names.append(value)
            if len(names) == 2:
                return names[1], names[0]
    return None


def header_fragment_in(holder: str, text: str) -> bool:
    """The holder read is partly from the header: one of its name lines stands above a title line
    (the names are printed under the title)."""
    lines = lines_of(text)
    title_rows = [i for i, line in enumerate(lines) if _is_title(line)]
    if not title_rows:
        return False
    last_title = title_rows[-1]
    for i, line in enumerate(lines[:last_title]):
        m = _NAME_LINE.match(line)
        if m and m.group(1).strip() and m.group(1).strip() in holder:
            return True
    return False


def complete_front(fields: dict, text: str) -> bool:
    """The licence front's fields (`fields.licence_fields`) completed from the lines' order: the
    holder when none was read or one of its lines is above the title, the categories when none
    were read. True when the categories were found run together (a less sure reading)."""
    holder = fields.get("holder_name")
    names = names_above_birth(text)
    if names and (not holder or header_fragment_in(holder, text)):
        fields["holder_name"] = " ".join(names)
    if fields.get("categories"):
        return False
    found = categories_under_number(text)
    if not found:
        return False
    fields["categories"] = found[0]
    return found[1]


#: Field 2 read in small letters ("Loic" for "LOÏC"), its number "2." or not before it.
_GIVEN_ANY_CASE = re.compile(r"^\s*(?:2\.?\s+)?([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’\- ]{1,40})$")


def given_below_surname(fields: dict, text: str) -> bool:
    """The holder read is field 1 alone, and the line between it and field 3 is a word of letters
    in any case (field 2 read in small letters, which the front's capitals-only reading passes
    over): the holder completed with it in capitals. True when completed (one reading of a line
    read otherwise than printed: the caller leaves it to a person)."""
    holder = fields.get("holder_name")
    if not holder:
        return False
    lines = lines_of(text)
    birth = next((i for i, line in enumerate(lines) if _BIRTH_LINE.match(line)), None)
    if birth is None or birth < 2:
        return False
    m = _NAME_LINE.match(lines[birth - 2])
    if not m or m.group(1).strip() != holder:
        return False
    given = _GIVEN_ANY_CASE.match(lines[birth - 1])
    if not given or _is_title(lines[birth - 1]) or len(re.sub(r"[^A-Za-zÀ-ÿ]", "", given.group(1))) < 3:
        return False
    fields["holder_name"] = f"{holder} {given.group(1).strip().upper()}"
    return True


#: A field number misread at the start of a line ("1." read "L", "5." read "| S", "9." read "2"):
#: a sign, or a letter or digit alone, before the value.
_MARK = re.compile(r"^(?:[^\w\s]+|\w)$")


def without_field_marks(text: str) -> str:
    """The text with, on each line, up to two leading marks taken off (a field number read as a
    sign or a letter alone), when something is left after them. A name of two letters or more
    ("LE GALL") is left whole."""
    out = []
    for line in (text or "").splitlines():
        words = line.split()
        cut = 0
        while cut < min(2, len(words) - 1) and _MARK.fullmatch(words[cut]):
            cut += 1
        out.append(" ".join(words[cut:]))
    return "\n".join(out)
