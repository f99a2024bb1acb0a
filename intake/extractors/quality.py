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


def sharpness(g: np.ndarray) -> float:
    """Steepness of the strongest edges relative to contrast: ~1 for crisp print, under 0.3 when blurred
    past reading (measured on 10 pt text at 200 dpi, Gaussian blur)."""
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    mag = cv2.magnitude(gx, gy)
    strong = mag[mag > 8]
    if strong.size < 50:
        return 0.0
    edge = float(np.percentile(strong, 99))
    lo, hi = np.percentile(g, [2, 98])
    contrast = max(float(hi - lo), 1.0)
    # A step of height `contrast` gives a Sobel response of 4*contrast at a sharp edge.
    return edge / (4.0 * contrast)


def assess(image: np.ndarray) -> Quality:
    """Measures and verdict for one page image (BGR or gray)."""
    g = gray(image)
    h, w = g.shape[:2]
    small = g if max(h, w) <= 1 else _work(g)
    mean = float(small.mean()) if small.size else 0.0
    std = float(small.std()) if small.size else 0.0
    paper = float(np.percentile(small, 90)) if small.size else 0.0
    ink_share = float(np.count_nonzero(small < paper - 60) / max(small.size, 1))
    sharp = sharpness(small) if small.size else 0.0
    reason = None
    if min(h, w) < MIN_SHORT_SIDE or h * w < MIN_PIXELS:
        reason = "small"
    elif mean < DARK_MEAN and float(np.percentile(small, 99)) < 110:
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
