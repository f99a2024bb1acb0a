"""The e-photo code (code photo-signature numérique) of a booth or photographer sheet.

The code is 22 characters of A-Z and 0-9, printed after a label ("Code e-photo", "Code
photo-signature numérique", "N° e-photo", ...), often in groups separated by spaces or dashes.

O/0 and I/1 cannot be told apart by the alphabet, since both are allowed, and booth codes are
random alphanumerics: a character's neighbours say nothing about it, so no rule by position is
applied. What the layout does allow, and is used:
- When the sheet also carries the code in a barcode (QR or DataMatrix), the barcode wins.
- The printed line of the code is read a second time alone, with tesseract restricted to A-Z and
  0-9 (page.py), so the glyph itself decides and no lower-case o/l or '|' survives.
- Characters outside the alphabet that have one meaning are mapped: '|' and 'l' to 1, lower-case
  letters to upper case (o to O).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake.extractors.dates import fold_text

CODE_LENGTH = 22
LABELS = ("code e-photo", "code ephoto", "code e photo", "e-photo", "ephoto", "photo-signature", "photo signature",
          "code photo", "code de la photo", "identifiant", "n° de code", "numero de code", "code")
_VALID = re.compile(r"^[A-Z0-9]{22}$")


@dataclass(frozen=True)
class PhotoCode:
    code: str  # as resolved: upper case, no spaces or dashes
    raw: str  # as read (groups kept), for the reviewer
    valid: bool
    source: str  # "text" or "barcode"


def is_valid(code: str) -> bool:
    return bool(_VALID.match(code or ""))


_OUTSIDE = {"|": "1", "l": "1", "!": "1"}


def normalise_code(raw: str) -> str:
    """Separators removed, characters outside A-Z 0-9 mapped: '7K3P 9qx2-|C' -> '7K3P9QX21C'."""
    chars = [_OUTSIDE.get(c, c) for c in raw if c not in " \t-–_."]
    return "".join(chars).upper()


_RUN = re.compile(r"[A-Za-z0-9|](?:[A-Za-z0-9|]|[ \-–.]{1,3}(?=[A-Za-z0-9|])){8,60}")


def _code_like(run: str) -> bool:
    """Printed codes are upper case with digits and letters; a run of lower-case words is prose."""
    lower = sum(c.islower() for c in run if c not in "lo")
    digits = sum(c.isdigit() for c in run)
    return lower == 0 and digits >= 2 and sum(c.isalpha() for c in run) >= 2


def _runs(line: str) -> list[str]:
    return [m.group(0) for m in _RUN.finditer(line) if _code_like(m.group(0))]


def find_code(text: str, barcode_texts: list[str] | None = None) -> PhotoCode | None:
    """The code on the sheet: from a barcode if one holds a 22-character code, else after a label,
    else any 22-character run. None when no code-like run is seen."""
    for payload in barcode_texts or []:
        for token in re.findall(r"[A-Za-z0-9]{22}", payload or ""):
            if sum(c.isdigit() for c in token) and sum(c.isalpha() for c in token):
                return PhotoCode(token.upper(), token, True, "barcode")
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    labelled: list[str] = []
    for i, line in enumerate(lines):
        folded = fold_text(line)
        for label in LABELS:
            k = folded.find(label)
            if k < 0:
                continue
            rest = line[k + len(label):]
            rest = re.sub(r"^[^A-Za-z0-9]*(?:[A-Za-z]+\s*)?(?:num[ée]rique|n°)?\s*[:=]?\s*", "", rest) \
                if ":" not in rest else rest.split(":", 1)[1]
            for part in (rest, lines[i + 1] if i + 1 < len(lines) else ""):
                labelled.extend(_runs(part))
                # a misread separator-like glyph ('7' read '/') splits the runs: keep the whole
                # line too, cleaned, as a near miss the page reader can read again
                whole = " ".join(re.sub(r"[^A-Za-z0-9|]+", " ", part).split())
                if whole and _code_like(whole) and whole not in labelled:
                    labelled.append(whole)
            break
    best: PhotoCode | None = None
    for source_runs in (labelled, [r for ln in lines for r in _runs(ln)]):
        for run in source_runs:
            code = normalise_code(run)
            candidate = PhotoCode(code, run, is_valid(code), "text")
            if candidate.valid:
                return candidate
            # keep the closest near miss among labelled runs, so the finding can name it
            if source_runs is labelled and 18 <= len(code) <= 26 and (best is None or
                                                                   abs(len(code) - 22) < abs(len(best.code) - 22)):
                best = candidate
        if best is not None:
            return best
    return None


def photo_date(candidates) -> str | None:
    from intake.extractors.dates import pick

    chosen = pick(candidates, "photo") or pick(candidates, "issue")
    return chosen.date.isoformat() if chosen else None


def glyph_boxes(line) -> list[tuple[int, int, int, int]]:
    """Boxes (x, y, w, h) of the characters of one printed line, left to right: ink components
    merged when they overlap horizontally (the dot inside a dotted zero joins its ring)."""
    import cv2
    import numpy as np

    g = line if line.ndim == 2 else cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    n, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return []
    rows = g.shape[0]
    boxes = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        centre = y + h / 2
        # the line sits in the middle of its crop; bits of the lines above and below touch the edges
        if area < 3 or not 0.25 * rows <= centre <= 0.75 * rows:
            continue
        boxes.append([int(x), int(y), int(w), int(h)])
    if not boxes:
        return []
    tallest = max(b[3] for b in boxes)
    boxes.sort(key=lambda b: b[0])
    merged: list[list[int]] = []
    for b in boxes:
        if merged:
            m = merged[-1]
            overlap = min(m[0] + m[2], b[0] + b[2]) - max(m[0], b[0])
            if overlap > 0.5 * min(m[2], b[2]):
                x0, y0 = min(m[0], b[0]), min(m[1], b[1])
                x1, y1 = max(m[0] + m[2], b[0] + b[2]), max(m[1] + m[3], b[1] + b[3])
                merged[-1] = [x0, y0, x1 - x0, y1 - y0]
                continue
        merged.append(b)
    # drop specks far smaller than a character (dust, dash separators are kept out by the caller)
    return [tuple(b) for b in merged if b[3] >= 0.5 * tallest]


def zero_or_o(line, code: str) -> str:
    """Settle O against 0 by the glyphs when the font dots or slashes its zeros.

    The line image must hold exactly the code's characters (separators may be spaces; dashes are
    dropped as too short). When one of the O/0 glyphs has ink in the middle of its ring, the font
    marks its zeros: marked rings are 0, empty ones O. When none is marked, nothing is changed
    (a font with plain zeros, or only letters O)."""
    import cv2
    import numpy as np

    if not code or not any(c in "O0" for c in code):
        return code
    boxes = glyph_boxes(line)
    if len(boxes) != len(code):
        return code
    g = line if line.ndim == 2 else cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    centre: dict[int, float] = {}
    for i, (ch, (x, y, w, h)) in enumerate(zip(code, boxes)):
        if ch not in "O0":
            continue
        core = ink[y + int(0.3 * h): y + int(0.7 * h) + 1, x + int(0.3 * w): x + int(0.7 * w) + 1]
        centre[i] = float(np.count_nonzero(core)) / max(core.size, 1)
    if not centre or max(centre.values()) < 0.12:
        return code
    out = list(code)
    for i, fill in centre.items():
        out[i] = "0" if fill >= 0.12 else "O"
    return "".join(out)
