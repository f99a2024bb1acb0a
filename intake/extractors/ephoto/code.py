"""The e-photo code (code photo-signature numérique) of a booth or photographer sheet.

The code is 22 characters of A-Z and 0-9, printed after a label ("Code e-photo", "Code
photo-signature numérique", "N° e-photo", ...), often in groups separated by spaces or dashes.

O/0 and I/1 cannot be told apart by the alphabet, since both are allowed, and booth codes are
random alphanumerics: a character's neighbours say nothing about it, so no rule by position is
applied. What the layout does allow, and is used, in this order (page.py):
- When the sheet also carries the code in a barcode (QR or DataMatrix), the barcode wins.
- The code is printed on one line of its own: the line is cut into glyphs (a monospaced pitch
  splits touching ones) and each glyph is matched against A-Z 0-9 templates of common faces; when
  a face matches the whole line well, the glyphs decide (a dotted or slashed zero is a 0, a plain
  ring an O, a serifed I an I). No language model, so no inserted or swapped characters. The
  face is sought with the glyphs' widths as printed, condensed and stretched, and the line then
  read at a few cap heights, so that a face whose digits stand taller than its capitals (OCR-B:
  its 0 taller than its O) is matched at its own scale whatever the line's mix of characters.
  A glyph matching two characters about as well is settled by the other readings of the line, or
  left in doubt (vote.py); O against 0 by the middle of the ring when the face marks its zeros.
- Otherwise the line is read alone by tesseract restricted to A-Z 0-9, then `zero_or_o` settles
  O against 0 by the glyphs when the face marks its zeros.
- Characters outside the alphabet that have one meaning are mapped: '|' and 'l' to 1, lower-case
  letters to upper case (o to O).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from intake.extractors.dates import fold_text

CODE_LENGTH = 22
LABELS = ("code e-photo", "code ephoto", "code e photo", "e-photo", "ephoto", "photo-signature", "photo signature",
          "code photo", "code de la photo", "identifiant photo", "identifiant", "n° de signature", "no de signature",
          "numero de signature", "n° de code", "numero de code", "code")
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


#: Letters whose small and capital forms have the same shape: OCR picks either case.
_CASELESS = frozenset("closuvwxz")


def _code_like(run: str, labelled: bool = False) -> bool:
    """Printed codes are upper case with digits and letters; a run of lower-case words is prose.
    Right under its label, a run of code length is taken even when OCR turned its digits into
    letters (9 read IJ, 0 read O)."""
    lower = sum(c.islower() for c in run if c not in _CASELESS)
    digits = sum(c.isdigit() for c in run)
    letters = sum(c.isalpha() for c in run)
    if labelled and lower <= 2 and 18 <= digits + letters <= 26 and (lower == 0 or digits >= 2):
        # (a capital or two read small, "Ga" for GQ, is a slip the glyph reading settles)
        return True
    return lower == 0 and digits >= 2 and letters >= 2


def _runs(line: str) -> list[str]:
    return [m.group(0) for m in _RUN.finditer(line) if _code_like(m.group(0))]


def find_code(text: str, barcode_texts: list[str] | None = None) -> PhotoCode | None:
    """The code on the sheet: from a barcode if one holds a 22-character code, else after a label,
    else any 22-character run. None when no code-like run is seen."""
    for payload in barcode_texts or []:
        for token in re.findall(r"(?<![A-Za-z0-9])[A-Za-z0-9]{22}(?![A-Za-z0-9])", payload or ""):
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
            # the code follows on the label's line or under it; a speck read as a short line
            # ("CO", "| e e") may come between, and on a photo a frame or the end of a slanted code
            # line read apart ("VUS = pe", "V PA"): the first line under it that is code-like
            below = [ln for ln in lines[i + 1:i + 5] if len(re.sub(r"[^A-Za-z0-9]", "", ln)) >= 8
                     and (_runs(ln) or _code_like(" ".join(re.sub(r"[^A-Za-z0-9|]+", " ", ln).split()),
                                                  labelled=True))][:1]
            for part in (rest, *below):
                labelled.extend(_runs(part))
                # a misread separator-like glyph ('7' read '/') splits the runs: keep the whole
                # line too, cleaned, as a near miss the page reader can read again
                whole = " ".join(re.sub(r"[^A-Za-z0-9|]+", " ", part).split())
                if whole and _code_like(whole, labelled=True) and whole not in labelled:
                    labelled.append(whole)
            break
    best: PhotoCode | None = None
    for source_runs in (labelled, [r for ln in lines for r in _runs(ln)]):
        for run in source_runs:
            code = normalise_code(run)
            candidate = PhotoCode(code, run, is_valid(code), "text")
            if candidate.valid:
                return candidate
            # keep the closest near miss among labelled runs, so the finding can name it; a run
            # one character off anywhere on the sheet, when no label was read, is one too
            near = 18 <= len(code) <= 26 if source_runs is labelled else 21 <= len(code) <= 23
            if near and (best is None or abs(len(code) - 22) < abs(len(best.code) - 22)):
                best = candidate
        if best is not None:
            return best
    return None


def photo_date(candidates) -> str | None:
    from intake.extractors.dates import pick

    chosen = pick(candidates, "photo") or pick(candidates, "issue")
    return chosen.date.isoformat() if chosen else None


def _frame_side_pieces(stats, rows: int) -> set[int]:
    """The components that are a frame's side broken into dashes by the threshold (a light grey
    frame on a scan): hairline pieces one above the other in one straight column (same left edge
    and width to 2 px), spanning the crop's height and inked over half of it (its middle piece,
    level with the glyphs, was read as a leading 'T'). A glyph's stroke is wider than a hairline,
    and bits of the lines above and below do not line up with it to 2 px."""
    thin = [i for i in range(1, len(stats)) if stats[i][2] < 0.08 * rows]
    found: set[int] = set()
    for i in thin:
        x, w = stats[i][0], stats[i][2]
        column = [j for j in thin if abs(stats[j][0] - x) <= 2 and abs(stats[j][2] - w) <= 2]
        span = max(stats[j][1] + stats[j][3] for j in column) - min(stats[j][1] for j in column)
        if len(column) >= 2 and span >= 0.8 * rows and sum(stats[j][3] for j in column) >= 0.5 * rows:
            found.update(column)
    return found


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
    sides = _frame_side_pieces(stats, rows)
    boxes = []
    for i in range(1, n):
        if i in sides:
            continue
        x, y, w, h, area = stats[i]
        centre = y + h / 2
        # the line sits in the middle of its crop; bits of the lines above and below touch the edges
        if area < 3 or not 0.25 * rows <= centre <= 0.75 * rows:
            continue
        # ink from edge to edge of the crop is the frame a code is printed in, not a glyph (its
        # side read as a leading 'T' or '1'): the crop leaves a margin above and below the glyphs
        if h >= 0.9 * rows or (w >= 0.9 * g.shape[1] and w > 8 * h):
            continue
        # a thin stroke on the crop's left or right edge is the frame's side too, broken into
        # dashes by the scan (the crop leaves a margin of white beside the first and last glyphs)
        if (x == 0 or x + w == g.shape[1]) and w < 0.2 * rows:
            continue
        boxes.append([int(x), int(y), int(w), int(h)])
    if not boxes:
        return []
    # a thin stroke much taller than the glyphs is a frame's side (a rounded corner of a box)
    heights = sorted(b[3] for b in boxes)
    usual = heights[len(heights) // 2]
    boxes = [b for b in boxes if not (b[3] > 1.4 * usual and b[2] < 0.3 * b[3])] or boxes
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
    kept = [b for b in merged if b[3] >= 0.5 * tallest]
    if len(kept) < 3:
        return [tuple(b) for b in kept]
    # glyphs touching each other (VV, WY in a tight face) make one box twice as wide: cut it
    widths = sorted(b[2] for b in kept)
    ink = widths[len(widths) // 2]
    steps = sorted(b[0] - a[0] for a, b in zip(kept, kept[1:]))
    close = [d for d in steps if d < 2.2 * ink] or [ink]
    advance = close[len(close) // 2]  # the pitch of a monospaced face, from glyph to glyph
    out: list[tuple[int, int, int, int]] = []
    for x, y, w, h in kept:
        n = max(1, int(w / advance + 0.35)) if w > 1.5 * ink else 1
        for k in range(n):
            out.append((x + k * w // n, y, w // n, h))
    return out


def ink_extent(gray, left: int, top: int, right: int, bottom: int) -> tuple[int, int]:
    """(left, right) of a printed line widened to glyphs beside it that the OCR did not give as
    words (a last character lost at the end of a code line): ink runs no wider than a glyph, each
    within a glyph's height of the last one, on the line's rows."""
    import cv2
    import numpy as np

    h = max(1, bottom - top)
    x0, x1 = max(0, left - 4 * h), min(gray.shape[1], right + 4 * h)
    band = gray[top:bottom, x0:x1]
    if band.size == 0:
        return left, right
    if band.ndim == 3:
        band = cv2.cvtColor(band, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(band, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    cols = np.count_nonzero(ink, axis=0) >= max(2, h // 8)

    def runs(indices):
        out, start, prev = [], None, None
        for i in indices:
            if cols[i] and start is None:
                start = i
            if not cols[i] and start is not None:
                out.append((start, prev))
                start = None
            prev = i
        if start is not None:
            out.append((start, prev))
        return out

    new_right = right - x0
    for a, b in runs(range(right - x0, len(cols))):
        if a - new_right > h or b - a > 1.2 * h:
            break
        new_right = b + 1
    new_left = left - x0
    for b, a in runs(range(left - x0 - 1, -1, -1)):  # walking leftwards: runs come end first
        if new_left - b > h or b - a > 1.2 * h:
            break
        new_left = a
    return new_left + x0, new_right + x0


#: How far beside a code's line (in line heights) print is looked for, and how wide an ink run must
#: be to be a glyph rather than a frame's side (a rule, a stroke of a rounded box).
BESIDE_DEPTH = 3.0
GLYPH_MIN_WIDTH = 0.3


def glyphs_beside(gray, box) -> bool:
    """Whether glyph-wide ink lies on the rows of a line (`box`: x, y, w, h) within BESIDE_DEPTH
    line heights left or right of it: the line may go on beyond what was read (a code group past a
    gap wider than the others), so a reading of it is not the whole line."""
    import cv2
    import numpy as np

    x, y, w, h = (int(v) for v in box)
    h = max(1, h)
    depth = int(BESIDE_DEPTH * h)
    rows = gray[max(0, y):y + h]
    if rows.size == 0:
        return False
    if rows.ndim == 3:
        rows = cv2.cvtColor(rows, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(rows, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    cols = np.count_nonzero(ink, axis=0) >= max(2, h // 8)
    for a, b in ((max(0, x - depth), max(0, x - 2)), (min(cols.size, x + w + 2), min(cols.size, x + w + depth))):
        run = 0
        for on in cols[a:b]:
            run = run + 1 if on else 0
            if run >= GLYPH_MIN_WIDTH * h:
                return True
    return False


def zero_rings(line, code: str) -> dict[int, bool] | None:
    """For each O or 0 of `code`, whether its glyph is a marked zero (ink in the middle of its
    ring), when the font marks its zeros; None when it does not (no ring is marked) or the line
    does not cut into as many glyphs as `code` has characters."""
    import cv2
    import numpy as np

    if not code or not any(c in "O0" for c in code):
        return None
    boxes = glyph_boxes(line)
    if len(boxes) != len(code):
        return None
    g = line if line.ndim == 2 else cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    _, ink = cv2.threshold(g, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    centre: dict[int, float] = {}
    for i, (ch, (x, y, w, h)) in enumerate(zip(code, boxes)):
        if ch not in "O0":
            continue
        # the middle fifth of the glyph: a bold O blurred by a phone photo fills the middle third
        # of its ring by a quarter, its middle fifth stays empty; a dot or a slash fills it
        core = ink[y + int(0.4 * h): y + int(0.6 * h) + 1, x + int(0.4 * w): x + int(0.6 * w) + 1]
        centre[i] = float(np.count_nonzero(core)) / max(core.size, 1)
    if not centre or max(centre.values()) < MARKED_ZERO_FILL:
        return None
    return {i: fill >= MARKED_ZERO_FILL for i, fill in centre.items()}


#: Share of ink in the middle of a ring above which it is a marked zero.
MARKED_ZERO_FILL = 0.2


def zero_or_o(line, code: str) -> str:
    """Settle O against 0 by the glyphs when the font dots or slashes its zeros.

    The line image must hold exactly the code's characters (separators may be spaces; dashes are
    dropped as too short). When one of the O/0 glyphs has ink in the middle of its ring, the font
    marks its zeros: marked rings are 0, empty ones O. When none is marked, nothing is changed
    (a font with plain zeros, or only letters O)."""
    rings = zero_rings(line, code)
    if rings is None:
        return code
    out = list(code)
    for i, zero in rings.items():
        out[i] = "0" if zero else "O"
    return "".join(out)


# --- glyph templates --------------------------------------------------------------------------
# Booth and photographer sheets print the code in a common typeface. Templates of A-Z 0-9 are
# rendered in the fonts of the machine and cut out by the same segmentation as the sheet's line, so
# a line in one of these faces is read glyph by glyph, without the language model that makes OCR
# insert or swap characters in random strings. Used only when a face matches the line well.

TEMPLATE_FONTS = (
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    # OCR-B, the face made for machine-read codes (booths that box their code print in it;
    # fonts-ocr-b). A condensed bold serif was tried and left out: it matches an italic serif line
    # well enough to be trusted (0.81), where no face should be.
    "/usr/share/fonts/opentype/ocr-b/OCRB.otf",
)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
CELL_H = 40  # a glyph cell: cap height scaled to 28 px, room above and below
CELL_W = 40
CAP_PX = 28
#: Mean match of a line's glyphs to a face under which the face is not trusted.
FACE_MIN_SCORE = 0.80


def _cap_line(boxes, cap: int):
    """The top of the capitals along the line, x -> y: a straight line through the tops of the
    full-height glyphs, so a line scanned a little askew keeps every glyph at its template's height
    (a median top cut the end glyphs of a slanted line: E read P, Z read 2)."""
    import numpy as np

    full = [(x + w / 2, y) for x, y, w, h in boxes if 0.85 * cap <= h <= 1.15 * cap]
    tops = sorted(b[1] for b in boxes)
    median = float(tops[len(tops) // 2])
    if len(full) < 4:
        return lambda _x: median
    xs, ys = np.array(full, float).T
    slope, intercept = np.polyfit(xs, ys, 1)
    if abs(slope) > 0.1:  # not a line of print: keep the median
        return lambda _x: median
    # the fit, moved to the median residual so one odd glyph does not pull it
    intercept += float(np.median(ys - (slope * xs + intercept)))
    return lambda x: slope * x + intercept


def _cells(g, boxes, cap: float | None = None, widen: float = 1.0) -> list:
    """Each glyph scaled so the line's cap height (`cap`, else the median glyph height) is CAP_PX,
    on a white cell, aligned on the line's cap top (so a descender or a small glyph keeps its
    place); `widen` scales their widths too (a line printed condensed to fit its box)."""
    import cv2
    import numpy as np

    # Paper to white and ink to black first: a glyph is cut out with its box of background, and
    # the gray box of a phone photo on the white cell would match the fuller glyphs (3 read 8).
    paper, ink = float(np.percentile(g, 90)), float(np.percentile(g, 2))
    if paper - ink > 20 and (paper < 250 or ink > 5):
        g = np.clip((g.astype(np.float32) - ink) * (255.0 / (paper - ink)), 0, 255).astype(np.uint8)
    if cap is None:
        heights = sorted(b[3] for b in boxes)
        cap = heights[len(heights) // 2] or 1
    line_top = _cap_line(boxes, cap)
    f = CAP_PX / cap
    cells = []
    for x, y, w, h in boxes:
        glyph = g[y:y + h, x:x + w]
        gw, gh = max(1, int(round(w * f * widen))), max(1, int(round(h * f)))
        glyph = cv2.resize(glyph, (min(gw, CELL_W - 2), min(gh, CELL_H - 2)), interpolation=cv2.INTER_AREA)
        cell = np.full((CELL_H, CELL_W), 255, np.uint8)
        top = int(round((y - line_top(x + w / 2)) * f)) + (CELL_H - CAP_PX) // 2
        top = min(max(0, top), CELL_H - glyph.shape[0])
        left = (CELL_W - glyph.shape[1]) // 2
        cell[top:top + glyph.shape[0], left:left + glyph.shape[1]] = glyph
        cells.append(cell)
    return cells


_TEMPLATES: tuple | None = None
#: How far (px) a glyph may sit from its template's place in the cell.
_SHIFT = 3
#: The glyphs are chosen on both sides blurred a little, so that a glyph a pixel thicker or
#: smaller than its template (a phone photo) still matches it better than a fuller glyph (3
#: against 8). The face and the trust in it are judged unblurred: blurred, every face looks alike
#: (a face unlike the templates then scores as high as a known one).
_BLUR = 1.0


def _unit_rows(rows):
    """Rows centred and scaled to unit length: their dot products are normalised correlations
    (what OpenCV's TM_CCOEFF_NORMED computes window by window)."""
    import numpy as np

    rows = rows - rows.mean(axis=1, keepdims=True)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-6)


def _soften(cells):
    import cv2
    import numpy as np

    return np.stack([cv2.GaussianBlur(c, (0, 0), _BLUR) for c in cells.astype(np.float32)])


def _templates() -> tuple:
    """(faces, sharp, soft): the glyphs of every face as unit rows, face by face in ALPHABET
    order, as rendered and blurred. Built once per machine and kept in the data folder's cache
    (`intake.template_cache`): drawing 9 faces costs ~0.2 s, loading them a few milliseconds."""
    global _TEMPLATES
    if _TEMPLATES is None:
        from pathlib import Path

        import numpy as np

        from intake import template_cache

        def build() -> dict:
            faces, sharp, soft = _build_templates()
            return {"faces": np.array(faces, dtype=str), "sharp": sharp, "soft": soft}

        arrays = template_cache.cached_arrays("photo-code-templates", [Path(__file__), *map(Path, TEMPLATE_FONTS)],
                                              build)
        _TEMPLATES = (tuple(str(f) for f in arrays["faces"]), arrays["sharp"], arrays["soft"])
    return _TEMPLATES


def _build_templates() -> tuple:
    import os

    import numpy as np
    from PIL import Image, ImageDraw, ImageFont

    faces, cells = [], []
    for path in TEMPLATE_FONTS:
        if not os.path.exists(path):
            continue
        font = ImageFont.truetype(path, 48)
        spaced = "  ".join(ALPHABET)
        # as wide as the face needs (a wide face such as OCR-B overflows a fixed width)
        img = Image.new("L", (int(font.getlength(spaced)) + 40, 120), 255)
        ImageDraw.Draw(img).text((20, 25), spaced, font=font, fill=0)
        line = np.array(img)
        boxes = glyph_boxes(line)
        if len(boxes) != len(ALPHABET):
            continue
        faces.append(path)
        cells.extend(_cells(line, boxes))
    stack = np.array(cells, np.float32).reshape(-1, CELL_H, CELL_W)
    size = CELL_H * CELL_W
    sharp = _unit_rows(stack.reshape(-1, size))
    soft = _unit_rows(_soften(stack).reshape(-1, size)) if len(stack) else sharp
    return (tuple(faces), sharp, soft)  # published whole: pages are read in threads


@dataclass(frozen=True)
class GlyphReading:
    """A printed line read glyph by glyph against the face that fits it best."""

    chars: str  # the best template of each glyph
    score: float  # mean match of the glyphs to the face, unblurred: the trust in the face
    face: str  # the font file of the face
    second: str  # each glyph's runner-up character
    margins: tuple[float, ...]  # each glyph's match to its best character minus to its runner-up
    fit: float = 0.0  # mean match of the glyphs to the face, blurred: what the face is chosen by

    def ambiguous(self, margin: float) -> list[int]:
        """Glyphs whose two best characters match about as well (O and D, 0 and O in a blurred bold
        face): one template cannot tell them apart, another reader must."""
        return [i for i, m in enumerate(self.margins) if m < margin]


def read_glyphs(line) -> tuple[str, float, str]:
    """(characters, mean match, face) of a printed line read against the face that fits it best;
    ("", 0, "") when the line cannot be cut into glyphs."""
    reading = read_glyphs_ranked(line)
    return reading.chars, reading.score, reading.face


def read_glyphs_ranked(line) -> GlyphReading:
    """The line read glyph by glyph, with each glyph's runner-up and margin.

    Every glyph is matched with every template of every face at every shift of up to _SHIFT px,
    in one matrix product, its width scaled as printed and by each of `_WIDENS` (a vendor prints
    its code condensed or stretched to fit a box: a bold mono stretched by a tenth matched a bold
    sans better than its own face, M read N, O read D); the face and width its glyphs match best
    are kept. The line is then read again by that face at a few cap heights around the median
    glyph height, the one its glyphs match best kept (`_SCALES`): the median height of a code
    line depends on its mix of characters (OCR-B prints its digits taller than its capitals, a
    code of many digits looked small beside the templates and its zeros then matched the shorter
    O), and a glyph of 19 px is measured to a pixel. The trust in the face is its match at the
    median height (a cap height chosen for its match would raise it)."""
    import cv2
    import numpy as np

    g = line if line.ndim == 2 else cv2.cvtColor(line, cv2.COLOR_BGR2GRAY)
    boxes = glyph_boxes(g)
    faces = _templates()[0]
    if not boxes or not faces:
        return GlyphReading("", 0.0, "", "", ())
    first, fits = _match_line(g, boxes, None, range(len(faces)), sharp=False)
    widen = 1.0
    likely = [int(i) for i in np.argsort(-fits)[:_WIDEN_FACES]]  # other widths: the likeliest faces only
    for w in _WIDENS:
        again, _ = _match_line(g, boxes, None, likely, w, sharp=False)
        if again.fit > first.fit:
            first, widen = again, w
    face = faces.index(first.face)
    first, _ = _match_line(g, boxes, None, [face], widen)  # the trust in the face, unblurred
    median = float(sorted(b[3] for b in boxes)[len(boxes) // 2])
    best = first
    for scale in _SCALES:
        again, _ = _match_line(g, boxes, median * scale, [face], widen, sharp=False)
        if again.fit > best.fit:
            best = again
    return GlyphReading(best.chars, first.score, first.face, best.second, best.margins, first.fit)


#: Cap heights tried, over the line's median glyph height: a pixel either way on a small glyph.
_SCALES = (0.94, 0.97, 1.03, 1.06)
#: Glyph widths tried besides the width printed, over it: condensed, stretched; by the faces that
#: fit best as printed.
_WIDENS = (0.88, 1.14)
_WIDEN_FACES = 3


def _match_line(g, boxes, cap: float | None, face_indices, widen: float = 1.0, sharp: bool = True) -> tuple:
    """The glyphs of a line (cells at cap height `cap`, widths times `widen`) read by the face
    given that fits them best, and each given face's fit (blurred mean match). The reading's score
    (unblurred match) is 0 unless `sharp`."""
    import cv2
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    faces, plain_rows, soft = _templates()
    padded = np.stack([cv2.copyMakeBorder(cell, _SHIFT, _SHIFT, _SHIFT, _SHIFT, cv2.BORDER_CONSTANT, value=255)
                       for cell in _cells(g, boxes, cap, widen)]).astype(np.float32)
    n = len(boxes)
    k = len(ALPHABET)
    rows = np.concatenate([np.arange(f * k, (f + 1) * k) for f in face_indices])

    def match(cells, templates):
        # every shifted window of every cell against every template: cells x faces x glyphs, best shift
        windows = sliding_window_view(cells, (CELL_H, CELL_W), axis=(1, 2)).reshape(-1, CELL_H * CELL_W)
        # the templates are centred rows: a window's mean adds nothing to its dot products, so
        # the windows are divided by their spread after the product, not centred before it
        size = windows.shape[1]
        spread = np.sqrt(np.maximum(np.einsum("ij,ij->i", windows, windows) - windows.sum(axis=1) ** 2 / size, 0))
        scores = (windows @ templates.T) / np.maximum(spread, 1e-3)[:, None]
        scores[spread < 1e-3] = 0.0  # a blank window matches nothing
        return scores.reshape(n, -1, templates.shape[0] // k, k).max(axis=1)

    blurred = match(_soften(padded), soft[rows])  # each cell blurred once, not each of its shifts
    fits = blurred.max(axis=2).mean(axis=0)
    pick = int(np.argmax(fits))
    face = list(face_indices)[pick]
    ranked = np.argsort(-blurred[:, pick, :], axis=1)
    best = blurred[np.arange(n), pick, ranked[:, 0]]
    runner = blurred[np.arange(n), pick, ranked[:, 1]]
    score = float(match(padded, plain_rows[face * k:(face + 1) * k])[:, 0, :].max(axis=1).mean()) if sharp else 0.0
    return GlyphReading("".join(ALPHABET[i] for i in ranked[:, 0]), score, faces[face],
                        "".join(ALPHABET[i] for i in ranked[:, 1]), tuple(float(m) for m in best - runner),
                        float(fits[pick])), fits
