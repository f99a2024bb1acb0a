"""Dates of French documents, found by their labels.

A bill carries many dates: the issue date, a due date, the bounds of the billed period, the
customer's birth date, numbers that only look like dates. Only the issue date counts for the
"less than 6 months" rule, so every date is kept as a candidate with the label that precedes it,
and a role is given from that label: `issue`, `due`, `period`, `birth`, `photo`, `exam` or
`other`. The reviewer sees every candidate; `pick` chooses one for a role by label priority.
Photographed labels are read with letters wrong, or after their date: an issue label a few letters
off ("Date d'éiblisement"), or alone on the line after a date alone, still labels it, under every
label read right and in place.

Forms read: 12/03/2026, 12.03.2026, 12-03-2026, 12/03/26, 12 mars 2026, 1er mars 2026,
12 MARS 2026, 12 févr. 2026 (abbreviations, with or without accents), with or without a weekday
before them ("le samedi 3 octobre 2026": the label is the one before the weekday). A day-month-year that is
not a calendar date (31/02/2026) is no candidate.

Errors: `parse_date(text)` raises `DateParseError` (a ValueError) when the text is not one date;
`find_dates(text)` never raises for any str.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from datetime import date
from typing import Any


class DateParseError(ValueError):
    """The text is not one French date of a known form."""


MONTHS = {
    "janvier": 1, "janv": 1, "jan": 1,
    "fevrier": 2, "fevr": 2, "fev": 2, "fevier": 2,
    "mars": 3, "mar": 3,
    "avril": 4, "avr": 4,
    "mai": 5,
    "juin": 6, "jun": 6,  # "juin" with its thin i lost, as a blurred photo is read
    "juillet": 7, "juil": 7,
    "aout": 8,
    "septembre": 9, "sept": 9, "sep": 9,
    "octobre": 10, "oct": 10,
    "novembre": 11, "nov": 11,
    "decembre": 12, "dec": 12,
}
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))

# Numeric: day sep month sep year, same separator both times; OCR may add spaces around it.
_NUMERIC = re.compile(
    r"(?<![\d/.\-])(?P<d>[0-3]?\d) ?(?P<sep>[/.\-]) ?(?P<m>[01]?\d) ?(?P=sep) ?"
    r"(?P<y>(?:19|20)\d\d|\d\d)(?![\d])(?!(?P=sep)\d)"
)
# Numeric with both slashes read as a 1, l, I or | by the OCR ("22/12/2025" read "2211212025"):
# kept only where a label says what the date is (a bare number like that is no date).
_SLASHES_MISREAD = re.compile(r"(?<![\w/.\-])(?P<d>[0-3]\d)[1li|](?P<m>[01]\d)[1li|](?P<y>(?:19|20)\d\d)(?![\w])")
# Written: 12 mars 2026, 1er mars 2026, 12 févr. 2026; a 1 of the day read "l" or "|" by the OCR
# ("ll mars 2026", "1er" read "ler", "Ier" or "|er"): such a word before a month and a year is
# nothing else.
_WRITTEN = re.compile(
    r"(?<![\w])(?P<d>[0-3l|]?[\dl|]|[li|](?=er))\s?(?:er|e|º|°)?\s+(?P<mon>" + _MONTH_ALT + r")\.?\s+(?P<y>(?:19|20)\d\d)(?!\d)",
)

# Labels, on folded text (lower case, no accents, straight apostrophes, single spaces).
# (role, priority, pattern matched at the END of the text preceding the date). Higher priority wins
# when several dates have a role. Patterns for due dates and periods come first in the search so a
# "payer avant le" is never read as a plain "le".
_LABELS: list[tuple[str, int, str]] = [
    ("due", 0, r"(?:a payer|a regler|payable|paiement|prelev\w*|debit\w*|exigib\w*|echeance|limite\w*"
               r"|date limite[\w ']*|avant)\s*(?:le|du|au|:)?\s*:?\s*"),
    ("due", 0, r"(?:a partir du|apres le|jusqu'au|valable jusqu'au|expire le|expiration|fin de validite)\s*:?\s*"),
    ("period", 0, r"(?:periode|consommation|releve|relevee?s?|index|abonnement|facturation)\s+(?:du|de|le)\s*:?\s*"),
    ("period", 0, r"(?:periode|consommation)[\w ']{0,30}:\s*"),
    ("period", 0, r"\bdu\s*$"),  # kept only when followed by "au <date>" (see _is_period_start)
    ("period", 0, r"\bau\s*$"),
    ("birth", 0, r"(?:ne|nee|ne\(e\)|nee?\(e\)|naissance)\s*(?:le)?\s*:?\s*"),
    ("birth", 0, r"date de naissance\s*:?\s*"),
    ("period", 0, r"depuis (?:le|le :)\s*"),
    ("photo", 9, r"(?:prise de vue|prise de la photo|photo (?:prise|realisee) le|date de la photo|date photo"
                 r"|date de prise[\w ']*)\s*(?:le)?\s*:?\s*"),
    ("exam", 8, r"(?:date de l'examen|examen (?:passe |reussi )?(?:le|du)|date d'examen|epreuve (?:du|le))\s*:?\s*"),
    ("issue", 9, r"(?:facture|avis|releve|quittance|attestation|certificat|courrier|document)\s+(?:n\S*\s*\S+\s+)?"
                 r"(?:du|emise? le|etablie? le|editee? le)\s*:?\s*"),
    ("issue", 9, r"(?:date d'emission|date de facture|date de facturation|date d'edition|date d'etablissement"
                 r"|date de mise en recouvrement(?: de l'avis d'impot)?|date du document|date de l'avis"
                 r"|date de delivrance|date d'envoi|date de l'attestation|date du certificat)\s*:?\s*"),
    ("issue", 8, r"(?:emise?|etablie?|editee?|delivree?|envoyee?|signee?|redigee?)\s+le\s*:?\s*"),
    # the same labels as a phone photo's OCR gives them: the capital É lost ("mise le"), a colon
    # for the e ("Émis: le"), "le" read "lo", "la" or "ie" (family-2 seeds 120 and 125)
    ("issue", 7, r"(?:e?mise?|e?mis:|etablie?|editee?|delivree?)\s+(?:le|l[oa]|ie|1e)\s*:?\s*"),
    ("issue", 8, r"fait\s+(?:a|au|en)\s+[^\n:;]{1,40}?,?\s*le\s*:?\s*"),
    ("issue", 7, r"fait le\s*:?\s*"),
    ("issue", 5, r"[a-z][a-z' \-]{1,30},\s*le\s*"),  # "Paris, le 3 mars 2026"
    ("issue", 4, r"\bdate\s*:\s*"),
    ("issue", 3, r"\ble\s*:?\s*$"),
]
_LABEL_RES = [(role, prio, re.compile(r"(?<![a-z])(?:" + pat + r")$")) for role, prio, pat in _LABELS]
_LABEL_WORDS = re.compile(r"[a-z][a-z' ()\-.,:n°]*$")


@dataclass(frozen=True)
class DateCandidate:
    """One date seen in the text, with what precedes it."""

    text: str
    date: date
    label: str
    role: str
    priority: int
    start: int
    end: int

    def to_evidence(self, used: bool = False) -> dict[str, Any]:
        return {"label": self.label, "text": self.text, "date": self.date.isoformat(), "role": self.role,
                "used": used}


class _FoldTable(dict):
    """`str.translate` table of `fold_text`, filled one character at a time as characters are met
    (a page's text is folded several times: by the classifier, the date finder, the readers)."""

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in "’‘`´":
            folded = "'"
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).lower()
            folded = base[0] if len(base) == 1 else (ch.lower() if len(ch.lower()) == 1 else "?")
        self[code] = folded
        return folded


_FOLD = _FoldTable()


def fold_text(text: str) -> str:
    """Lower case, accents removed, apostrophes straightened; same length as the input."""
    return text.translate(_FOLD)


def _year(y: str) -> int:
    value = int(y)
    if len(y) == 2:
        value += 2000 if value <= 69 else 1900
    return value


def _make(d: str, m: int, y: str) -> date | None:
    try:
        return date(_year(y), m, int(d))
    except (ValueError, OverflowError):
        return None


def _matches(folded: str, misread: bool = False):
    """(start, end, date) of every date; with `misread`, also the dates whose slashes the OCR
    read as a 1 or an l (the caller keeps those only under a label)."""
    for m in _NUMERIC.finditer(folded):
        month = int(m.group("m"))
        if not 1 <= month <= 12:
            continue
        value = _make(m.group("d"), month, m.group("y"))
        if value is not None:
            yield m.start(), m.end(), value
    for m in _WRITTEN.finditer(folded):
        day = m.group("d").replace("l", "1").replace("|", "1")
        day = day if day.isdigit() else "1"  # "ier": 1er
        value = _make(day, MONTHS[m.group("mon")], m.group("y"))
        if value is not None:
            yield m.start(), m.end(), value
    if misread:
        for m in _SLASHES_MISREAD.finditer(folded):
            month = int(m.group("m"))
            value = _make(m.group("d"), month, m.group("y")) if 1 <= month <= 12 else None
            if value is not None:
                yield m.start(), m.end(), value


def _context(folded: str, start: int, floor: int) -> str:
    """The text before a date that may label it: its line, else the end of the previous line."""
    line_start = folded.rfind("\n", 0, start) + 1
    before = folded[max(line_start, floor):start]
    if not before.strip(" \t:|.-") and line_start > floor:
        prev_start = folded.rfind("\n", 0, line_start - 1) + 1
        before = folded[max(prev_start, floor):line_start - 1]
        before = before[-60:] + " "
    before = " ".join(before.replace("|", " ").split())
    return before[-80:]


#: A weekday between a label and its date ("Le samedi 3 octobre 2026"): not part of the label.
_WEEKDAY_TAIL = re.compile(r"\s*\b(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
                           r"|lun|mar|mer|jeu|ven|sam|dim)\.?,?\s*$")


def _label_of(context: str) -> tuple[str, int, str]:
    """The longest label ending the context decides; on equal length, the first rule. A weekday
    just before the date is passed over to find the label before it."""
    context = _WEEKDAY_TAIL.sub(" ", context) if _WEEKDAY_TAIL.search(context) else context
    best: tuple[int, str, int, str] | None = None
    for role, prio, rx in _LABEL_RES:
        m = rx.search(context)
        if m is not None and (best is None or len(m.group(0)) > best[0]):
            best = (len(m.group(0)), role, prio, m.group(0).strip(" :"))
    if best is not None:
        return best[1], best[2], best[3]
    misread = _misread_issue_label(context)
    if misread is not None:
        return "issue", MISREAD_LABEL_PRIORITY, misread
    tail = _LABEL_WORDS.search(context)
    return "other", 0, (tail.group(0).strip(" :") if tail else "")[-40:]


#: The issue-date labels that begin with "date" (folded), as printed in full: a label read with a
#: letter or two wrong ("Date d'éiblisement" for "Date d'établissement") is still recognised.
ISSUE_DATE_LABELS = ("date d'emission", "date de facture", "date de facturation", "date d'edition",
                     "date d'etablissement", "date de mise en recouvrement", "date du document",
                     "date de l'avis", "date de delivrance", "date d'envoi", "date de l'attestation",
                     "date du certificat")
#: How alike (difflib ratio) a misread label must be to a printed one: two or three letters wrong
#: in twenty. Labels of other dates ("date d'echeance", "date d'effet") stay far below.
MISREAD_LABEL_RATIO = 0.86
#: Under every label read right: a misread label decides only where nothing else does.
MISREAD_LABEL_PRIORITY = 2


def _misread_issue_label(context: str) -> str | None:
    """The issue-date label that `context` ends with, read with a few letters wrong, or None."""
    tail = context.rstrip(" :.-")
    k = tail.rfind("date")
    if k < 0 or (k > 0 and tail[k - 1].isalpha()):
        return None
    label = tail[k:]
    if not 8 <= len(label) <= 40:
        return None
    for printed in ISSUE_DATE_LABELS:
        if SequenceMatcher(None, label, printed).ratio() >= MISREAD_LABEL_RATIO:
            return label
    return None


_RANGE_AFTER = re.compile(r"^\s*(?:au|a|-|–|jusqu'au)\s+")


def find_dates(text: str) -> list[DateCandidate]:
    """Every date of `text` with its label and role, in reading order. Never raises."""
    if not isinstance(text, str) or not text:
        return []
    folded = fold_text(text)
    found = sorted(set(_matches(folded, misread=True)), key=lambda t: t[0])
    # Drop matches inside another (a numeric date inside a longer written one cannot happen, but
    # overlapping numeric matches can).
    spans: list[tuple[int, int, date]] = []
    for s, e, v in found:
        if spans and s < spans[-1][1]:
            continue
        spans.append((s, e, v))
    out: list[DateCandidate] = []
    prev_end = 0
    for i, (s, e, v) in enumerate(spans):
        ctx = _context(folded, s, prev_end)
        role, prio, label = _label_of(ctx)
        after = folded[e:e + 20]
        nxt = spans[i + 1] if i + 1 < len(spans) else None
        is_range_start = nxt is not None and _RANGE_AFTER.match(folded[e:nxt[0]] + " ") is not None \
            and nxt[0] - e <= 12
        if is_range_start and role not in ("birth",):
            role, prio = "period", 0
        elif label in ("du",) or (label.endswith(" du") and role == "other"):
            role, prio = ("period", 0) if _RANGE_AFTER.match(after) else ("other", 0)
        elif role == "period" and label in ("au",):
            prev_is_date = i > 0 and s - spans[i - 1][1] <= 12
            if not prev_is_date:
                role, prio = "other", 0
        prev_end = e
        if role == "other" and not label:
            after_label = _label_on_next_line(folded, s, e)
            if after_label is not None:
                role, prio, label = after_label
        if role == "other" and _SLASHES_MISREAD.fullmatch(folded[s:e]) and not _NUMERIC.fullmatch(folded[s:e]):
            continue  # ten digits with no label: a number, not a date
        out.append(DateCandidate(text=text[s:e], date=v, label=label, role=role, priority=prio, start=s, end=e))
    return out


#: Under the labels read before their date: a label found after it decides only where none other does.
LABEL_AFTER_PRIORITY = 2


def _label_on_next_line(folded: str, start: int, end: int) -> tuple[str, int, str] | None:
    """The issue label of a date alone on its line, given by the next line when that line is the
    label alone, waiting for its value ("16 juil. 2026" then "votre facture du"): tesseract gives
    a label and its value in the wrong order when the photographed line is tilted or the two are
    set apart, and the value's line then comes first."""
    line_start = folded.rfind("\n", 0, start) + 1
    line_end = folded.find("\n", end)
    if line_end < 0 or folded[line_start:start].strip(" \t:|.-") or folded[end:line_end].strip(" \t:|.-"):
        return None
    next_end = folded.find("\n", line_end + 1)
    following = " ".join(folded[line_end + 1:next_end if next_end >= 0 else len(folded)].split())
    if not following or any(True for _ in _matches(following)):
        return None
    role, prio, label = _label_of(following + " ")
    if role != "issue" or prio < 5:
        return None
    return role, LABEL_AFTER_PRIORITY, label


def pick(candidates: list[DateCandidate], role: str = "issue") -> DateCandidate | None:
    """The candidate of `role` with the strongest label; the first one on ties."""
    best = None
    for c in candidates:
        if c.role != role:
            continue
        if best is None or c.priority > best.priority:
            best = c
    return best


def evidence(candidates: list[DateCandidate], used: DateCandidate | None) -> list[dict[str, Any]]:
    return [c.to_evidence(used=c is used) for c in candidates]


def parse_date(text: str) -> date:
    """The one date written in `text` (any form above). Raises DateParseError otherwise."""
    if not isinstance(text, str):
        raise DateParseError("not a string")
    folded = fold_text(text.strip())
    found = list(_matches(folded))
    if len(found) != 1:
        raise DateParseError("no date" if not found else "several dates")
    s, e, value = found[0]
    if folded[:s].strip() or folded[e:].strip(" .,;"):
        raise DateParseError("text around the date")
    return value
