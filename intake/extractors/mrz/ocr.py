"""Read the characters of one upright MRZ band, cell by cell.

OCR-B is fixed-pitch and an MRZ line has a known number of characters, so a line is cut into equal
cells and each cell is compared with the 37 glyphs rendered from the OCR-B font itself (cached at
first use). This keeps every `<` in place (tesseract's LSTM collapses runs of fillers) and gives,
for each position, a ranked list of candidates with costs, which the parser's check digits choose
from. It takes a few milliseconds per line.

Phone photos are met where they are rather than cleaned up: a line the sharp glyphs do not fit
is matched against glyphs blurred as a shake or a defocus blurs them (the blur its cells fit
best), glyphs narrowed by perspective are read at their own proportions, and the cells are laid
along the line from the glyphs' spacing or, when blur merged some, from the line's two ends.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from intake import template_cache

log = logging.getLogger(__name__)

OCRB_FONT = Path("/usr/share/fonts/opentype/ocr-b/OCRB.otf")
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
# Normalised cell: cap height -> _CAP px, with margins; matched with a small shift search.
_CAP = 24
_PAD = 4
_SIZE = _CAP + 2 * _PAD
_SHIFT = 2
# Score difference (normalised correlation) -> parser cost.
_COST_SCALE = 5.0
_KEEP = 4


@dataclass
class LineRead:
    """What was read on one line: per position, (character, cost) best first."""

    candidates: list[list[tuple[str, float]]]
    scores: list[float]  # best correlation per cell, 0..1

    @property
    def text(self) -> str:
        return "".join(c[0][0] for c in self.candidates)

    @property
    def mean_score(self) -> float:
        return float(np.mean(self.scores)) if self.scores else 0.0


def ink_map(gray: np.ndarray) -> np.ndarray:
    """Darkness 0..1 against the local background (evens out phone-photo lighting)."""
    g = gray.astype(np.float32)
    h = gray.shape[0]
    k = max(15, (h // 2) | 1)
    background = cv2.morphologyEx(g, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    background = cv2.GaussianBlur(background, (0, 0), 3)
    ink = 1.0 - g / np.maximum(background, 1.0)
    return np.clip(ink, 0.0, 1.0)


#: Largest slant corrected (horizontal shift per row): a card photographed in perspective and turned
#: leans its glyphs by up to 25 degrees once its lines are level.
MAX_SLANT = 0.45
#: Slants under this are left alone (OCR-B cells are matched with a few pixels of play).
MIN_SLANT = 0.06


def deslant(ink: np.ndarray) -> np.ndarray:
    """The band with its glyphs stood upright. The slant is read from the edges of the glyphs' near
    vertical strokes (their gradient leans as the strokes do; the two sides of a '<' cancel out),
    and undone by a horizontal shear about the middle row, so that the lines keep their rows."""
    gx = cv2.Sobel(ink, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(ink, cv2.CV_32F, 0, 1, ksize=3)
    magnitude = gx * gx + gy * gy
    strong = (np.abs(gx) > 1.5 * np.abs(gy)) & (magnitude > np.percentile(magnitude, 90))
    if int(strong.sum()) < 50:
        return ink
    slant = float(np.average(gy[strong] / gx[strong], weights=magnitude[strong]))
    slant = float(np.clip(slant, -MAX_SLANT, MAX_SLANT))
    if abs(slant) < MIN_SLANT:
        return ink
    h, w = ink.shape[:2]
    m = np.float32([[1, slant, -slant * h / 2], [0, 1, 0]])
    return cv2.warpAffine(ink, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def binarise(ink: np.ndarray) -> np.ndarray:
    scaled = np.clip(ink * 255.0 * 2.0, 0, 255).astype(np.uint8)
    thr, binary = cv2.threshold(scaled, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if thr < 30:  # a nearly blank crop: Otsu splits noise
        binary = (scaled > 60).astype(np.uint8)
    return binary


def _cell(ink: np.ndarray, cx: float, top: float, bottom: float, pitch: float,
          width_scale: float | None = None) -> np.ndarray:
    """The normalised cell around centre `cx`: cap height -> _CAP px, width one pitch. The width
    is scaled as the height unless `width_scale` says otherwise (glyphs narrowed or widened by a
    photo's perspective)."""
    cap = max(bottom - top, 2.0)
    scale = _CAP / cap
    sx = width_scale or scale
    # affine map: output (u, v) <- input (x, y)
    x0 = cx - (_SIZE / 2) / sx
    y0 = top - _PAD / scale
    m = np.float32([[1 / sx, 0, x0], [0, 1 / scale, y0]])
    out = cv2.warpAffine(ink, m, (_SIZE, _SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    half = pitch * sx / 2
    lo, hi = int(round(_SIZE / 2 - half)), int(round(_SIZE / 2 + half))
    out[:, : max(0, lo)] = 0
    out[:, min(_SIZE, hi):] = 0
    return cv2.GaussianBlur(out, (0, 0), 0.8)


@lru_cache(maxsize=1)
def cap_per_pitch() -> float:
    """Height of a capital (H) over the character pitch, in the OCR-B font."""
    font = ImageFont.truetype(str(OCRB_FONT), 100)
    left, top, right, bottom = font.getmask("H").getbbox()
    return (bottom - top) / font.getlength("H")


#: A two-line MRZ has lines of 36 characters (TD2, the French 2x36) or 44 (TD3): a line as long as
#: the longer one is never read as the shorter (TD1's three lines of 30 are told apart by their count).
LONGER_LINE = {36: 44}
#: Blurs a photographed band may carry, as kernels over the normalised cell (cap height _CAP px):
#: none, out of focus, and a shake along or across the line and diagonally. Each line is read
#: with the one its glyphs match best (a blind estimate of the photo's blur).
BLURS: tuple[tuple, ...] = (
    (),
    ("focus", 1.6), ("focus", 3.0),
    ("shake", 0, 7), ("shake", 90, 7), ("shake", 45, 7), ("shake", 135, 7),
    ("shake", 0, 12), ("shake", 90, 12), ("shake", 45, 12), ("shake", 135, 12),
)
#: A line whose glyphs match the sharp templates this well is not worth the blurred ones (for the
#: reader's quick looks at a band).
SHARP_ENOUGH = 0.9
#: A line read this well is left as read (MRZ lines of scans match 0.96 and more).
CLEAR_LINE = 0.96
#: Relative difference between a line's measured glyph height and the height its pitch gives
#: (OCR-B's proportions) beyond which the line is read again with its own proportions.
PROPORTION_TOLERANCE = 0.08


def _blur_kernel(blur: tuple, px_per_cell: float) -> np.ndarray | None:
    """The blur as a convolution kernel at a rendering `px_per_cell` times the cell's scale."""
    if not blur:
        return None
    if blur[0] == "focus":
        sigma = blur[1] * px_per_cell
        size = int(6 * sigma) | 1
        k1 = cv2.getGaussianKernel(size, sigma)
        return (k1 @ k1.T).astype(np.float32)
    _kind, angle, length = blur
    size = int(length * px_per_cell) | 1
    kernel = np.zeros((size, size), np.float32)
    c = size // 2
    dx, dy = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    for t in np.linspace(-c, c, 4 * size):
        kernel[int(round(c + t * dy)), int(round(c + t * dx))] = 1.0
    return kernel / kernel.sum()


@lru_cache(maxsize=len(BLURS))
def templates(blur: tuple = ()) -> tuple[np.ndarray, list[str]]:
    """The 37 OCR-B glyphs as normalised cells, rendered from the font and blurred by `blur`
    (cached)."""
    size = 40
    font = ImageFont.truetype(str(OCRB_FONT), size)
    pitch = font.getlength("A")
    ref = Image.new("L", (int(pitch * 3), size * 2), 255)
    ImageDraw.Draw(ref).text((pitch, size // 2), "H", font=font, fill=0)
    rows = np.where((1.0 - np.asarray(ref, np.float32) / 255.0).max(axis=1) > 0.5)[0]
    cap_top, cap_bottom = float(rows[0]), float(rows[-1] + 1)
    kernel = _blur_kernel(blur, (cap_bottom - cap_top) / _CAP)
    cells = []
    for ch in ALPHABET:
        img = Image.new("L", (int(pitch * 3), size * 2), 255)
        ImageDraw.Draw(img).text((pitch, size // 2), ch, font=font, fill=0)
        ink = 1.0 - np.asarray(img, np.float32) / 255.0
        cols = np.where(ink.max(axis=0) > 0.5)[0]
        cx = (cols[0] + cols[-1] + 1) / 2.0
        if kernel is not None:
            ink = cv2.filter2D(ink, -1, kernel, borderType=cv2.BORDER_CONSTANT)
        cells.append(_cell(ink, cx, cap_top, cap_bottom, pitch))
    return np.stack(cells), list(ALPHABET)


def _build_template_matrix(blur: tuple = ()) -> np.ndarray:
    """The glyphs' inner windows, zero-mean and unit-norm, one row each (for correlation by product)."""
    tpl, chars = templates(blur)
    inner = tpl[:, _SHIFT:-_SHIFT, _SHIFT:-_SHIFT].reshape(len(chars), -1).astype(np.float32)
    inner = inner - inner.mean(axis=1, keepdims=True)
    inner /= np.linalg.norm(inner, axis=1, keepdims=True) + 1e-9
    return inner


@lru_cache(maxsize=1)
def _template_matrices() -> dict[tuple, np.ndarray]:
    """Every blur's template matrix, from the data folder's cache (rendering and blurring the 37
    glyphs 11 times costs ~0.2 s of CPU, paid once per machine instead of once per process)."""
    arrays = template_cache.cached_arrays(
        "mrz-templates", [Path(__file__), OCRB_FONT],
        lambda: {f"blur{i}": _build_template_matrix(blur) for i, blur in enumerate(BLURS)})
    return {blur: arrays[f"blur{i}"] for i, blur in enumerate(BLURS)}


def _template_matrix(blur: tuple = ()) -> tuple[np.ndarray, list[str]]:
    return _template_matrices()[blur], list(ALPHABET)


def _windows(cells: np.ndarray) -> np.ndarray:
    """Every shift (+-_SHIFT px) of every cell's inner window, zero-mean and unit-norm."""
    side = _SIZE - 2 * _SHIFT
    windows = np.lib.stride_tricks.sliding_window_view(cells, (side, side), axis=(1, 2))
    windows = windows.reshape(len(cells), -1, side * side).astype(np.float32)
    windows = windows - windows.mean(axis=2, keepdims=True)
    windows /= np.linalg.norm(windows, axis=2, keepdims=True) + 1e-9
    return windows


def _correlations(windows: np.ndarray, blur: tuple = ()) -> np.ndarray:
    """Best normalised correlation (TM_CCOEFF_NORMED over shifts of +-_SHIFT px) of every cell with
    every glyph, as one matrix product instead of a template match per cell and glyph."""
    matrix, _chars = _template_matrix(blur)
    return _products(windows, matrix).max(axis=1)


def _products(windows: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(cells, shifts, glyphs): one flat matrix product (a batched one is several times slower)."""
    n, shifts, size = windows.shape
    return (windows.reshape(n * shifts, size) @ matrix.T).reshape(n, shifts, -1)


@lru_cache(maxsize=1)
def _blurred_matrix() -> np.ndarray:
    """The templates of every blur but none, stacked (blur-major) for one product."""
    return np.concatenate([_template_matrix(blur)[0] for blur in BLURS[1:]])


#: Cells a line's blur is estimated on (spread along the line): enough to tell the blurs apart.
BLUR_SAMPLE = 10


def _line_blur(windows: np.ndarray) -> tuple:
    """The blur of BLURS whose templates a sample of the line's cells matches best."""
    step = max(1, len(windows) // BLUR_SAMPLE)
    sample = np.ascontiguousarray(windows[::step][:BLUR_SAMPLE])
    n_glyphs = len(ALPHABET)
    corr = _products(sample, _blurred_matrix()).max(axis=1)  # (cells, blurs x glyphs)
    per_blur = corr.reshape(len(sample), len(BLURS) - 1, n_glyphs).max(axis=2).mean(axis=0)
    sharp = float(_correlations(sample).max(axis=1).mean())
    best = int(np.argmax(per_blur))
    return BLURS[best + 1] if float(per_blur[best]) > sharp else ()


def classify(cells: list[np.ndarray], blurred: bool = True) -> tuple[list[list[tuple[str, float]]], list[float]]:
    """Rank the 37 glyphs for each normalised cell (normalised correlation, small shifts), with the
    templates blurred as the line is when the sharp ones do not fit it (unless not `blurred`)."""
    _matrix, chars = _template_matrix()
    inked = [i for i, cell in enumerate(cells) if float(cell.max()) >= 0.05]
    scores_of = {}
    if inked:
        windows = _windows(np.stack([cells[i] for i in inked]))
        corr = _correlations(windows)
        if blurred and float(corr.max(axis=1).mean()) < SHARP_ENOUGH and len(BLURS) > 1:
            blur = _line_blur(windows)
            if blur:
                corr = _correlations(windows, blur)
        scores_of = dict(zip(inked, corr))
    out, best_scores = [], []
    for i in range(len(cells)):
        if i not in scores_of:  # an empty cell: nothing printed there
            out.append([("<", 1.0)] + [(c, 1.0) for c in chars[:3]])
            best_scores.append(0.0)
            continue
        scores = scores_of[i]
        order = np.argsort(-scores)[:_KEEP]
        top = float(scores[order[0]])
        out.append([(chars[j], float(top - scores[j]) * _COST_SCALE) for j in order])
        best_scores.append(max(0.0, top))
    return out, best_scores


def _components(binary: np.ndarray, cap: float):
    n, _, stats, cents = cv2.connectedComponentsWithStats(binary, connectivity=8)
    comps = []
    for i in range(1, n):
        x, y, w, h, area = stats[i]
        if area < max(3, cap * cap * 0.01) or h < cap * 0.2:
            continue
        comps.append((x, y, w, h, x + w / 2.0))
    return comps


def _main_run(comps, cap: float):
    """The longest run of glyph-like components with no wide gap: the line itself, not the card
    edge, a photo border or a stamp beside it."""
    comps = sorted(comps, key=lambda c: c[4])
    runs, current, right = [], [], None
    for comp in comps:
        if right is not None and comp[0] - right > 1.3 * cap:
            runs.append(current)
            current = []
        current.append(comp)
        right = comp[0] + comp[2] if right is None or not current[:-1] else max(right, comp[0] + comp[2])
    if current:
        runs.append(current)
    return max(runs, key=len) if runs else []


def _merge_fragments(comps):
    """One box per glyph: blur and JPEG split a glyph into pieces side by side or one above the
    other (a '3', a '<'), which would otherwise count as glyphs of their own and shift the grid."""
    if len(comps) < 2:
        return comps
    width = float(np.median([c[2] for c in comps]))
    merged = [comps[0]]
    for comp in comps[1:]:
        last = merged[-1]
        x0, x1 = min(last[0], comp[0]), max(last[0] + last[2], comp[0] + comp[2])
        if x1 - x0 <= 1.2 * width:
            y0, y1 = min(last[1], comp[1]), max(last[1] + last[3], comp[1] + comp[3])
            merged[-1] = (x0, y0, x1 - x0, y1 - y0, (x0 + x1) / 2.0)
        else:
            merged.append(comp)
    return merged


def line_geometry(binary: np.ndarray) -> tuple[float, float]:
    """Cap top and bottom rows of a line crop, from the rows most of its ink covers. Ink spanning
    the whole crop (a card's edge, a frame) is left out, and only the run of rows around the
    crop's inkiest row counts: on a blurred photo the neighbouring lines bleed into the crop."""
    h = binary.shape[0]
    if binary[: max(1, h // 20)].any() and binary[h - max(1, h // 20):].any():
        n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
        spanning = [i for i in range(1, n) if stats[i, cv2.CC_STAT_HEIGHT] >= 0.9 * h]
        if spanning:
            binary = np.where(np.isin(labels, spanning), 0, binary).astype(binary.dtype)
    rows = binary.sum(axis=1).astype(np.float32)
    if rows.max() <= 0:
        return 0.0, float(h)
    strong = rows > rows.max() * 0.25
    peak = int(np.argmax(rows))
    top, bottom = peak, peak + 1
    while top > 0 and strong[top - 1]:
        top -= 1
    while bottom < h and strong[bottom]:
        bottom += 1
    return float(top), float(bottom)


def read_line(ink: np.ndarray, n_chars: int, blurred: bool = True) -> LineRead | None:
    """Read one line crop (ink map, roughly one line tall) as exactly `n_chars` cells; with sharp
    glyphs only when not `blurred` (a quick look, the blurred ones cost twice as much)."""
    binary = binarise(ink)
    top, bottom = line_geometry(binary)
    cap = bottom - top
    if cap < 5:
        return None
    if cap > 1.6 * _CAP:  # shrink big glyphs first (area averaging, no aliasing)
        f = 1.2 * _CAP / cap
        ink = cv2.resize(ink, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        binary = binarise(ink)
        top, bottom = line_geometry(binary)
        cap = bottom - top
    # blobs touching the crop's sides are the card's edge or the background, never a glyph (the
    # band is cut with a margin)
    width = binary.shape[1]
    comps = [c for c in _components(binary, cap) if c[3] <= cap * 1.3 and c[0] > 0 and c[0] + c[2] < width]
    comps = _merge_fragments(_main_run(comps, cap))
    if len(comps) < n_chars * 0.4:
        return None
    grids = _grids(comps, cap, n_chars)
    if not grids:
        return None
    best: LineRead | None = None
    for grid in grids:
        read = _read_grid(ink, comps, cap, bottom, grid, n_chars, blurred)
        if read is not None and (best is None or read.mean_score > best.mean_score):
            best = read
    return best


def _grids(comps, cap: float, n_chars: int) -> list[np.ndarray]:
    """Where the `n_chars` cells of the line lie (their centres), one or two ways: the glyphs
    indexed by walking from the line's left end at the pitch of their spacing, and, when that
    does not span the line end to end (glyphs merged by blur at an end), the line's own extent cut
    into `n_chars` equal cells (every position of an MRZ line is printed, fillers included)."""
    # glyph-sized blobs (a '<' is over half a capital's height): specks of noise and card edges
    # beside the line are neither glyphs nor the line's ends
    body = [c for c in comps if 0.45 * cap <= c[3] <= 1.3 * cap] or comps
    # one glyph is at most about a capital wide; a shake along the line widens every glyph alike,
    # so a blob counts as one glyph up to a little over the line's typical blob width (two glyphs
    # merged are a pitch wider than one), never over a pitch and a half
    typical = float(np.median([c[2] for c in body])) if body else 0.0
    widest = min(max(cap * 1.1, 1.3 * typical), 1.5 * cap)
    glyphs = [c for c in body if c[2] <= widest]
    centres = np.array([c[4] for c in glyphs], float)
    if len(centres) < 4:
        return []
    left = float(min(c[0] for c in body))
    right = float(max(c[0] + c[2] for c in body))
    steps = np.diff(centres)
    steps = steps[(steps > 0.5 * cap) & (steps < 1.5 * cap)]
    pitch = float(np.median(steps)) if len(steps) else cap
    longer = LONGER_LINE.get(n_chars)
    if longer is not None and (right - left) / pitch > (n_chars + longer) / 2:
        return []  # as long as the longer format's line: a TD3 line is not read as TD2's 36 cells
    grids = []
    # index each glyph by walking left to right (robust to merged or missing glyphs)
    ks = [0]
    for step in np.diff(centres):
        ks.append(ks[-1] + max(1, int(round(step / pitch))))
    ks_arr = np.array(ks, float)
    keep = ks_arr < n_chars
    if keep.sum() >= 4:
        degree = 2 if keep.sum() >= 12 else 1
        coeffs = np.polyfit(ks_arr[keep], centres[keep], degree)
        grid = np.polyval(coeffs, np.arange(n_chars, dtype=float))
        if 0.5 * cap < float(np.median(np.gradient(grid))) < 1.8 * cap:
            grids.append(grid)
    span_pitch = (right - left) / n_chars
    if 0.5 * cap < span_pitch < 1.8 * cap:
        span = left + span_pitch * (np.arange(n_chars, dtype=float) + 0.5)
        walked = grids[0] if grids else None
        if walked is None or max(abs(walked[0] - span[0]), abs(walked[-1] - span[-1])) > 0.3 * span_pitch:
            grids.append(span)
    return grids


def _read_grid(ink: np.ndarray, comps, cap: float, bottom: float, grid: np.ndarray,
               n_chars: int, blurred: bool = True) -> LineRead | None:
    """The line read cell by cell at the centres `grid`."""
    pitch = float(np.median(np.gradient(grid)))
    # local baseline: bottoms of the full-height glyphs (a line may slant across the crop)
    tall = [c for c in comps if c[3] >= 0.75 * cap and c[2] <= pitch * 1.1]
    glyph_cap = pitch * cap_per_pitch()  # the fixed pitch gives the scale more surely than heights
    if len(tall) >= 4:
        slope, base = np.polyfit([c[4] for c in tall], [c[1] + c[3] for c in tall], 1)
        if abs(slope) > 0.15:
            slope, base = 0.0, bottom
    else:
        slope, base = 0.0, bottom
    by_cell: dict[int, list] = {}
    for comp in comps:
        k = int(np.argmin(np.abs(grid - comp[4])))
        if comp[2] <= pitch * 1.1 and abs(comp[4] - grid[k]) < pitch * 0.4:
            by_cell.setdefault(k, []).append(comp)
    centres = []
    for k in range(n_chars):
        cx = float(grid[k])
        if k in by_cell:
            x0 = min(c[0] for c in by_cell[k])
            x1 = max(c[0] + c[2] for c in by_cell[k])
            cx = (x0 + x1) / 2.0
        centres.append(cx)

    def read_cells(height: float, width_scale: float | None, lift: float = 0.0) -> LineRead:
        cells = [_cell(ink, cx, base - lift + slope * cx - height, base - lift + slope * cx, pitch, width_scale)
                 for cx in centres]
        return LineRead(*classify(cells, blurred))

    read = read_cells(glyph_cap, None)
    # A card photographed at an angle narrows (or flattens) its glyphs: their measured height then
    # disagrees with the one the pitch gives, and the line is read again at its own proportions.
    heights = [c[3] for c in tall]
    measured = float(np.median(heights)) if len(heights) >= 4 else glyph_cap
    if read.mean_score < SHARP_ENOUGH and abs(measured / glyph_cap - 1.0) > PROPORTION_TOLERANCE:
        other = read_cells(measured, _CAP / glyph_cap)
        if other.mean_score > read.mean_score:
            read = other
    if read.mean_score < CLEAR_LINE and measured > glyph_cap * (1.0 + PROPORTION_TOLERANCE):
        # A shake across the line smears each glyph up and down alike: the glyphs look taller than
        # their pitch says and their bottoms sit under the baseline. The cells are then centred on
        # the glyphs' middle row (which a blur does not move), at the height the pitch gives.
        centred = read_cells(glyph_cap, None, (measured - glyph_cap) / 2.0)
        if centred.mean_score > read.mean_score:
            read = centred
    return read
