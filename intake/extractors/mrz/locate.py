"""Find machine-readable zones on a page: cheap OpenCV morphology on a downscaled copy.

An MRZ is 2 or 3 long text lines of the same length, one above the other, about 30 to 44 glyphs
wide for one glyph high. Dark glyphs are picked out with a black-hat filter, joined into lines by a
closing along the text direction, and lines are grouped into bands. Both quarter turns are tried
(lines along x, or along y for a page turned 90 degrees); whether the band is upside down is left to
the reader, which reads it both ways when needed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

log = logging.getLogger(__name__)

_WORK_SIZE = 1400  # longest side of the working copy, px


@dataclass
class LineBox:
    center: tuple[float, float]  # in the quarter-turned full-resolution image
    length: float
    height: float
    angle: float  # degrees, text direction against x


@dataclass
class Band:
    quarter: int  # 0 or 90: clockwise quarter turn of the page before the band is horizontal
    lines: list[LineBox]  # top to bottom
    score: float

    @property
    def angle(self) -> float:
        return float(np.median([ln.angle for ln in self.lines]))


def _rotate_quarter(image: np.ndarray, quarter: int) -> np.ndarray:
    return image if quarter == 0 else cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)


def _line_boxes(small: np.ndarray, boost: float = 1.0) -> list[tuple[tuple[float, float], float, float, float]]:
    """Long thin text-line blobs in a (downscaled, horizontal) gray image. With `boost` over 1 only
    the darker cores of the glyphs count: a shake smears the glyphs of neighbouring lines into one
    another, and their cores stay apart."""
    h, w = small.shape
    k = max(15, (max(h, w) // 45) | 1)
    blackhat = cv2.morphologyEx(small, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    thr, binary = cv2.threshold(blackhat, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    if thr < 20:
        thr, binary = cv2.threshold(blackhat, 20, 255, cv2.THRESH_BINARY)
    if boost != 1.0:
        _, binary = cv2.threshold(blackhat, min(250.0, thr * boost), 255, cv2.THRESH_BINARY)
    n, _, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    heights = [s[3] for s in stats[1:] if 4 <= s[3] <= 80 and s[2] <= 3 * s[3] and s[4] >= 8]
    if len(heights) < 20:
        return []
    hc = float(np.percentile(heights, 75))
    joined = cv2.morphologyEx(binary, cv2.MORPH_CLOSE,
                              cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, int(hc * 1.2)) | 1, 1)))
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for cnt in contours:
        (cx, cy), (bw, bh), angle = cv2.minAreaRect(cnt)
        if bw < bh:
            bw, bh, angle = bh, bw, angle - 90
        while angle <= -45:
            angle += 180
        while angle > 45:
            angle -= 180
        if bh < 3 or bw < 12 * bh or abs(angle) > 20:
            continue
        boxes.append(((cx, cy), bw, bh, angle))
    return boxes


#: A "line" spanning this share of the picture's width or more runs edge to edge: the stripes of a
#: tablecloth, the grain of a desk. Such bands are looked at after the others (a band cropped alone
#: still has only its own lines to offer).
EDGE_TO_EDGE = 0.97


def _group(boxes, scale: float, quarter: int, width: float = 0.0) -> list[Band]:
    """Runs of 2 or 3 parallel lines of the same length, evenly spaced: MRZ candidates."""
    boxes = sorted(boxes, key=lambda b: b[0][1])
    bands = []
    for i, first in enumerate(boxes):
        chain = [first]
        for other in boxes[i + 1:]:
            last = chain[-1]
            dy = other[0][1] - last[0][1]
            h = max(last[2], other[2])
            if dy < 0.8 * h:
                continue
            if dy > 3.5 * h:
                break
            if not 0.85 <= other[1] / last[1] <= 1.18:
                continue
            if abs(other[0][0] - last[0][0]) > 0.12 * last[1] or abs(other[3] - last[3]) > 4:
                continue
            chain.append(other)
            if len(chain) == 3:
                break
        if len(chain) < 2:
            continue
        for size in (3, 2) if len(chain) == 3 else (2,):
            part = chain[-size:] if size == 2 and len(chain) == 3 else chain[:size]
            ratio = float(np.median([b[1] / max(b[2], 1.0) for b in part]))
            lengths = [b[1] for b in part]
            evenness = min(lengths) / max(lengths)
            score = evenness * (1.5 if size == 3 else 1.0) * min(1.0, ratio / 20.0)
            if width and max(lengths) >= EDGE_TO_EDGE * width:
                score *= 0.3
            lines = [LineBox((b[0][0] / scale, b[0][1] / scale), b[1] / scale, b[2] / scale, b[3]) for b in part]
            bands.append(Band(quarter, lines, score))
    return bands


def find_bands(gray: np.ndarray, limit: int = 4, boost: float = 1.0) -> list[Band]:
    """MRZ candidates on a gray page, best first (`boost`: see `_line_boxes`)."""
    h, w = gray.shape[:2]
    scale = min(1.0, _WORK_SIZE / max(h, w))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    bands: list[Band] = []
    for quarter in (0, 90):
        turned = _rotate_quarter(small, quarter)
        bands.extend(_group(_line_boxes(turned, boost), scale, quarter, float(turned.shape[1])))
    bands.sort(key=lambda b: -b.score)
    # Paragraphs of ordinary print make many 3-line bands, which score above any 2-line one: the
    # best bands of each size are kept, so that a 2-line MRZ among printed papers is not crowded out.
    three = [b for b in bands if len(b.lines) == 3]
    two = [b for b in bands if len(b.lines) == 2]
    if len(bands) > limit:
        keep = {id(b) for b in three[: (limit + 1) // 2] + two[: limit // 2]}
        keep |= {id(b) for b in [b for b in bands if id(b) not in keep][: max(0, limit - len(keep))]}
        bands = [b for b in bands if id(b) in keep]
    return bands[:limit]


def rotate_quarter(image: np.ndarray, quarter: int) -> np.ndarray:
    return _rotate_quarter(image, quarter)
