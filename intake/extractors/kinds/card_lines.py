"""Cards of a photo found by their four straight sides (issue 16).

`certificates.card_quads` finds a card as a closed outline or as one region of the picture; both
fail when the card lies half on a paper of nearly its colour (its outline opens where the two
meet), or when its own print, reduced to the working size, fills most of its face (a small card
on a wide photo is then no region at all). Its sides are still straight edges, as long as the card
is wide, meeting at right angles as seen from above: here the long straight edges of the picture
are found, merged into lines, and every two pairs of parallel lines crossing at about a right
angle with a card's proportions give a quadrilateral. Each is kept only when every side of it
runs along an edge (the caller checks that as for any other outline)."""

from __future__ import annotations

import math

import cv2
import numpy as np

#: Lines whose directions differ by less than this (degrees) are parallel: a photo taken from a
#: little off the vertical converges a card's opposite sides by a few degrees.
PARALLEL = 6.0
#: Two pairs of parallel lines cross at 90 degrees give or take this (a card seen a little aslant).
SQUARE = 12.0
#: Segments on one line: directions within 2 degrees, offsets within this share of the picture.
SAME_LINE = 0.006
#: At most this many lines (the longest) are paired: the edges of text bars and papers are many.
MAX_LINES = 120
#: The segments found on a side's line add up to at least this share of the side.
SIDE_SEEN = 0.15
#: At most this many quadrilaterals are given (those with the most edge along their sides first).
MAX_QUADS = 60


def _segments(edges: np.ndarray, shortest: float) -> np.ndarray:
    found = cv2.HoughLinesP(edges, 1, np.pi / 360, threshold=max(20, int(shortest * 0.6)),
                            minLineLength=int(shortest), maxLineGap=max(3, int(shortest * 0.08)))
    return np.zeros((0, 4), np.float32) if found is None else found.reshape(-1, 4).astype(np.float32)


def _lines(segments: np.ndarray, diagonal: float) -> list[tuple[float, float, float]]:
    """Segments merged into lines: (direction in degrees [0, 180), signed offset from the origin,
    total length of the segments on the line)."""
    lines: list[list[float]] = []  # [theta, rho, length]
    for x1, y1, x2, y2 in segments:
        length = math.hypot(x2 - x1, y2 - y1)
        theta = math.degrees(math.atan2(y2 - y1, x2 - x1)) % 180.0
        t = math.radians(theta)
        rho = -x1 * math.sin(t) + y1 * math.cos(t)  # offset along the line's normal
        for line in lines:
            d = abs(line[0] - theta)
            flipped = d > 90  # directions near 0 and near 180 are the same line with opposite offsets
            if min(d, 180 - d) <= 2.0 and abs((-rho if flipped else rho) - line[1]) <= SAME_LINE * diagonal:
                line[2] += length
                break
        else:
            lines.append([theta, rho, length])
    lines.sort(key=lambda ln: -ln[2])
    return [tuple(ln) for ln in lines[:MAX_LINES]]


def _cross(a: tuple[float, float, float], b: tuple[float, float, float]) -> np.ndarray | None:
    """The point where two lines (theta, rho) meet."""
    ta, tb = math.radians(a[0]), math.radians(b[0])
    m = np.array([[-math.sin(ta), math.cos(ta)], [-math.sin(tb), math.cos(tb)]])
    if abs(np.linalg.det(m)) < 1e-6:
        return None
    return np.linalg.solve(m, np.array([a[1], b[1]]))


def _angle_between(a: float, b: float) -> float:
    d = abs(a - b) % 180.0
    return min(d, 180.0 - d)


def line_quads(edges: np.ndarray, min_share: float, max_share: float,
               ratio: tuple[float, float] = (1.35, 1.85)) -> list[np.ndarray]:
    """Quadrilaterals (4 x 2 corners, in `edges` pixels, in order round the shape) bounded by two
    pairs of parallel straight edges crossing at about a right angle, of a card's size: from
    `min_share` to `max_share` of the picture, its sides' lengths in `ratio`."""
    h, w = edges.shape[:2]
    area = float(h * w)
    shortest = 0.6 * math.sqrt(min_share * area / 1.585)  # most of a smallest card's short side
    lines = _lines(_segments(edges, shortest), math.hypot(h, w))
    pairs = []
    for i, a in enumerate(lines):
        for b in lines[i + 1:]:
            if _angle_between(a[0], b[0]) > PARALLEL:
                continue
            rb = b[1] if abs(a[0] - b[0]) <= 90 else -b[1]
            gap = abs(a[1] - rb)
            if gap >= shortest:
                pairs.append((a, b, gap))
    quads = []
    for i, (a, b, gap_ab) in enumerate(pairs):
        for c, d, gap_cd in pairs[i + 1:]:
            if abs(_angle_between(a[0], c[0]) - 90.0) > SQUARE:
                continue
            if not ratio[0] <= max(gap_ab, gap_cd) / min(gap_ab, gap_cd) <= ratio[1]:
                continue
            # each side's line is mostly edge over the side's length (not the edge of a text bar
            # whose far end is nowhere near the quadrilateral)
            if min(a[2], b[2]) < SIDE_SEEN * gap_cd or min(c[2], d[2]) < SIDE_SEEN * gap_ab:
                continue
            corners = [_cross(a, c), _cross(c, b), _cross(b, d), _cross(d, a)]
            if any(p is None for p in corners):
                continue
            quad = np.float32(corners)
            share = cv2.contourArea(quad) / area
            if min_share <= share <= max_share:
                seen = min(a[2], b[2]) / gap_cd + min(c[2], d[2]) / gap_ab
                quads.append((seen, quad))
    quads.sort(key=lambda q: -q[0])
    return [q for _, q in quads[:MAX_QUADS]]
