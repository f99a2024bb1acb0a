"""The code's printed line on a sheet: where it is among the OCR words, and its glyphs cut out clean.

The free reading of a whole sheet gives the code as words whose boxes are not to be trusted one by
one: the side of a frame round the code merges with the first group into one tall word ("CV" read
"Le", 5 times the line's height), and a code printed with dashes is one word only. The line is
therefore taken by geometry: the row of words of the code's height that covers most of its
characters, widened to every word on that row that printed a piece of the code (a tall word gives
its width, not its height).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from intake.extractors.ephoto.code import glyph_boxes, normalise_code

#: A word of a code: letters and digits only, as OCR gives them (a bar for a 1 included).
_CODE_TOKEN = re.compile(r"^[A-Za-z0-9|]{1,8}$")


@dataclass(frozen=True)
class CodeLine:
    left: int
    top: int
    right: int
    bottom: int
    #: the OCR confidence (0..1) of the weakest word that printed the code: a code is as sure as
    #: its worst-read part (a frame read with its first group as "Le" scores 21 among words of 90)
    weakest: float


def _pieces(raw: str) -> list[str]:
    return [normalise_code(p) for p in re.split(r"[\s\-–]+", raw or "") if normalise_code(p)]


def _printed_code(word, code: str, pieces: list[str]) -> bool:
    """The word printed a piece of the code: it is one of the pieces read, or a run of the code."""
    text = normalise_code(re.sub(r"[^A-Za-z0-9|\-–]", "", word.text or ""))
    if len(text) < 2:
        return text in pieces and bool(text)
    return text in pieces or (len(text) >= 3 and text in code)


def locate_code_line(words: list, raw: str) -> CodeLine | None:
    """The box (in the words' pixels) of the line that printed `raw`, or None when no row of words
    covers half of its characters."""
    code = normalise_code(raw)
    pieces = _pieces(raw)
    if not code or not pieces:
        return None
    printed = [w for w in words if (w.text or "").strip() and _printed_code(w, code, pieces)]
    if not printed:
        return None
    heights = sorted(w.height for w in printed if len(normalise_code(w.text)) >= 2) or sorted(w.height for w in printed)
    usual = heights[len(heights) // 2]
    # words of the line's height; a far taller one is a frame merged with a group
    level = [w for w in printed if 0.5 * usual <= w.height <= 1.6 * usual]
    if not level:
        return None

    def row_of(seed):
        centre = seed.top + seed.height / 2
        return [w for w in level if abs(w.top + w.height / 2 - centre) <= 0.5 * usual]

    row = max((row_of(w) for w in level), key=lambda ws: sum(len(normalise_code(w.text)) for w in ws))
    covered = sum(len(normalise_code(w.text)) for w in row)
    if covered < 0.5 * len(code):
        return None
    top = min(w.top for w in row)
    bottom = max(w.top + w.height for w in row)
    centre = (top + bottom) / 2
    # every word on the row that printed the code, or a code-like word right beside the row's words
    # (a last group of one character too short to be matched), gives its width
    # (a word far taller than the line counts only when it printed a piece of the code: the photos
    # beside a code are read as tall short words, "ED", "CON")
    on_row = sorted((w for w in words if w.top <= centre <= w.top + w.height and (w.text or "").strip()
                     and (w.height <= 1.6 * usual or _printed_code(w, code, pieces))),
                    key=lambda w: w.left)
    chosen = [i for i, w in enumerate(on_row) if w in row or _printed_code(w, code, pieces)]
    if not chosen:
        return None
    lo, hi = min(chosen), max(chosen)
    while lo > 0 and _CODE_TOKEN.match(on_row[lo - 1].text or "") and \
            on_row[lo].left - (on_row[lo - 1].left + on_row[lo - 1].width) < 3 * usual:
        lo -= 1
    while hi + 1 < len(on_row) and _CODE_TOKEN.match(on_row[hi + 1].text or "") and \
            on_row[hi + 1].left - (on_row[hi].left + on_row[hi].width) < 3 * usual:
        hi += 1
    used = on_row[lo:hi + 1]
    left = min(w.left for w in used)
    right = max(w.left + w.width for w in used)
    confs = [max(0.0, float(w.conf)) for w in used]
    return CodeLine(int(left), int(top), int(right), int(bottom), min(confs) / 100.0 if confs else 0.0)


def clean_line(crop: np.ndarray) -> np.ndarray:
    """The crop of a code's line with only its glyphs kept: the sides of a frame round the code,
    rules and specks made white, so that a second reader does not read a side as a leading 1 or I."""
    import cv2

    g = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    boxes = glyph_boxes(g)
    if not boxes:
        return g
    out = np.full_like(g, 255)
    rows, cols = g.shape[:2]
    for x, y, w, h in boxes:
        y0, y1 = max(0, y - 1), min(rows, y + h + 1)
        x0, x1 = max(0, x - 1), min(cols, x + w + 1)
        out[y0:y1, x0:x1] = g[y0:y1, x0:x1]
    return out


#: Labels that announce the code on the line under them (not the bare "code": too common).
CODE_LABELS = ("code e-photo", "code ephoto", "code e photo", "photo-signature", "photo signature",
               "identifiant photo", "n° de signature", "no de signature", "numero de signature")


def label_box(words: list) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the first printed line (tesseract's block and line) whose
    text holds a code's label, or None."""
    from intake.extractors.dates import fold_text

    lines: dict[tuple[int, int], list] = {}
    for w in words:
        if (w.text or "").strip():
            lines.setdefault((w.block, w.line), []).append(w)
    for ws in (row for group in lines.values() for row in _rows(group)):
        folded = fold_text(" ".join(w.text for w in ws))
        if any(label in folded for label in CODE_LABELS):
            return (min(w.left for w in ws), min(w.top for w in ws),
                    max(w.left + w.width for w in ws), max(w.top + w.height for w in ws))
    return None


def _rows(words: list) -> list[list]:
    """Words of one tesseract (block, line) split into rows by height, left to right: a page read
    in bands numbers its blocks anew in each band, so one (block, line) may hold a line of the top
    and one of the bottom (a label's box then spanned half the sheet, and no line was under it)."""
    rows: list[list] = []
    for w in sorted(words, key=lambda w: w.top + w.height / 2):
        centre = w.top + w.height / 2
        if rows:
            last = rows[-1][-1]
            if abs(centre - (last.top + last.height / 2)) <= 0.6 * max(last.height, w.height):
                rows[-1].append(w)
                continue
        rows.append([w])
    return [sorted(r, key=lambda w: w.left) for r in rows]


#: The least width of a line of print under a label, in label heights (a date: "6/4/26" and more).
MIN_LINE_WIDTH = 2.0


def line_under(gray: np.ndarray, label: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the first line of print under a label, within four label
    heights, found by its ink: a frame round it (a stroke longer than 6 label heights, or taller
    than 1.6) is left out, and the line is the first run of inked rows at least 0.4 label height
    tall and two label heights wide. None when no such line."""
    found = lines_under(gray, label, 4)
    return found[0] if found else None


def lines_under(gray: np.ndarray, label: tuple[int, int, int, int], depth: int) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of each line of print under a label, within `depth` label heights,
    top to bottom, found by their ink as `line_under` finds the first."""
    import cv2

    left, top, right, bottom = label
    lh = max(4, bottom - top)
    rows, cols = gray.shape[:2]
    y0, y1 = bottom + lh // 4, min(rows, bottom + depth * lh)
    x0 = max(0, left - 2 * lh)
    region = gray[y0:y1, x0:]
    if region.size == 0:
        return []
    g = region if region.ndim == 2 else cv2.cvtColor(region, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    keep = np.zeros(n, bool)
    keep[1:] = (stats[1:, 2] <= 6 * lh) & (stats[1:, 3] <= 1.6 * lh) & (stats[1:, 4] >= 3)
    ink = keep[labels]
    inked = np.count_nonzero(ink, axis=1) >= 2
    found = []
    start = None
    for y, on in enumerate(list(inked) + [False]):
        if on and start is None:
            start = y
        elif not on and start is not None:
            cols_on = np.flatnonzero(ink[start:y].any(axis=0))
            # a line of print is rows and columns: a frame's piece left by the threshold (a few
            # pixels of a rounded frame's side) is rows only (family-2 seed 120, IDENTIPLUS sheet)
            if y - start >= 0.4 * lh and cols_on[-1] - cols_on[0] + 1 >= MIN_LINE_WIDTH * lh:
                found.append((int(x0 + cols_on[0]), int(y0 + start), int(x0 + cols_on[-1] + 1), int(y0 + y)))
            start = None
    return found


#: Shears tried when a code's line is made upright (horizontal shift per row, over the row height).
_SHEARS = tuple(round(0.04 * k, 2) for k in range(-10, 11))
#: The least shear worth undoing, and how much sharper its columns must be than the line's as given.
_MIN_SHEAR = 0.1
_SHEAR_GAIN = 1.04


def upright(crop: np.ndarray) -> np.ndarray:
    """The crop of a code's line with its glyphs made upright when they lean: a phone photo taken
    at a slant, once its perspective is undone, leaves a line's glyphs sheared like an italic (a
    bold mono 7LUMOP read ZLUNDP in a sans face). The shear is the one under which the glyphs'
    vertical strokes stack best (the columns' ink, squared and summed, is highest); the crop is
    returned as given when that is no clear lean."""
    import cv2

    g = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    rows, cols = g.shape[:2]
    if rows < 8 or cols < 8:
        return g
    _, ink = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    pad = int(np.ceil(max(abs(s) for s in _SHEARS) * rows / 2)) + 1

    def sheared(img, shear, fill):
        m = np.float32([[1, shear, pad - shear * rows / 2], [0, 1, 0]])
        return cv2.warpAffine(img, m, (cols + 2 * pad, rows), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_CONSTANT, borderValue=fill)

    def sharpness(shear):
        columns = sheared(ink, shear, 0).astype(np.float32).sum(axis=0) / 255.0
        return float(np.square(columns).sum())

    scores = {s: sharpness(s) for s in _SHEARS}
    best = max(scores, key=scores.get)
    if abs(best) < _MIN_SHEAR or scores[best] < _SHEAR_GAIN * scores[0.0]:
        return g
    paper = int(np.percentile(g, 90))
    return sheared(g, best, paper)
