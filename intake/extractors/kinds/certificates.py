"""Certificates and attestations (ASSR, JDC, medical opinion, training and exam certificates,
hosting attestation) and driving licences: holder, dates and the kind's own values, from the
printed lines.

A licence is often photographed on a table with its back beside it and other papers around, or
copied with its back on an A4 page: the page reader then flattens the wrong quadrilateral (a sheet
under the cards), reads the whole clutter, or loses a line of the card among the page's blocks.
When such a page gives no complete licence front, its cards are found (card-shaped
quadrilaterals whose sides follow edges, or bounded by four straight edges when no outline gives
a licence front: `card_lines`), flattened and read one by one (`read_photographed_cards`): a
fallback, run only when the first reading lacks a key value. A licence front whose field numbers
or slashes were misread is read from the order of its lines (`licence_text`).

Fail-safe (issue 16): a holder that reads like something else than a whole name
(`holder_names.doubtful`), categories read run together, a date whose box read again alone
gives another date, and a card's licence number that a reading made otherwise does not give
again are kept under the key-field threshold: a person reads them.

Second readings (issue 16, photos and quarter turns): a holder whose block and line readings
begin with another word is settled by its surname's line read alone; a medical verdict whose tick
the text lost is read from the ink of its boxes (`tick_boxes`); a birth date whose separators were
misread is read from its labelled line twice (`birth_lines`); categories after their whole label
are taken for a person to confirm."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import cv2
import numpy as np

from intake.extractors import classify as classify_mod
from intake.extractors import evidence as evidence_mod
from intake.extractors import fields as fields_mod
from intake.extractors.dates import evidence as dates_evidence
from intake.extractors.dates import find_dates, fold_text
from intake.extractors.dates import pick
from intake.extractors.kinds import birth_lines, card_lines, holder_names, licence_text, tick_boxes
from intake.extractors.kinds.context import PageContext
from intake.extractors.ocr.orient import edge_support, flatten_card
from intake.extractors.ocr.page_text import PageText, prepare, read_line
from intake.extractors.quality import gray

#: Rows of the categories table that make a licence page its back (the holder is on the front).
LICENCE_BACK_ROWS = 6
#: Confidence of a surname its two readings (field 1, the machine-readable line) disagree on:
#: under the key-field threshold, so that a person reads it.
DISAGREED_CONFIDENCE = 0.4
#: Confidence kept by a value read but not sure (a name that reads like a label, categories read
#: run together, "AMB" for "AM/B"): under the key-field threshold, so that a person reads it.
DOUBTFUL_CONFIDENCE = 0.4
#: The key fields of a licence's front (field 9 repeats the categories of the back's table).
LICENCE_FRONT_KEYS = ("holder_name", "licence_number", "categories")
#: Kinds that print their holder's birth date under a label (or a licence's field 3).
BORN_KINDS = ("assr", "jdc", "medical_opinion", "training_certificate", "exam_certificate", "driving_licence")


def read(ctx: PageContext) -> None:
    """A certificate's fields, and the dates it was chosen from as evidence."""
    page = ctx.page
    page.fields, block_holder = _fields(page.kind, ctx.text, ctx.dates)
    # The staged reader's trial on the top band (page.py, `_top_gives_all`, page 0) asks only which
    # fields the print gives: no second reading, no evidence (the page itself is read again after).
    trial = page.page == 0
    if page.kind != "driving_licence":  # (a licence's names are checked once its front is complete)
        if not trial and holder_names.first_words_differ(block_holder, page.fields.get("holder_name")):
            _settle_surname(ctx)
        holder_names.complete_given(page.fields, ctx.text.text)
        # the holder is taken from the geometric lines first: it is judged on them too (a surname
        # alone on its labelled line there, run into the next labels in the blocks)
        lines = ctx.text.line_text()
        for name in dict.fromkeys(holder_names.doubtful(page.fields, ctx.text.text)
                                  + holder_names.doubtful(page.fields, lines)):
            _keep_under_threshold(ctx, name)
        if not trial:
            _check_dates(ctx)
    if not trial and page.kind == "medical_opinion" and "fit" not in page.fields:
        _fit_from_boxes(ctx)
    if not trial and page.kind == "medical_opinion" and not page.fields.get("categories"):
        _categories_after_label(ctx)
    if not trial and page.kind in BORN_KINDS and not page.fields.get("birth_date"):
        _birth_from_line(ctx)
    used = pick(ctx.dates, "issue") or pick(ctx.dates, "exam")
    page.evidence["date_candidates"] = dates_evidence(ctx.dates, used)


def _check_dates(ctx: PageContext) -> None:
    """Each date read, its box read again alone (`evidence.reread_date`: with the page's model and
    another): a second reading that gives another date (a 3 read 8, 2026 read 2076 on a blurred
    photo) leaves the date to a person; the other model giving the same date makes it a double
    reading. (A second reading that gives no date says nothing either way.)"""
    page = ctx.page
    for name in ("issue_date", "birth_date"):
        value = page.fields.get(name)
        if not value or name in page.evidence.get("fields", {}):
            continue
        found = evidence_mod.text_evidence(ctx.text, {name: value}, page.page)
        entry = found.get(name) or {}
        if not entry.get("_box"):
            continue
        said, confidence = evidence_mod.reread_date(ctx.text, entry["_box"], value)
        if said == evidence_mod.AGREES:
            entry["readings"] = 2
            entry["confidence"] = round(max(float(entry.get("confidence") or 0.0), confidence), 3)
        elif said == evidence_mod.DIFFERS:
            entry["confidence"] = round(min(float(entry.get("confidence") or 0.0), DOUBTFUL_CONFIDENCE), 3)
        else:
            continue
        page.evidence.setdefault("fields", {})[name] = evidence_mod.strip_private(found)[name]


#: Confidence of a verdict read from the ink of its box alone (one reading, no text): enough to
#: count as read, never enough to refuse on (a refusal needs two readings).
TICK_CONFIDENCE = 0.6


def _fit_from_boxes(ctx: PageContext) -> None:
    """A medical opinion whose ticked box the text does not show (a tick read "À" or not at all):
    the option whose box holds clearly the most ink (`tick_boxes`)."""
    page = ctx.page
    option = tick_boxes.ticked(gray(ctx.text.image), ctx.text.words())
    if option is None:
        return
    page.fields["fit"] = option != "inapte"
    page.evidence.setdefault("fields", {})["fit"] = evidence_mod.FieldEvidence(
        TICK_CONFIDENCE, evidence_mod.OCR, None, page.page, None).to_json()


#: A medical opinion's categories label, its words misread or not ("Catégorie(s) de permis
#: concernée(s)"), and what follows it on its line.
_CATEGORIES_LABEL = re.compile(r"^\s*cat\w{3,7}(?:\W*s\b)?\W*(?:de permis\s*)?(?:concern\w*(?:\W*s\b)?\W*)?(.*)$")


def _categories_after_label(ctx: PageContext) -> None:
    """Categories after the whole of their label, on its line or the next, when they are codes and
    nothing else once put in capitals (a "C" alone is read "c"): one reading of a value the form's
    reading missed, kept under the key-field threshold (a person reads it)."""
    page = ctx.page
    for text in (ctx.text.line_text(), ctx.text.text):
        lines = [line for line in text.splitlines() if line.strip()]
        for i, line in enumerate(lines):
            m = _CATEGORIES_LABEL.match(fold_text(line).lower())
            if not m:
                continue
            value = line[len(line) - len(m.group(1)):].strip() if m.group(1) else \
                (lines[i + 1].strip() if i + 1 < len(lines) else "")
            codes = value.upper().replace(",", " ").replace("/", " ").split()
            if codes and len(codes) <= 6 and all(fields_mod.CATEGORY_RE.fullmatch(c) for c in codes):
                page.fields["categories"] = fields_mod.categories_in(" ".join(codes))
                _keep_under_threshold(ctx, "categories")
                return
            break


def _birth_from_line(ctx: PageContext) -> None:
    """A birth label read with no date the parser takes after it ("07 09.2010", "11127008"): the
    line read with loose separators, and read again alone (`birth_lines`). Both giving the date
    makes it read twice; one alone gives it under the key-field threshold."""
    page = ctx.page
    words = ctx.text.words()
    for text in (ctx.text.line_text(), ctx.text.text):
        for rest in birth_lines.labelled_lines(text, licence=page.kind == "driving_licence"):
            token = birth_lines.date_token(rest)
            if not token:
                continue
            first = birth_lines.loose_date(token)
            hit, line, reread, reread_confidence = _reread_line_of(ctx, words, token)
            second = birth_lines.second_reading(reread)
            value = first or second
            issued = page.fields.get("issue_date")
            if value is None or (issued and value.isoformat() >= issued):
                continue  # (a holder is born before the certificate is issued)
            agreed = first is not None and first == second
            confidence = min(hit.confidence if hit is not None else 0.0, reread_confidence) if agreed \
                else DOUBTFUL_CONFIDENCE
            page.fields["birth_date"] = value.isoformat()
            page.evidence.setdefault("fields", {})["birth_date"] = evidence_mod.FieldEvidence(
                round(min(confidence, 0.99), 3), evidence_mod.OCR, None, page.page,
                evidence_mod.scale_box(line, ctx.text.scale), 2 if agreed else 1).to_json()
            return


def _keep_under_threshold(ctx: PageContext, name: str) -> None:
    """The evidence of a value read but not sure: its confidence kept under the key-field
    threshold (the page's evidence step leaves a value with evidence as it is)."""
    page = ctx.page
    found = evidence_mod.text_evidence(ctx.text, {name: page.fields[name]}, page.page)
    entry = evidence_mod.strip_private(found)[name]
    entry["confidence"] = round(min(float(entry.get("confidence") or 0.0), DOUBTFUL_CONFIDENCE), 3)
    page.evidence.setdefault("fields", {})[name] = entry


def read_licence(ctx: PageContext) -> None:
    """A driving licence: its back is the categories table; its front (or an A4 copy) is read as a
    certificate, with the side known when it is a card. A photo whose reading lacks a key value of
    the front is read again card by card (the licence among other papers, or copied with its back
    on an A4 page)."""
    _read_licence_page(ctx)
    if _front_lacks(ctx.page) and not ctx.text.from_card and _front_in_sight(ctx):
        found = read_photographed_cards(ctx.image, want="driving_licence")
        if found is not None and _front_count(found[0]) > _front_count_of(ctx.page):
            adopt(ctx.text, found[0])
            ctx.page.text = ctx.text.text
            ctx.dates = find_dates(ctx.text.text)
            ctx.page.evidence.pop("fields", None)  # of the first reading
            # the page shows more than the face read (its back, other papers): no side to pair
            _read_licence_page(ctx, card=False)


def _check_surname(ctx: PageContext) -> None:
    """Field 1 against the surname of the licence's machine-readable line, when both are read: a
    field 1 cut short (a hologram or the ghost portrait over its end) is completed from the line,
    and a surname the two readings do not agree on is left for a person (its confidence lowered)."""
    page = ctx.page
    holder = page.fields.get("holder_name")
    machine = fields_mod.licence_machine_surname(ctx.text.text)
    if not holder or not machine:
        return
    words = holder.split()
    glued = re.sub(r"[^A-Z]", "", fold_text(holder).upper())
    if glued.startswith(machine):
        return  # the same surname (the line keeps its first 8 letters, without spaces or hyphens)
    first = re.sub(r"[^A-Z]", "", fold_text(words[0]).upper())
    if len(machine) < 8 and machine.startswith(first) and len(words) > 1:
        page.fields["holder_name"] = " ".join([machine] + words[1:])
    found = evidence_mod.text_evidence(ctx.text, {"holder_name": page.fields["holder_name"]}, page.page)
    entry = evidence_mod.strip_private(found)["holder_name"]
    entry["confidence"] = round(min(float(entry.get("confidence") or 0.0), DISAGREED_CONFIDENCE), 3)
    page.evidence.setdefault("fields", {})["holder_name"] = entry


def _read_licence_page(ctx: PageContext, card: bool | None = None) -> None:
    page = ctx.page
    text = ctx.text.text
    if classify_mod.licence_table_rows(text) >= LICENCE_BACK_ROWS:
        page.side = "back"
        held = fields_mod.licence_back_categories(ctx.text.words())
        page.fields = {"categories": held} if held else {}
        return
    page.side = "front" if (ctx.card if card is None else card) else None
    read(ctx)
    if licence_text.complete_front(page.fields, text) | _without_marks(page.fields, text):
        _keep_under_threshold(ctx, "categories")  # their slashes lost: left for a person
    if licence_text.given_below_surname(page.fields, text) or \
            "holder_name" in holder_names.doubtful(page.fields, text):
        _keep_under_threshold(ctx, "holder_name")
    if ctx.text.from_card and page.fields.get("licence_number") and not _number_read_again(ctx):
        _keep_under_threshold(ctx, "licence_number")
    _check_surname(ctx)


#: Sizes at which a card's licence number is read again, as one line of capitals and digits.
NUMBER_SCALES = (1.0, 0.6)
_NUMBER_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _number_read_again(ctx: PageContext) -> bool:
    """The licence number of a card found in a photo read again the same, as one line restricted
    to capitals and digits, at its size or reduced. The page's own second reading of its box is
    made the same way as the first, and on a blurred card both can misread the same digit (a 9
    read 0 twice): a reading made otherwise must agree too. (A number not traced to its words
    cannot be read again: it is not confirmed.)"""
    number = str(ctx.page.fields["licence_number"])
    found = evidence_mod.text_evidence(ctx.text, {"licence_number": number}, ctx.page.page)
    box = (found.get("licence_number") or {}).get("_box")
    if not box:
        return False
    x, y, w, h = box
    crop = ctx.text.line_crop(x, y, x + w, y + h)
    if crop.size == 0:
        return False
    for factor in NUMBER_SCALES:
        line = crop if factor == 1.0 else cv2.resize(crop, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
        # the English model: a reading made by another engine than the page's (the French one)
        if read_line(line, _NUMBER_CHARS, lang="eng").replace(" ", "") == number:
            return True
    return False


def _without_marks(fields: dict, text: str) -> bool:
    """The front read again from its lines with the field numbers misread before the values taken
    off ("| S 081250363344", "L BÉRANGER"): the key values still missing, and a holder or a number
    that is the value read again with such a mark glued before it. True when its categories
    were found run together."""
    plain = licence_text.without_field_marks(text)
    if plain == "\n".join(" ".join(line.split()) for line in text.splitlines()):
        return False
    again = fields_mod.licence_fields(plain)
    glued = licence_text.complete_front(again, plain)
    for key in ("holder_name", "licence_number"):
        was, now = str(fields.get(key) or ""), str(again.get(key) or "")
        if now and was != now and re.sub(r"\s", "", was).endswith(re.sub(r"\s", "", now)):
            fields[key] = now
    taken = [key for key, value in again.items() if value and not fields.get(key)]
    for key in taken:
        fields[key] = again[key]
    return glued and "categories" in taken


def _front_lacks(page) -> bool:
    """A key value of the licence not read (a back alone gives only the categories)."""
    return not all(page.fields.get(k) for k in LICENCE_FRONT_KEYS)


def _front_in_sight(ctx: PageContext) -> bool:
    """The page shows something of a licence's front (a back photographed alone does not: its
    card is the page already, and reading it again alone would give nothing more)."""
    if ctx.page.side != "back":
        return True
    text = ctx.text.text
    return classify_mod.licence_front_lines(text) > 0 or "permis" in classify_mod.normalise(text)


def _front_count_of(page) -> int:
    return sum(1 for k in LICENCE_FRONT_KEYS if page.fields.get(k))


def _fields(kind: str, pt: PageText, candidates) -> tuple[dict[str, Any], str | None]:
    """Fields from the page's printed lines (certificates are one column, and tesseract's column
    finding can cut a line in two), completed by the block reading for what those lack; with the
    holder the block reading gave (a second reading of the name, to compare)."""
    fields = fields_mod.certificate_fields(kind, pt.text, candidates)
    if kind == "driving_licence":
        return fields, None  # its fields are numbered blocks: the block reading is the right one
    by_lines = fields_mod.certificate_fields(kind, pt.line_text())
    return {**fields, **by_lines}, fields.get("holder_name")


def _settle_surname(ctx: PageContext) -> None:
    """The page's two readings of the holder (blocks, geometric lines) begin with another word: the
    surname's printed line is read again alone. The same first word settles it; a longer one that
    holds the first (a letter one reading lost) replaces it; anything else leaves the name to a
    person. A replaced name is one reading only: it too is kept under the key-field threshold."""
    page = ctx.page
    holder = page.fields["holder_name"]
    _hit, _line, text, _confidence = _reread_line_of(ctx, ctx.text.words(), holder.split()[0])
    same, fixed = holder_names.reread_settles(holder, text)
    if same:
        return
    if fixed:
        page.fields["holder_name"] = fixed
    _keep_under_threshold(ctx, "holder_name")


def _reread_line_of(ctx: PageContext, words: list, value: str):
    """The whole printed line through `value` read again alone: (the value's words as found, the
    line's box, the text and mean confidence of the second reading; "" and 0.0 when not found)."""
    hit = evidence_mod.locate(words, value)
    line = _line_box(words, hit.box) if hit is not None and hit.box else None
    text, confidence = ctx.text.reread_box(line) if line else ("", 0.0)
    return hit, line, text, confidence


def _line_box(words: list, box: list[int]) -> list[int] | None:
    """The box of the whole printed line through `box` (x, y, w, h): every word whose middle lies
    within its height (the label before the value, a part of the value read apart)."""
    x, y, w, h = box
    same = [(v.left, v.top, v.width, v.height) for v in words
            if y <= v.top + v.height / 2 <= y + h and v.height <= 3 * h]
    return evidence_mod.box_union(same + [(x, y, w, h)])


# --- cards photographed among other papers (issue 16) ----------------------------------------------
#: A scan's margins are paper white (the scanner's lid); a photo's border is the table, a white
#: desk's included: a card photographed from far on one was taken for a scan at 170 (family-2 seed
#: 125: a licence's two faces, each a twentieth of the photo, on a table of gray level 172).
PHOTO_BORDER = 215
#: Cards looked at on one photo (its front and back, and a card of another kind beside them).
MAX_CARDS = 4
#: Long side of a card flattened for reading: its smallest print (field numbers, the back's table)
#: stays above tesseract's preferred height.
CARD_SIDE = 1200
#: Classification confidence of a card read alone at or under which its kind is not taken (the
#: classifier gives at most this when two kinds are close).
AMBIGUOUS = 0.6
#: Key values of a licence's front read on a card that say its front was found (the straight-edge
#: search is then not run: what is missing is the reading of that card, not the card).
FRONT_FOUND = 2
#: Width over height of an ID-1 card (1.585), with room for a tilt's foreshortening.
CARD_RATIO = (1.35, 1.85)
#: A card's share of the photo: a card alone fills most of it; with its back and papers, a twentieth.
CARD_SHARE = (0.012, 0.8)


def photographed(image: np.ndarray) -> bool:
    """A photo (a table around the document) rather than a scan, whose margins are paper."""
    g = gray(image)
    border = np.concatenate([g[:4].ravel(), g[-4:].ravel(), g[:, :4].ravel(), g[:, -4:].ravel()])
    return float(np.median(border)) < PHOTO_BORDER


def _outline_masks(image: np.ndarray, work_side: int = 900) -> tuple[list[np.ndarray], list[np.ndarray], float]:
    """Edge maps (brightness, and the two colour axes: a pink or green card on white paper differs
    in colour more than in brightness) and the bright regions, of a reduced copy."""
    g = gray(image)
    h, w = g.shape[:2]
    scale = min(1.0, work_side / max(h, w))
    small = cv2.resize(g, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA) if scale < 1 else g
    channels = [(small, 30, 90)]
    if _in_colour(image):
        colour = cv2.resize(image, (small.shape[1], small.shape[0]), interpolation=cv2.INTER_AREA)
        lab = cv2.cvtColor(colour, cv2.COLOR_BGR2LAB)
        channels += [(lab[:, :, 1], 8, 24), (lab[:, :, 2], 8, 24)]
    else:
        # rendered in gray (a PDF): a pale card on white paper differs by a few grey levels only
        channels.append((small, 8, 24))
    kernel = np.ones((3, 3), np.uint8)
    edges = [cv2.dilate(cv2.Canny(cv2.GaussianBlur(ch, (5, 5), 0), lo, hi), kernel) for ch, lo, hi in channels]
    if len(edges) > 1:
        edges.append(np.bitwise_or.reduce(edges))
    _, bright = cv2.threshold(cv2.GaussianBlur(small, (5, 5), 0), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return edges, [cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))], scale


def _in_colour(image: np.ndarray) -> bool:
    """The image has colour (not gray, nor gray stored in three equal channels)."""
    if image.ndim != 3 or image.shape[2] != 3:
        return False
    sample = image[::16, ::16]
    return bool(np.any(sample[:, :, 0] != sample[:, :, 1]) or np.any(sample[:, :, 1] != sample[:, :, 2]))


def _card_score(quad: np.ndarray, image_area: float) -> float:
    """A convex quadrilateral with an ID-1 card's proportions, opposite sides alike (a photo from
    above): its share of the picture; else 0."""
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2).astype(np.int32)):
        return 0.0
    share = cv2.contourArea(quad) / image_area
    if not CARD_SHARE[0] <= share <= CARD_SHARE[1]:
        return 0.0
    sides = [float(np.linalg.norm(quad[(i + 1) % 4] - quad[i])) for i in range(4)]
    if min(sides[0], sides[2]) < 0.75 * max(sides[0], sides[2]) or \
            min(sides[1], sides[3]) < 0.75 * max(sides[1], sides[3]):
        return 0.0
    a, b = (sides[0] + sides[2]) / 2, (sides[1] + sides[3]) / 2
    return share if CARD_RATIO[0] <= max(a, b) / max(1.0, min(a, b)) <= CARD_RATIO[1] else 0.0


def _ordered(quad: np.ndarray) -> np.ndarray:
    """Corners as (tl, tr, br, bl) by the image axes."""
    s = quad.sum(axis=1)
    d = np.diff(quad, axis=1).ravel()
    return np.float32([quad[np.argmin(s)], quad[np.argmin(d)], quad[np.argmax(s)], quad[np.argmax(d)]])


def _same_place(a: np.ndarray, b: np.ndarray) -> float:
    """Area shared by two quadrilaterals over the larger one's (1: the same card found twice)."""
    inter, _ = cv2.intersectConvexConvex(a.astype(np.float32), b.astype(np.float32))
    return float(inter) / max(1.0, max(cv2.contourArea(a), cv2.contourArea(b)))


def _quad_of(contour: np.ndarray, image_area: float) -> tuple[float, np.ndarray] | None:
    """The card-shaped quadrilateral round a contour (its hull simplified to 4 corners), scored."""
    hull = cv2.convexHull(contour)
    for eps in (0.02, 0.035, 0.05):
        approx = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            quad = _ordered(approx.reshape(4, 2).astype(np.float32))
            score = _card_score(quad, image_area)
            return (score, quad) if score > 0 else None
    return None


def _outlined(edges: list[np.ndarray], regions: list[np.ndarray]) -> list[tuple[float, np.ndarray]]:
    """Cards whose whole outline is an edge, or which stand out as one bright region."""
    h, w = edges[0].shape[:2]
    found = []
    for mask, is_edge in [(m, True) for m in edges] + [(m, False) for m in regions]:
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            if cv2.contourArea(c) < 0.01 * w * h and cv2.arcLength(c, True) < 0.3 * (w + h):
                continue
            area = cv2.contourArea(cv2.convexHull(c))
            if area < CARD_SHARE[0] * w * h:
                continue
            if not is_edge and cv2.contourArea(c) < 0.5 * area:
                continue  # a region must fill its own outline: a hull over scattered blobs is no card
            quad = _quad_of(c, w * h)
            if quad is not None:
                found.append(quad)
    return found


def _cut_out(edges: np.ndarray) -> list[tuple[float, np.ndarray]]:
    """Cards lying on a paper or touching another: their outline merges with the paper's, but the
    edge between them (a step of colour or a shadow) parts them. The picture with every edge
    taken out falls into pieces; a card's face (its print only makes holes in it) is one."""
    h, w = edges.shape[:2]
    free = cv2.erode(cv2.bitwise_not(edges), np.ones((3, 3), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(free, connectivity=4)
    found = []
    for i in range(1, n):
        x, y, bw, bh, area = (int(v) for v in stats[i])
        if area < 0.5 * CARD_SHARE[0] * w * h or bw * bh < CARD_SHARE[0] * w * h:
            continue
        piece = (labels[y:y + bh, x:x + bw] == i).astype(np.uint8)
        contours, _ = cv2.findContours(piece, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE, offset=(x, y))
        c = max(contours, key=cv2.contourArea)
        if cv2.contourArea(c) < 0.7 * cv2.contourArea(cv2.convexHull(c)):
            continue
        quad = _quad_of(c, w * h)
        if quad is not None:
            found.append(quad)
    return found


#: Share of each side of a card's quadrilateral that must run along an edge of the picture: a
#: hull over a card and the paper it lies on has sides that cross the paper where no edge is.
EDGE_SUPPORT = 0.6


def card_quads(image: np.ndarray, limit: int = MAX_CARDS, by_lines: bool = False) -> list[np.ndarray]:
    """Corners (tl, tr, br, bl, in `image` pixels) of the card-shaped quadrilaterals of a photo
    whose every side follows an edge, largest first, no two the same: several cards may lie side
    by side or on papers (a card lying on a larger false outline is kept). With `by_lines`, the
    quadrilaterals bounded by four straight edges instead (`card_lines`: a card whose outline
    opens where it lies on a paper, or whose print fills its face at the working size)."""
    edges, regions, scale = _outline_masks(image)
    near_edge = cv2.dilate(edges[-1], np.ones((7, 7), np.uint8))
    if by_lines:
        h, w = edges[-1].shape[:2]
        candidates = []
        for quad in card_lines.line_quads(edges[-1], CARD_SHARE[0], CARD_SHARE[1], CARD_RATIO):
            quad = _ordered(quad)
            score = _card_score(quad, w * h)
            if score > 0:
                candidates.append((score, quad))
    else:
        # the edges thickened too: a card's outline with a gap where it meets a paper's edge
        cut = _cut_out(edges[-1]) + _cut_out(cv2.dilate(edges[-1], np.ones((5, 5), np.uint8)))
        candidates = _outlined(edges, regions) + cut
    found = [(score, quad) for score, quad in candidates if edge_support(quad, near_edge) >= EDGE_SUPPORT]
    found.sort(key=lambda f: -f[0])
    kept: list[np.ndarray] = []
    for _, quad in found:
        if all(_same_place(quad, k) <= 0.5 for k in kept):
            kept.append(quad)
    return [k / scale for k in kept[:limit]]


def read_card(image: np.ndarray, quad: np.ndarray) -> tuple[PageText, classify_mod.Classification]:
    """One card of a photo flattened, read as sparse text the right way up, and classified."""
    flat, _ = flatten_card(gray(image), quad, long_side=CARD_SIDE)
    pt = prepare(flat)
    pt.flattened = True
    pt.from_card = True
    pt.read(0.0, 1.0, psm=11)
    result = classify_mod.classify_text(pt.text, card_shaped=True)
    if result.kind == "driving_licence" and _front_count(pt) < len(LICENCE_FRONT_KEYS) and \
            classify_mod.licence_table_rows(pt.text) < LICENCE_BACK_ROWS:
        # sparse-text reading drops whole lines of a blurred card (its names, its number); reading
        # it as one block of lines keeps them, with the field numbers before them misread
        block = PageText(pt.image, rotation=pt.rotation, skew=pt.skew, flattened=True,
                         orientation_checked=True, scale=pt.scale, from_card=True)
        block.read(0.0, 1.0, psm=6)
        if _front_count(block) > _front_count(pt):
            return block, classify_mod.classify_text(block.text, card_shaped=True)
    return pt, result


def _front_count(pt: PageText) -> int:
    """Key values of a licence's front read on a card (0 for its back)."""
    if classify_mod.licence_table_rows(pt.text) >= LICENCE_BACK_ROWS:
        return 0
    found = fields_mod.licence_fields(pt.text)
    licence_text.complete_front(found, pt.text)
    _without_marks(found, pt.text)
    return sum(1 for k in LICENCE_FRONT_KEYS if found.get(k))


def read_photographed_cards(image: np.ndarray, want: str | None = None
                            ) -> tuple[PageText, classify_mod.Classification] | None:
    """The card of a photo to read as the page: of kind `want` when given (else of any kind the
    print names surely), a licence's front before its back. None when no card reads as such."""
    best, best_key = None, None
    read: list[np.ndarray] = []
    # the cards' outlines first; the quadrilaterals of straight edges only when those gave no
    # licence front (they cost a little more, and find what the outlines miss)
    for by_lines in (False, True):
        for quad in card_quads(image, by_lines=by_lines):
            if any(_same_place(quad, q) > 0.8 for q in read):
                continue  # the same card, found both ways
            read.append(quad)
            pt, result = read_card(image, quad)
            if result.kind == "unknown" or (want and result.kind != want) or result.confidence <= AMBIGUOUS:
                continue
            front = _front_count(pt) if result.kind == "driving_licence" else 0
            key = (front, result.confidence)
            if best_key is None or key > best_key:
                best, best_key = (pt, result), key
            if front == len(LICENCE_FRONT_KEYS):
                return best
        if best is not None and (want != "driving_licence" or best_key[0] >= FRONT_FOUND):
            break  # a licence's front found and read in part: its values are what is missing
    return best


def adopt(pt: PageText, other: PageText) -> None:
    """The page's reading becomes the card's (its image, bands, turn): the values read on the card
    are traced to its words, and their boxes given in it, as for any page flattened from a photo."""
    for f in dataclasses.fields(PageText):
        setattr(pt, f.name, getattr(other, f.name))
