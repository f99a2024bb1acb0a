"""Read the characters of one upright MRZ band, cell by cell.

OCR-B is fixed-pitch and an MRZ line has a known number of characters, so a line is cut into equal
cells and each cell is compared with the 37 glyphs rendered from the OCR-B font itself (cached at
first use). This keeps every `<` in place (tesseract's LSTM collapses runs of fillers) and gives,
for each position, a ranked list of candidates with costs, which the parser's check digits choose
from. It takes a few milliseconds per line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

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


def binarise(ink: np.ndarray) -> np.ndarray:
    scaled = np.clip(ink * 255.0 * 2.0, 0, 255).astype(np.uint8)
    thr, binary = cv2.threshold(scaled, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if thr < 30:  # a nearly blank crop: Otsu splits noise
        binary = (scaled > 60).astype(np.uint8)
    return binary


def _cell(ink: np.ndarray, cx: float, top: float, bottom: float, pitch: float) -> np.ndarray:
    """The normalised cell around centre `cx`: cap height -> _CAP px, width one pitch."""
    cap = max(bottom - top, 2.0)
    scale = _CAP / cap
    # affine map: output (u, v) <- input (x, y)
    x0 = cx - (_SIZE / 2) / scale
    y0 = top - _PAD / scale
    m = np.float32([[1 / scale, 0, x0], [0, 1 / scale, y0]])
    out = cv2.warpAffine(ink, m, (_SIZE, _SIZE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                         borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    half = pitch * scale / 2
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


@lru_cache(maxsize=1)
def templates() -> tuple[np.ndarray, list[str]]:
    """The 37 OCR-B glyphs as normalised cells, rendered from the font (cached)."""
    size = 40
    font = ImageFont.truetype(str(OCRB_FONT), size)
    pitch = font.getlength("A")
    cells = []
    cap_top = cap_bottom = None
    for ch in ALPHABET:
        img = Image.new("L", (int(pitch * 3), size * 2), 255)
        ImageDraw.Draw(img).text((pitch, size // 2), ch, font=font, fill=0)
        ink = 1.0 - np.asarray(img, np.float32) / 255.0
        if cap_top is None:
            ref = Image.new("L", (int(pitch * 3), size * 2), 255)
            ImageDraw.Draw(ref).text((pitch, size // 2), "H", font=font, fill=0)
            rows = np.where((1.0 - np.asarray(ref, np.float32) / 255.0).max(axis=1) > 0.5)[0]
            cap_top, cap_bottom = float(rows[0]), float(rows[-1] + 1)
        cols = np.where(ink.max(axis=0) > 0.5)[0]
        cx = (cols[0] + cols[-1] + 1) / 2.0
        cells.append(_cell(ink, cx, cap_top, cap_bottom, pitch))
    return np.stack(cells), list(ALPHABET)


@lru_cache(maxsize=1)
def _template_matrix() -> tuple[np.ndarray, list[str]]:
    """The glyphs' inner windows, zero-mean and unit-norm, one row each (for correlation by product)."""
    tpl, chars = templates()
    inner = tpl[:, _SHIFT:-_SHIFT, _SHIFT:-_SHIFT].reshape(len(chars), -1).astype(np.float32)
    inner = inner - inner.mean(axis=1, keepdims=True)
    inner /= np.linalg.norm(inner, axis=1, keepdims=True) + 1e-9
    return inner, chars


def _correlations(cells: np.ndarray) -> np.ndarray:
    """Best normalised correlation (TM_CCOEFF_NORMED over shifts of +-_SHIFT px) of every cell with
    every glyph, as one matrix product instead of a template match per cell and glyph."""
    matrix, _chars = _template_matrix()
    side = _SIZE - 2 * _SHIFT
    windows = np.lib.stride_tricks.sliding_window_view(cells, (side, side), axis=(1, 2))
    windows = windows.reshape(len(cells), -1, side * side).astype(np.float32)
    windows = windows - windows.mean(axis=2, keepdims=True)
    windows /= np.linalg.norm(windows, axis=2, keepdims=True) + 1e-9
    return (windows @ matrix.T).max(axis=1)


def classify(cells: list[np.ndarray]) -> tuple[list[list[tuple[str, float]]], list[float]]:
    """Rank the 37 glyphs for each normalised cell (normalised correlation, small shifts)."""
    _matrix, chars = _template_matrix()
    inked = [i for i, cell in enumerate(cells) if float(cell.max()) >= 0.05]
    scores_of = dict(zip(inked, _correlations(np.stack([cells[i] for i in inked])))) if inked else {}
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


def line_geometry(binary: np.ndarray) -> tuple[float, float]:
    """Cap top and bottom rows of a line crop, from the rows most of its ink covers."""
    rows = binary.sum(axis=1).astype(np.float32)
    if rows.max() <= 0:
        return 0.0, float(binary.shape[0])
    strong = np.where(rows > rows.max() * 0.25)[0]
    return float(strong[0]), float(strong[-1] + 1)


def read_line(ink: np.ndarray, n_chars: int) -> LineRead | None:
    """Read one line crop (ink map, roughly one line tall) as exactly `n_chars` cells."""
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
    comps = [c for c in _components(binary, cap) if c[3] <= cap * 1.3]
    comps = _main_run(comps, cap)
    if len(comps) < n_chars * 0.4:
        return None
    glyphs = [c for c in comps if c[2] <= cap * 1.1]
    centres = np.array([c[4] for c in glyphs], float)
    if len(centres) < 4:
        return None
    steps = np.diff(centres)
    steps = steps[(steps > 0.5 * cap) & (steps < 1.5 * cap)]
    pitch = float(np.median(steps)) if len(steps) else cap
    # index each glyph by walking left to right (robust to merged or missing glyphs)
    ks = [0]
    for step in np.diff(centres):
        ks.append(ks[-1] + max(1, int(round(step / pitch))))
    ks_arr = np.array(ks, float)
    keep = ks_arr < n_chars
    if keep.sum() < 4:
        return None
    degree = 2 if keep.sum() >= 12 else 1
    coeffs = np.polyfit(ks_arr[keep], centres[keep], degree)
    grid = np.polyval(coeffs, np.arange(n_chars, dtype=float))
    local_pitch = np.gradient(grid)
    pitch = float(np.median(local_pitch))
    if not 0.5 * cap < pitch < 1.8 * cap:
        return None
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
    cells = []
    for k in range(n_chars):
        cx = float(grid[k])
        if k in by_cell:
            x0 = min(c[0] for c in by_cell[k])
            x1 = max(c[0] + c[2] for c in by_cell[k])
            cx = (x0 + x1) / 2.0
        cell_bottom = base + slope * cx
        cells.append(_cell(ink, cx, cell_bottom - glyph_cap, cell_bottom, pitch))
    cands, scores = classify(cells)
    return LineRead(cands, scores)
