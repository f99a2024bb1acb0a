"""The MRZ reader: find the machine-readable zone on a page image, read it, parse it.

    result = read_mrz(image)        # numpy image (BGR or gray); None when no MRZ is on the page
    result = parse_mrz(lines)       # pure parser; MrzParseError on garbage

Locating is OpenCV morphology (`locate`), reading is per-cell OCR-B template matching
(`ocr`: positions are kept, fillers are never collapsed), and the check digits choose among the
per-position candidates (`parse`). Tesseract is not used here: its LSTM model collapses runs of
`<`, while fixed-pitch cells keep every position, and matching 37 glyphs is faster than a tesseract call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from intake.extractors.quality import gray as to_gray
from intake.icao import is_state_code
from intake.extractors.mrz.locate import Band, find_bands, rotate_quarter
from intake.extractors.ocr.orient import find_card, flatten_card, scan_margins
from intake.extractors.mrz.ocr import SHARP_ENOUGH, LineRead, deslant, ink_map, read_line
from intake.extractors.mrz.parse import (
    MrzParseError,
    MrzResult,
    detect_format,
    parse_candidates,
    parse_mrz,
)

__all__ = ["MrzResult", "MrzParseError", "read_mrz", "parse_mrz", "plausible_mrz"]

log = logging.getLogger(__name__)

_TARGET_CAP = 30.0  # px: line height the band is resampled to before reading


def _band_crop(page: np.ndarray, band: Band) -> tuple[np.ndarray, list[float], float, np.ndarray]:
    """The band deskewed and rescaled (line height -> _TARGET_CAP), line centre rows, and M."""
    heights = [ln.height for ln in band.lines]
    h = float(np.median(heights))
    f = _TARGET_CAP / max(h, 1.0)
    cx = float(np.mean([ln.center[0] for ln in band.lines]))
    cy = float(np.mean([ln.center[1] for ln in band.lines]))
    length = max(ln.length for ln in band.lines)
    span = band.lines[-1].center[1] - band.lines[0].center[1]
    out_w = int((length * 1.06 + 3 * h) * f)
    out_h = int((span + 3.0 * h) * f)
    m = cv2.getRotationMatrix2D((cx, cy), band.angle, f)
    m[0, 2] += out_w / 2 - cx
    m[1, 2] += out_h / 2 - cy
    crop = cv2.warpAffine(page, m, (out_w, out_h), flags=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    rows = [float(m[1, 0] * ln.center[0] + m[1, 1] * ln.center[1] + m[1, 2]) for ln in band.lines]
    return crop, rows, f, m


def _line_counts(band: Band) -> list[int]:
    if len(band.lines) == 3:
        return [30]
    ratio = float(np.median([ln.length / max(ln.height, 1.0) for ln in band.lines]))
    return [44, 36] if ratio > 39 else [36, 44]


#: Mean glyph match under which a line is not OCR-B print the right way up. Measured on the
#: fixture corpus: MRZ lines read upright score 0.96 and more; the same lines upside down 0.68 to
#: 0.82; lines of ordinary print (certificates, bills) at most 0.66.
MIN_LINE_SCORE = 0.72


def _read_line_at(ink: np.ndarray, y: float, n_chars: int, blurred: bool = True) -> LineRead | None:
    """The line centred on row `y` of the band's ink map, read as `n_chars` cells."""
    half = 0.8 * _TARGET_CAP
    strip = ink[int(max(0, y - half)):int(min(ink.shape[0], y + half))]
    if strip.shape[0] < 2 or strip.shape[1] < n_chars:
        return None  # the row lies outside the crop (a band at the picture's edge): nothing to read
    return read_line(strip, n_chars, blurred)


def _read_lines(ink: np.ndarray, rows: list[float], n_chars: int,
                first: LineRead | None = None) -> list[LineRead] | None:
    """Every line of the band, or None as soon as one of them is not an MRZ line: the first line
    read decides for most bands of ordinary print, before the others cost anything. `first` is
    the first line when it has been read already."""
    reads = []
    for k, y in enumerate(rows):
        line = first if k == 0 and first is not None else _read_line_at(ink, y, n_chars)
        if line is None or line.mean_score < MIN_LINE_SCORE:
            return None
        reads.append(line)
    return reads


def _parse(reads: list[LineRead]) -> MrzResult | None:
    texts = [r.text for r in reads]
    try:
        fmt = detect_format(texts)
        return parse_candidates([r.candidates for r in reads], fmt)
    except MrzParseError:
        return None


def _better(a: MrzResult | None, b: MrzResult | None) -> MrzResult | None:
    if a is None:
        return b
    if b is None:
        return a
    key_a = (a.valid, sum(a.checks.values()), a.confidence)
    key_b = (b.valid, sum(b.checks.values()), b.confidence)
    return b if key_b > key_a else a


#: A band whose first line, read as it lies, matches OCR-B glyphs less than this is no MRZ in
#: any orientation or length: measured on the fixture corpus, an MRZ line scores 0.96 and more read
#: the right way, 0.73 and more with the wrong line length, 0.68 and more upside down.
MIN_BAND_SCORE = 0.6


@dataclass
class _Probe:
    """A band's first line read as it lies, and what reading the rest needs."""

    band: Band
    ink: np.ndarray
    rows: list[float]
    counts: list[int]
    line: LineRead | None

    @property
    def score(self) -> float:
        return self.line.mean_score if self.line is not None else 0.0


#: A first line matching OCR-B this well, but not as well as a sharp upright line, may be an MRZ
#: whose glyphs lean: worth standing upright (ordinary print matches less, a leaning MRZ more).
MIN_SLANTED_SCORE = 0.5


def _probe(page: np.ndarray, band: Band) -> _Probe:
    crop, rows, _f, _m = _band_crop(page, band)
    ink = ink_map(crop)
    counts = _line_counts(band)
    line = _read_line_at(ink, rows[0], counts[0], blurred=False)
    if line is None and counts == [36, 44]:
        # too long for 36 cells: a TD3 line whose proportions a blur made look shorter (its glyphs
        # thickened), read at 44 (the other way round, a TD2 line fits 44 cells and reads wrong)
        counts = counts[::-1]
        line = _read_line_at(ink, rows[0], counts[0], blurred=False)
    if line is not None and MIN_SLANTED_SCORE <= line.mean_score < SHARP_ENOUGH:
        # glyphs leaning (a card photographed at an angle): stood upright if they then read better;
        # the slant estimate is not trusted alone (a shake blurs the strokes it is read from)
        upright = deslant(ink)
        straightened = _read_line_at(upright, rows[0], counts[0], blurred=False) if upright is not ink else None
        if straightened is not None and straightened.mean_score > line.mean_score:
            ink, line = upright, straightened
    return _Probe(band, ink, rows, counts, line)


def _line_ends(line) -> tuple[np.ndarray, np.ndarray]:
    """Left and right ends of a line's middle row."""
    a = np.radians(line.angle)
    d = np.array([np.cos(a), np.sin(a)]) * line.length / 2.0
    c = np.array(line.center, float)
    return c - d, c + d


def _probe_rectified(page: np.ndarray, band: Band) -> _Probe | None:
    """The band's first line read, with the band's own quadrilateral (the ends of its first and
    last lines, which an MRZ prints edge to edge) mapped to a rectangle: a card photographed at an
    angle narrows its band towards one end and leans its glyphs, which a rotation does not undo."""
    first_l, first_r = _line_ends(band.lines[0])
    last_l, last_r = _line_ends(band.lines[-1])
    h = float(np.median([ln.height for ln in band.lines]))
    f = _TARGET_CAP / max(h, 1.0)
    length = float(np.mean([ln.length for ln in band.lines])) * f
    span = float(np.linalg.norm((last_l + last_r) / 2 - (first_l + first_r) / 2)) * f
    if span < _TARGET_CAP:
        return None
    margin = 1.5 * h * f
    src = np.float32([first_l, first_r, last_r, last_l])
    dst = np.float32([[margin, margin], [margin + length, margin], [margin + length, margin + span],
                      [margin, margin + span]])
    m = cv2.getPerspectiveTransform(src, dst)
    out_w, out_h = int(length + 2 * margin), int(span + 2 * margin)
    crop = cv2.warpPerspective(page, m, (out_w, out_h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    rows = []
    for ln in band.lines:
        y = cv2.perspectiveTransform(np.float32([[ln.center]]), m)[0, 0, 1]
        rows.append(float(y))
    ink = ink_map(crop)
    counts = _line_counts(band)
    line = _read_line_at(ink, rows[0], counts[0], blurred=False)
    return _Probe(band, ink, rows, counts, line)


def _read_band(page: np.ndarray, band: Band, probed: _Probe | None = None) -> MrzResult | None:
    probed = probed or _probe(page, band)
    ink, rows, counts, probe = probed.ink, probed.rows, probed.counts, probed.line
    if probe is None or probe.mean_score < MIN_BAND_SCORE:
        return None  # ordinary print: not worth the other orientation and length
    best: MrzResult | None = None
    best_key: tuple = ()
    sharp = probe.mean_score >= SHARP_ENOUGH  # the probe, read with sharp glyphs only, is the first line
    for flip in (0, 180):
        if flip:
            ink = cv2.rotate(ink, cv2.ROTATE_180)
            rows = sorted(ink.shape[0] - 1 - y for y in rows)
        for n_chars in counts:
            # the probe is the first line as it lies, read at the first length: not read twice
            reads = _read_lines(ink, rows, n_chars, probe if (flip, n_chars) == (0, counts[0]) and sharp else None)
            if reads is None:
                continue
            result = _parse(reads)
            if result is None:
                continue
            score = float(np.mean([r.mean_score for r in reads]))
            result.rotation = (band.quarter + flip) % 360
            result.box = _upright_box(page.shape, band, flip)
            result.confidence = round(result.confidence * min(1.0, 0.3 + score), 3)
            log.debug("flip %s n=%s valid=%s score=%.3f", flip, n_chars, result.valid, score)
            # A plausible MRZ (document code, fillers, ICAO states) first, then check digits: with
            # several candidates per position, the check digits of a band read upside down can
            # come out right by chance, and must not hide the upright reading of an MRZ whose own
            # check digits are wrong (that one is what mrz_invalid is for).
            key = (plausible_mrz(result), result.valid, score)
            if best is None or key > best_key:
                best, best_key = result, key
            if result.valid and score > 0.8:
                break
    return best


def _upright_box(shape, band: Band, flip: int) -> tuple[int, int, int, int]:
    """Axis-aligned box of the band in the page turned upright."""
    pts = []
    for ln in band.lines:
        rect = ((ln.center[0], ln.center[1]), (ln.length, ln.height * 1.4), ln.angle)
        pts.extend(cv2.boxPoints(rect).tolist())
    pts = np.array(pts)
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    h, w = shape[:2]
    if flip:
        x0, x1, y0, y1 = w - x1, w - x0, h - y1, h - y0
    x0, y0 = max(0.0, x0), max(0.0, y0)
    return int(x0), int(y0), int(min(w, x1) - x0), int(min(h, y1) - y0)


def plausible_mrz(result: MrzResult) -> bool:
    """A real MRZ starts with a document code (P, I, A, C, V), pads its fields with '<' and names
    an issuing state and a nationality from the ICAO list. Check digits alone cannot tell: with
    candidates per position they can be satisfied by a band of ordinary print."""
    lines = result.lines or []
    if not lines or not lines[0] or lines[0][0] not in "PIACV":
        return False
    if not any("<<" in line for line in lines) or sum(line.count("<") for line in lines) < 4:
        return False
    states = [lines[0][2:5]]
    nationality = result.fields.get("nationality")
    if nationality:
        states.append(nationality.ljust(3, "<"))
    return all(is_state_code(state) for state in states)


#: Candidate bands looked at on a page. Lines of ordinary print (a bill under the card, a page
#: of text) make bands too; each is probed (its first line matched against OCR-B, a few ms) and
#: the bands are read fully best probe first, so a card among printed papers is still found.
MAX_BANDS = 24
#: An image whose long side is under this is a crop (a band, a small card): read enlarged too.
SMALL_SIDE = 1000


#: Bands looked at on the second looks at a photo (turned, flattened): the first look had its
#: MAX_BANDS already; these only rescue a band the angle or the perspective hid.
RETRY_BANDS = 8
#: Longest side of the photo turned for the second look (a photo is up to 4200 px).
RETRY_SIDE = 1800


def _read_gray(gray: np.ndarray, max_bands: int = MAX_BANDS, boost: float = 1.0,
               rectify: bool = True) -> MrzResult | None:
    """The best MRZ of a gray image (any quarter turn, a few degrees of skew), or None. `rectify`:
    bands that read no valid MRZ are read again with their perspective undone (a deep look)."""
    best: MrzResult | None = None
    pages: dict[int, np.ndarray] = {}
    probes: list[tuple[float, Band, _Probe | None]] = []
    # Bands of a paragraph overlap (lines 1-3, 2-4, 2-3...): a first line is probed once.
    by_first_line: dict[tuple, _Probe] = {}
    for band in find_bands(gray, limit=max_bands, boost=boost):
        if band.quarter not in pages:
            pages[band.quarter] = rotate_quarter(gray, band.quarter)
        first = band.lines[0]
        key = (band.quarter, round(first.center[0]), round(first.center[1]), round(first.length))
        probed = by_first_line.get(key)
        if probed is None:
            probed = by_first_line[key] = _probe(pages[band.quarter], band)
        if probed.score >= MIN_BAND_SCORE:
            probes.append((probed.score, band, probed if probed.band is band else None))
    probes.sort(key=lambda p: -p[0])
    for _score, band, probed in probes:
        result = _read_band(pages[band.quarter], band, probed)
        if result is not None and not plausible_mrz(result):
            continue  # ordinary print read as MRZ characters: no document code, no state, no fillers
        best = _better(best, result)
        if best is not None and best.valid:
            return best
    if not rectify:
        return best
    # No band read valid: each read again with its perspective undone (a card photographed at an
    # angle), 3-line bands first; bands of ordinary print were left out by their probe already.
    for _score, band, _probed in sorted(probes, key=lambda p: len(p[1].lines) != 3):
        rectified = _probe_rectified(pages[band.quarter], band)
        if rectified is None or rectified.score < MIN_BAND_SCORE:
            continue
        result = _read_band(pages[band.quarter], band, rectified)
        if result is not None and plausible_mrz(result):
            best = _better(best, result)
            if best.valid:
                break
    return best


def _quarter_points(points: np.ndarray, quarter: int, shape: tuple[int, ...]) -> np.ndarray:
    """Points of an image, in the image turned `quarter` degrees clockwise (cv2.rotate)."""
    h, w = shape[:2]
    x, y = points[:, 0], points[:, 1]
    if quarter % 360 == 90:
        return np.stack([h - 1 - y, x], axis=1)
    if quarter % 360 == 180:
        return np.stack([w - 1 - x, h - 1 - y], axis=1)
    if quarter % 360 == 270:
        return np.stack([y, w - 1 - x], axis=1)
    return points


def _box_corners(box) -> np.ndarray:
    x, y, w, h = box
    return np.float32([[x, y], [x + w, y], [x + w, y + h], [x, y + h]])


def _rebase(result: MrzResult, to_page: np.ndarray, read_shape: tuple[int, ...], page_shape: tuple[int, ...]) -> MrzResult:
    """A result read on a transformed copy of the page (enlarged, or a card flattened), with its
    rotation and box given in the page itself: `to_page` (3x3) maps the copy's pixels to the
    page's. The rotation is the quarter turn that brings the band's lines nearest to horizontal."""
    if result.box is None:
        return result
    # the box is in the copy turned upright: back to the copy, then to the page
    h, w = read_shape[:2]
    upright_shape = (w, h) if result.rotation % 180 else (h, w)
    corners = _quarter_points(_box_corners(result.box), (360 - result.rotation) % 360, upright_shape)
    on_page = cv2.perspectiveTransform(corners.reshape(-1, 1, 2).astype(np.float32), to_page).reshape(-1, 2)
    # the reading direction of the band (top-left -> top-right of the upright box) on the page
    dx, dy = on_page[1] - on_page[0]
    angle = float(np.degrees(np.arctan2(dy, dx)))
    rotation = int((-round(angle / 90.0) * 90) % 360)
    upright = _quarter_points(on_page, rotation, page_shape)
    x0, y0 = upright.min(axis=0)
    x1, y1 = upright.max(axis=0)
    ph, pw = page_shape[:2]
    if rotation % 180:
        ph, pw = pw, ph
    x0, y0 = max(0.0, float(x0)), max(0.0, float(y0))
    result.box = (int(x0), int(y0), int(min(pw, float(x1)) - x0), int(min(ph, float(y1)) - y0))
    result.rotation = rotation
    return result


#: Threshold boost of the locator's second look at a photo (see `locate._line_boxes`): a shake
#: across the lines smears their glyphs into one another, and only the glyphs' darker cores keep
#: the lines apart.
CORE_BOOST = 1.6
#: Long side a card found among papers is flattened to before its band is looked for.
CARD_LONG_SIDE = 1000
#: Card-shaped outlines of a photo flattened and read, largest first (an identity card and its
#: other side, or a passport page beside a card).
MAX_CARDS = 2


def _read_flat(gray: np.ndarray, corners: np.ndarray, boosts: tuple[float, ...] = (1.0,),
               rectify: bool = True) -> MrzResult | None:
    """The card inside `corners` flattened and read (the band looked for at each of `boosts` in
    turn, until one reads valid), its result given in the photo's pixels."""
    flat, to_flat = flatten_card(gray, corners, long_side=CARD_LONG_SIDE)
    best: MrzResult | None = None
    for boost in boosts:
        result = _read_gray(flat, RETRY_BANDS, boost, rectify)
        if result is not None:
            best = _better(best, _rebase(result, np.linalg.inv(to_flat), flat.shape, gray.shape))
        if best is not None and best.valid:
            break
    return best


def _read_photographed(gray: np.ndarray, deep: bool = True) -> MrzResult | None:
    """Second look at a photo: the card found and flattened (perspective corrected), or, when no
    card stands out, the photo turned by 30 degrees either way, so that the band's lines come
    within the locator's reach (20 degrees about a quarter turn) whatever the card's angle. Then,
    for a photo with no valid band yet (a card among papers, shaken): the lines looked for by the
    glyphs' cores on the photo, then on the largest card-shaped outlines flattened in turn."""
    best: MrzResult | None = None
    corners = find_card(gray)
    if corners is not None:
        best = _read_flat(gray, corners, rectify=deep)
    else:
        h, w = gray.shape[:2]
        scale = min(1.0, RETRY_SIDE / max(h, w))  # a card's band stays legible at this size
        for angle in (30.0, -30.0):
            m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
            cos, sin = abs(m[0, 0]), abs(m[0, 1])  # scaled
            out_w, out_h = int(h * sin + w * cos), int(h * cos + w * sin)
            m[0, 2] += out_w / 2 - w / 2
            m[1, 2] += out_h / 2 - h / 2
            turned = cv2.warpAffine(gray, m, (out_w, out_h), flags=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR,
                                    borderMode=cv2.BORDER_REPLICATE)
            result = _read_gray(turned, RETRY_BANDS, rectify=deep)
            if result is not None:
                back = np.linalg.inv(np.vstack([m, [0.0, 0.0, 1.0]]))
                best = _better(best, _rebase(result, back, turned.shape, gray.shape))
            if best is not None and best.valid:
                break
    if (best is not None and best.valid) or not deep:
        return best
    best = _better(best, _read_gray(gray, RETRY_BANDS, CORE_BOOST))
    if best is not None and best.valid:
        return best
    from intake.extractors.kinds.certificates import card_quads  # (lazy: the kinds import the readers)

    for quad in card_quads(gray, MAX_CARDS):
        seen = corners is not None and _same_quad(quad, corners)  # flattened and read plainly already
        best = _better(best, _read_flat(gray, quad, (CORE_BOOST,) if seen else (1.0, CORE_BOOST)))
        if best is not None and best.valid:
            break
    return best


def _same_quad(a: np.ndarray, b: np.ndarray) -> bool:
    """Two outlines of the same card (corners within a tenth of its size)."""
    size = float(np.linalg.norm(np.asarray(a[0], float) - np.asarray(a[2], float)))
    return all(float(np.min(np.linalg.norm(np.asarray(b, float) - np.asarray(p, float), axis=1))) <= 0.1 * size
               for p in a)


def _photographed(gray: np.ndarray) -> bool:
    """A photo (a table, a background around the document) rather than a scan, whose margins are
    paper as white as the page inside: only photos are worth the turned and flattened readings. A
    light grey desk is as bright as a scanner's lid, but the paper on it is whiter."""
    return not scan_margins(gray, 4)


def read_mrz(image: np.ndarray, deep: bool = True) -> MrzResult | None:
    """Find and read the MRZ on a page image: any quarter turn, a few degrees of skew; a band
    cropped alone at low resolution (read enlarged); a card photographed on a table in
    perspective (the card found, flattened, read). `deep`: on a photo with no valid band yet,
    also the lines looked for by their glyphs' cores and the card outlines among papers (shaken
    photos; twice the cost of a photo with no MRZ, so a page reader asks for it only when the
    print does not already say the page is no identity document)."""
    if image is None or image.size == 0:
        return None
    gray = to_gray(image)
    best = _read_gray(gray, rectify=deep)
    if best is not None and best.valid:
        log.debug("MRZ %s read, valid=%s, rotation=%s", best.format, best.valid, best.rotation)
        return best
    if max(gray.shape[:2]) < SMALL_SIDE:
        # A band or a card cropped small: glyphs of a few pixels, enlarged before reading.
        factor = 2.0 if max(gray.shape[:2]) >= SMALL_SIDE / 2 else 3.0
        big = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_CUBIC)
        result = _read_gray(big, rectify=deep)
        if result is not None:
            best = _better(best, _rebase(result, np.diag([1 / factor, 1 / factor, 1.0]), big.shape, gray.shape))
    if (best is None or not best.valid) and _photographed(gray):
        best = _better(best, _read_photographed(gray, deep))
    if best is not None:
        log.debug("MRZ %s read, valid=%s, rotation=%s", best.format, best.valid, best.rotation)
    return best
