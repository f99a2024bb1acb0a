"""Is a page worth reading? Blank, too dark, too small or too blurred pages, decided before any OCR.

A page that cannot be read must say why (`unreadable_piece` with the reason in French), never
end as a silent `unknown`. Every measure is taken on a copy scaled to a fixed size, so the same
page scanned at 150 or 300 dpi gets the same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

#: Below this many pixels on the short side nothing printed can be read (a thumbnail).
MIN_SHORT_SIDE = 200
MIN_PIXELS = 60_000
#: Mean luminance (0-255) under which the page is too dark, and the share of bright pixels that
#: must be missing too (a dark photo with a lit card in it is readable).
DARK_MEAN = 45.0
#: A page is blank when almost nothing differs from its paper.
BLANK_STD = 4.0
BLANK_INK_SHARE = 0.0008
#: Paper at least this bright (90th percentile) makes an empty page blank rather than too dark.
BLANK_PAPER = 150.0
#: Sharpness: the 95th percentile of the gradient magnitude on edges, relative to the page's
#: contrast, at the working scale. Sharp print gives steep edges; a heavy blur flattens them.
WORK_LONG_SIDE = 1400
BLUR_SHARPNESS = 0.30
#: Between BLUR_SHARPNESS and this, the page is doubtful: the reader tries OCR and decides from it.
BLUR_DOUBTFUL = 0.45
#: Under this, a photo read as nothing is worth a restored second reading (issue 16): phone photos
#: with a 5-9 px motion blur and low JPEG quality measure 0.3 to 0.8 (their sheet is a small part of
#: the photo, and the background's edges stay steep).
ROUGH_SHARPNESS = 0.8

REASONS = {
    "small": "image trop petite pour être lue",
    "dark": "image trop sombre",
    "blank": "page blanche",
    "blurred": "image trop floue",
}


@dataclass(frozen=True)
class Quality:
    """The measures behind the verdict (kept as evidence for reviewers)."""

    width: int
    height: int
    mean: float
    std: float
    ink_share: float
    sharpness: float
    reason: str | None  # key of REASONS, or None when readable

    @property
    def message(self) -> str | None:
        return REASONS[self.reason] if self.reason else None

    @property
    def doubtful(self) -> bool:
        """Readable by the measures, but blurred enough that OCR should confirm it."""
        return self.reason is None and self.sharpness < BLUR_DOUBTFUL

    @property
    def rough(self) -> bool:
        """Readable by the measures, but soft enough that a page read as nothing may read restored."""
        return self.reason is None and self.sharpness < ROUGH_SHARPNESS

    def to_evidence(self) -> dict:
        return {"width": self.width, "height": self.height, "mean": round(self.mean, 1),
                "std": round(self.std, 1), "ink_share": round(self.ink_share, 5),
                "sharpness": round(self.sharpness, 3), "reason": self.reason}


def gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)


def _work(g: np.ndarray) -> np.ndarray:
    h, w = g.shape
    scale = WORK_LONG_SIDE / max(h, w)
    if scale < 1:
        return cv2.resize(g, (max(1, int(w * scale)), max(1, int(h * scale))), interpolation=cv2.INTER_AREA)
    return g


class GrayLevels:
    """The histogram of an 8-bit image, and the measures taken from it: the same values as numpy's
    `percentile` (linear interpolation), `mean` and `std` on the pixels, without sorting them (a
    page is measured several times; its histogram is counted once)."""

    def __init__(self, g: np.ndarray):
        self.counts = np.bincount(g.ravel(), minlength=256).astype(np.int64) if g.size else np.zeros(256, np.int64)
        self.n = int(self.counts.sum())
        self._cumulative = np.cumsum(self.counts)

    def _at(self, k: int) -> float:
        """The k-th smallest pixel (0-based)."""
        return float(np.searchsorted(self._cumulative, k, side="right"))

    def percentile(self, q: float) -> float:
        position = q / 100.0 * (self.n - 1)
        below = int(np.floor(position))
        a, b = self._at(below), self._at(min(below + 1, self.n - 1))
        t = position - below
        # numpy's lerp, so that the figures are those measured when the thresholds were set
        return b - (b - a) * (1 - t) if t >= 0.5 else a + (b - a) * t

    @property
    def mean(self) -> float:
        return float(np.dot(self.counts, np.arange(256)) / self.n)

    @property
    def std(self) -> float:
        levels = np.arange(256, dtype=np.float64)
        return float(np.sqrt(np.dot(self.counts, (levels - self.mean) ** 2) / self.n))


def sharpness(g: np.ndarray, levels: GrayLevels | None = None) -> float:
    """Steepness of the strongest edges relative to contrast: ~1 for crisp print, under 0.3 when blurred
    past reading (measured on 10 pt text at 200 dpi, Gaussian blur)."""
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy)
    strong = mag[mag > 8]
    if strong.size < 50:
        return 0.0
    edge = float(np.percentile(strong, 99))
    levels = levels or GrayLevels(g)
    lo, hi = levels.percentile(2), levels.percentile(98)
    contrast = max(float(hi - lo), 1.0)
    # A step of height `contrast` gives a Sobel response of 4*contrast at a sharp edge.
    return edge / (4.0 * contrast)


def assess(image: np.ndarray) -> Quality:
    """Measures and verdict for one page image (BGR or gray)."""
    g = gray(image)
    h, w = g.shape[:2]
    small = g if max(h, w) <= 1 else _work(g)
    levels = GrayLevels(small) if small.size else None
    mean = levels.mean if levels else 0.0
    std = levels.std if levels else 0.0
    paper = levels.percentile(90) if levels else 0.0
    # pixels darker than paper - 60: the histogram's count below that level
    ink_share = float(levels.counts[:max(0, int(np.ceil(paper - 60)))].sum() / max(small.size, 1)) if levels else 0.0
    sharp = sharpness(small, levels) if levels else 0.0
    reason = None
    if min(h, w) < MIN_SHORT_SIDE or h * w < MIN_PIXELS:
        reason = "small"
    elif mean < DARK_MEAN and levels.percentile(99) < 110:
        reason = "dark"
    elif std < BLANK_STD or ink_share < BLANK_INK_SHARE:
        # Nothing stands out: white paper is a blank page; grey murk is an underexposed shot.
        reason = "blank" if paper >= BLANK_PAPER else "dark"
    elif sharp < BLUR_SHARPNESS:
        reason = "blurred"
    return Quality(w, h, mean, std, ink_share, sharp, reason)


def unreadable_reason(image: np.ndarray) -> str | None:
    """The French reason a page cannot be read, or None."""
    return assess(image).message
