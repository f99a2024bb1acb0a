"""How far each value read can be trusted, and where on the page it was read.

A requirement is met by values read with confidence, never by a page's kind alone (issue #15): so
every field a reader puts in a piece's `fields` gets an entry here (CONTRACT.md, "Evidence"):

- `confidence`: the reader's own estimate, 0 to 1 (tesseract's word confidences, the MRZ glyph
  matcher's score, the e-photo glyph matcher's score; 1.0 for a decoded 2D-Doc);
- `reader`: `mrz`, `twoddoc`, `ocr`, `photo_code`, `barcode`;
- `protected`: `check_digit` (an MRZ check digit covers the value and holds), `signature` (from a
  2D-Doc whose signature verified), or None;
- `readings`: how many independent readings gave the same value (a value read once and a value read
  again alone, from its own crop, agreeing: 2);
- `page`, `box`: where it was read, `[x, y, w, h]` in pixels of the page as rendered and turned
  upright (the page's frame is in the piece's `evidence["frames"]`).

Pure functions on words and dataclasses; the readers (page.py) call them. Nothing here reads pixels.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Sequence

#: Readers named in the evidence.
MRZ, TWODDOC, OCR, PHOTO_CODE, BARCODE = "mrz", "twoddoc", "ocr", "photo_code", "barcode"
CHECK_DIGIT, SIGNATURE = "check_digit", "signature"


@dataclass
class FieldEvidence:
    confidence: float
    reader: str
    protected: str | None = None
    page: int | None = None
    box: list[int] | None = None
    readings: int = 1

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["confidence"] = round(float(self.confidence), 3)
        return out


def box_union(boxes: Iterable[Sequence[float]]) -> list[int] | None:
    """The smallest [x, y, w, h] holding every box given (None for none)."""
    boxes = [b for b in boxes if b is not None]
    if not boxes:
        return None
    x0 = min(b[0] for b in boxes)
    y0 = min(b[1] for b in boxes)
    x1 = max(b[0] + b[2] for b in boxes)
    y1 = max(b[1] + b[3] for b in boxes)
    return [int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))]


def scale_box(box: Sequence[float] | None, factor: float) -> list[int] | None:
    """A box measured on a resized image, in pixels of the image before the resize."""
    if box is None:
        return None
    if factor <= 0:
        return [int(v) for v in box]
    return [int(round(v / factor)) for v in box]


# --- locating a value among the words read --------------------------------------------------------

def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^A-Z0-9]", "", text.upper())


def _tokens(value: Any) -> list[str]:
    """The value cut as the words that print it are folded: at spaces (and commas); a date's
    slashes, an apostrophe or a hyphen stay inside their word, as OCR gives them."""
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    return [t for t in (_fold(p) for p in re.split(r"[\s,;]+", str(value))) if t]


@dataclass(frozen=True)
class Located:
    box: list[int] | None
    confidence: float  # mean word confidence (0..1) of the words holding the value, times the share found
    found: float  # share of the value's tokens found among the words


def locate(words: Sequence[Any], value: Any, *, near: int | None = None) -> Located | None:
    """The words that printed `value` (tokens matched in reading order, on neighbouring lines).

    `words` are `ocr.Word`-like (text, conf 0..100, left, top, width, height). The value's tokens
    are looked for as whole words or parts of words (a date "12/03/2026" is one word; a name may be
    cut by the layout into two). `near`, a word index, prefers the occurrence closest to it. None when
    no token is found at all."""
    tokens = _tokens(value)
    if not tokens or not words:
        return None
    folded = [_fold(getattr(w, "text", "")) for w in words]
    best: tuple[float, int, list[int]] | None = None
    for start, text in enumerate(folded):
        if not _matches(tokens[0], text):
            continue
        used = [start]
        line_h = max(1, getattr(words[start], "height", 1))
        top = getattr(words[start], "top", 0)
        joined = text
        # A token may span several words ("12/03/2026" read "12/03/ 2026") or a word several tokens.
        t = _consume(tokens, joined)
        j = start + 1
        while t < len(tokens) and j < len(words) and j - start <= 4 * len(tokens) + 8:
            w = words[j]
            # a form gives a name on labelled lines ("Nom de naissance", "Nom d'usage", "Prénom(s)")
            if abs(getattr(w, "top", 0) - top) > 12 * line_h:
                j += 1
                continue
            if _matches(tokens[t], folded[j]):
                used.append(j)
                joined += folded[j]
                t = max(t + 1, _consume(tokens, joined))
            j += 1
        share = min(1.0, t / len(tokens))
        distance = abs(start - near) if near is not None else 0
        key = (share, -distance, used)
        if best is None or key[:2] > best[:2]:
            best = key
    if best is None:
        return None
    share, _, used = best
    chosen = [words[i] for i in used]
    confs = [max(0.0, float(getattr(w, "conf", 0.0))) / 100.0 for w in chosen]
    conf = (sum(confs) / len(confs)) * share if confs else 0.0
    box = box_union([(w.left, w.top, w.width, w.height) for w in chosen])
    return Located(box, round(conf, 3), share)


def _matches(token: str, word: str) -> bool:
    """A word holds a token, or a part of it (a name cut in two by the layout); short tokens (a
    category, an initial) only as the whole word."""
    if not word:
        return False
    if token == word:
        return True
    return (len(token) >= 3 and token in word) or (len(word) >= 3 and word in token)


def _consume(tokens: list[str], joined: str) -> int:
    """How many of `tokens`, in order, the concatenation `joined` covers."""
    n, pos = 0, 0
    for tok in tokens:
        at = joined.find(tok, pos)
        if at < 0:
            break
        n += 1
        pos = at + len(tok)
    return n


def words_in_span(spans: Sequence[tuple[int, int, Any]], start: int, end: int) -> list[Any]:
    """The words whose characters overlap [start, end) of the text they were joined into."""
    return [w for s, e, w in spans if s < end and e > start]


def from_words(words: Sequence[Any], reader: str = OCR, page: int | None = None) -> FieldEvidence:
    confs = [max(0.0, float(w.conf)) / 100.0 for w in words]
    box = box_union([(w.left, w.top, w.width, w.height) for w in words])
    return FieldEvidence(round(sum(confs) / len(confs), 3) if confs else 0.0, reader, None, page, box)


# --- agreeing readings ------------------------------------------------------------------------------

def same_tokens(value: Any, reread: str) -> bool:
    """A second reading agrees with a value when every token of the value is found in it, in order."""
    tokens = _tokens(value)
    return bool(tokens) and _consume(tokens, _fold(reread)) == len(tokens)


# --- evidence of the readers, page by page --------------------------------------------------------
# (the page reader calls these; boxes go out in pixels of the rendered page turned upright)

#: Which MRZ line carries each field, by format (ICAO 9303; the French laminated CNI's own layout).
_MRZ_LINE = {
    "td3": {"surname": 0, "given_names": 0},
    "td2": {"surname": 0, "given_names": 0},
    "td1": {"document_number": 0, "surname": 2, "given_names": 2},
    "fr_cni_2x36": {"surname": 0, "document_number": 1, "given_names": 1, "issue_date": 1},
}
#: The MRZ check digit that covers each field when it holds.
_MRZ_CHECK = {"document_number": "number", "birth_date": "birth", "expiry_date": "expiry"}


def mrz_frame(shape: tuple[int, ...], rotation: int) -> dict[str, Any]:
    h, w = shape[:2]
    if rotation % 180:
        w, h = h, w
    return {"width": int(w), "height": int(h), "rotation": int(rotation) % 360, "flattened": False}


def mrz_evidence(mrz: Any, page: int) -> dict[str, dict[str, Any]]:
    """Every field of an MRZ reading: the glyph matcher's confidence, its line of the band, and the
    check digit that vouches for it (names only where a check digit covers them)."""
    checks = getattr(mrz, "checks", {}) or {}
    lines = max(1, len(getattr(mrz, "lines", None) or []) or 2)
    box = list(mrz.box) if getattr(mrz, "box", None) else None
    layout = _MRZ_LINE.get(mrz.format, {})
    out: dict[str, dict[str, Any]] = {}
    for name in list(mrz.fields) + ["mrz_valid", "mrz_format"]:
        protected = None
        if name in ("surname", "given_names"):
            protected = CHECK_DIGIT if mrz.names_protected else None
        elif name in _MRZ_CHECK and checks.get(_MRZ_CHECK[name]):
            protected = CHECK_DIGIT
        elif name in ("issue_date", "expiry_date") and mrz.format == "fr_cni_2x36" and checks.get("number"):
            protected = CHECK_DIGIT  # the issue month is the card number's YYMM; the expiry follows from it
        line_box = box
        if box is not None:
            index = layout.get(name, 1 if lines > 1 else 0)
            step = box[3] / lines
            line_box = [box[0], int(round(box[1] + index * step)), box[2], int(round(step))]
        out[name] = FieldEvidence(float(mrz.confidence), MRZ, protected, page, line_box).to_json()
    return out


#: Where each MRZ format keeps the given names: (line, start, end).
_MRZ_GIVEN_NAMES = {"td3": (0, 5, 44), "td2": (0, 5, 36), "td1": (2, 0, 30), "fr_cni_2x36": (1, 13, 27)}


def mrz_names_full(mrz: Any) -> bool:
    """The MRZ's name field is filled to its last character: a long surname may have left no room
    for the given names (ICAO 9303 truncates them), so their absence is no failure to read."""
    where = _MRZ_GIVEN_NAMES.get(getattr(mrz, "format", ""))
    lines = getattr(mrz, "lines", None) or []
    if where is None or len(lines) <= where[0]:
        return False
    part = lines[where[0]][where[1]:where[2]]
    return len(part) == where[2] - where[1] and not part.endswith("<")


def twoddoc_evidence(names: Iterable[str], signature_valid: bool | None, page: int) -> dict[str, dict[str, Any]]:
    """Values taken from a decoded 2D-Doc: error-corrected, and signed when the signature verified."""
    protected = SIGNATURE if signature_valid is True else None
    confidence = 1.0 if signature_valid is True else 0.9
    return {n: FieldEvidence(confidence, TWODDOC, protected, page, None).to_json() for n in names}


DATE_FIELDS = ("issue_date", "photo_date", "birth_date", "expiry_date")


def text_evidence(pt: Any, fields: dict[str, Any], page: int, skip: Iterable[str] = ()) -> dict[str, dict[str, Any]]:
    """Evidence of values found in the OCR text of `pt` (intake.extractors.ocr.page_text.PageText): each value
    traced back to the words that printed it; their mean confidence, their box. A value derived from
    the page as a whole (a subtype, a fit/unfit tick) gets the page's mean word confidence, no box."""
    from intake.extractors.dates import find_dates

    words = pt.words()
    spans = pt.word_spans()
    text = pt.text
    out: dict[str, dict[str, Any]] = {}
    page_conf = (sum(max(0.0, w.conf) for w in words) / len(words) / 100.0) if words else 0.0
    dated = None
    for name, value in fields.items():
        if name in skip or name == "two_d_doc":
            continue
        chosen: list[Any] = []
        share = 1.0
        if name in DATE_FIELDS and isinstance(value, str):
            if dated is None:
                dated = find_dates(text)
            same = [c for c in dated if c.date.isoformat() == value]
            if same:
                chosen = words_in_span(spans, same[-1].start, same[-1].end) if name == "expiry_date" else \
                    words_in_span(spans, same[0].start, same[0].end)
            else:
                found = [c for c in find_dates(pt.line_text()) if c.date.isoformat() == value]
                hit = locate(words, found[0].text) if found else None
                if hit is not None:
                    out[name] = FieldEvidence(hit.confidence, OCR, None, page, scale_box(hit.box, pt.scale)).to_json()
                    out[name]["_box"] = hit.box
                    continue
        elif name == "training" and isinstance(value, str):
            chosen = _training_words(words, value)
        elif isinstance(value, (str, list)) and value:
            hit = locate(words, value)
            if hit is not None and hit.found >= 0.5:
                out[name] = FieldEvidence(hit.confidence, OCR, None, page, scale_box(hit.box, pt.scale)).to_json()
                out[name]["_box"] = hit.box
                continue
        if chosen:
            ev = from_words(chosen, OCR, page)
            ev.confidence *= share
            out[name] = ev.to_json()
            out[name]["_box"] = ev.box
            out[name]["box"] = scale_box(ev.box, pt.scale)
        else:
            # derived from the page as a whole, or not traced back to its words: no place, and the
            # page's mean confidence, lowered (a value that cannot be traced is a doubtful one)
            out[name] = FieldEvidence(round(page_conf * 0.8, 3), OCR, None, page, None).to_json()
    return out


def _printed_lines(words: Sequence[Any]) -> list[list[Any]]:
    """Words grouped into printed lines by vertical overlap, top down, each left to right."""
    lines: list[list[Any]] = []
    for w in sorted(words, key=lambda w: (w.top + w.height / 2, w.left)):
        centre = w.top + w.height / 2
        if lines and lines[-1][0].top <= centre <= lines[-1][0].top + lines[-1][0].height:
            lines[-1].append(w)
        else:
            lines.append([w])
    return [sorted(line, key=lambda w: w.left) for line in lines]


def _training_words(words: Sequence[Any], value: str) -> list[Any]:
    """The printed line that names the training (its title, usually)."""
    from intake.extractors.fields import training_of

    for line in _printed_lines(words):
        if training_of(" ".join(w.text for w in line)) == value:
            return line
    return []


#: The most a date may be trusted when its box, read again alone, gives another date.
DISAGREEING_DATE = 0.4


def confirm_by_rereading(pt: Any, kind: str, fields: dict[str, Any], evidence: dict[str, dict[str, Any]],
                         names: Iterable[str]) -> None:
    """Read again, alone, the box of each value named (a refusal may rest on them): a second reading
    that gives the same value makes it `readings: 2`, with the better of the two confidences (two
    readings agreeing, one of them sure, is the "consistent double reading" a refusal may rest on); a
    second reading that gives another date leaves the first one in doubt (DISAGREEING_DATE). A date
    is read again with two models (`reread_date`)."""
    for name in names:
        ev = evidence.get(name)
        value = fields.get(name)
        if not ev or value in (None, "", []) or ev.get("protected") or not ev.get("_box"):
            continue
        if name in DATE_FIELDS:
            said, confidence = reread_date(pt, ev["_box"], value)
            if said == DIFFERS:
                # the box read alone gives another date: which of the two is printed is a doubt
                ev["confidence"] = min(float(ev.get("confidence") or 0.0), DISAGREEING_DATE)
                continue
            agree = said == AGREES
        else:
            text, confidence = pt.reread_box(ev["_box"])
            if not text:
                continue
            if name == "training":
                from intake.extractors.fields import training_of

                agree = training_of(text) == value
            else:
                agree = same_tokens(value, text)
        if agree:
            ev["readings"] = 2
            ev["confidence"] = round(max(float(ev.get("confidence") or 0.0), confidence), 3)


#: What a second reading of a date's box says of the date read first.
AGREES, DIFFERS, SILENT = "agrees", "differs", "silent"


def reread_date(pt: Any, box: list[int], value: str) -> tuple[str, float]:
    """A date's box read again alone, with another model than the page's (English) first: (AGREES,
    its confidence) when it gives the same date; DIFFERS when it gives another one, whatever the
    page's model says (a blurred 03 read 05 by the French model on the page and again alone: family-2
    seed 120). When it reads no date, the page's model reading the box alone decides the same way;
    else SILENT (a reading that gives no date says nothing either way)."""
    from intake.extractors.dates import find_dates

    def another_date(text: str) -> bool:
        return bool(text) and not date_agrees(value, text) and bool(find_dates(text))

    other, confidence = pt.reread_box(box, lang="eng")
    if other and date_agrees(value, other):
        return AGREES, confidence
    if another_date(other):
        return DIFFERS, 0.0
    # the other model read no date (a French month it does not know, print it cannot make out):
    # the page's model reads the box alone, as a second reading of its own
    same, confidence = pt.reread_box(box)
    if another_date(same):
        return DIFFERS, 0.0
    if same and date_agrees(value, same):
        return AGREES, confidence
    return SILENT, 0.0


#: What a date's separators may be read as, alone on a crop (a bold slash read 1, l, I or |).
_DATE_SEPARATORS = "/.-1lI|"


def date_agrees(value: str, text: str) -> bool:
    """A second reading of a date's box gives the same date: parsed as a date, or its day, month and
    year in order with separators read as what a slash is often read as (the first reading allowed
    that too, under a label)."""
    from intake.extractors.dates import find_dates

    if any(c.date.isoformat() == value for c in find_dates(text)):
        return True
    try:
        year, month, day = value.split("-")
    except ValueError:
        return False
    squeezed = re.sub(r"\s+", "", text)
    for sep in _DATE_SEPARATORS:
        for d in {day, day.lstrip("0")}:
            for y in (year, year[2:]):
                if f"{d}{sep}{month}{sep}{y}" in squeezed:
                    return True
    return False


def strip_private(evidence: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Evidence as stored: without the reader's own working boxes."""
    return {k: {kk: vv for kk, vv in v.items() if not kk.startswith("_")} for k, v in evidence.items()}
