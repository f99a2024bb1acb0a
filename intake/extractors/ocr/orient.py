"""Upright text pages: quarter-turn orientation and small skew, cheaply.

Skew and the 0/90 question come from text-line geometry (horizontal smearing of ink into line
blobs, whose long axes give the angle); 0 versus 180 is tesseract's OSD on a reduced copy, asked
only when the page has enough text for it, and trusted only above a confidence.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from intake.extractors.ocr import words as ocr
from intake.extractors.quality import gray

log = logging.getLogger(__name__)

WORK_LONG_SIDE = 1200
MAX_SKEW = 15.0
OSD_MIN_CONF = 1.5
#: A component longer than this share of the page's long side is a rule or a frame, not a word.
RULE_SHARE = 0.15
#: Ink over this share of its bounding box: a solid bar, not letters run together.
SOLID_SHARE = 0.7
#: Fewer lines than this say nothing sure about the page's direction.
FEW_LINES = 5


@dataclass(frozen=True)
class Orientation:
    rotation: int  # degrees clockwise applied to make the page upright (0, 90, 180, 270)
    skew: float  # degrees of the deskew rotation applied (counter-clockwise positive)
    source: str  # "geometry", "osd" or "none"


def rotate_quarter(image: np.ndarray, degrees_cw: int) -> np.ndarray:
    degrees_cw %= 360
    if degrees_cw == 90:
        return cv2.rotate(image, cv2.ROTATE_90_CLOCKWISE)
    if degrees_cw == 180:
        return cv2.rotate(image, cv2.ROTATE_180)
    if degrees_cw == 270:
        return cv2.rotate(image, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return image


def _reduced(g: np.ndarray, long_side: int = WORK_LONG_SIDE) -> tuple[np.ndarray, float]:
    h, w = g.shape
    scale = min(1.0, long_side / max(h, w))
    if scale < 1:
        g = cv2.resize(g, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    return g, scale


def glyph_ink(g: np.ndarray) -> np.ndarray:
    """Ink of character size only (rules, frames, photos and logos left out), as a 0/255 mask."""
    return _ink(g)


def _ink(g: np.ndarray, keep_runs: bool = False) -> np.ndarray:
    """Ink of character size only: photos, logos, rules and frames are left out, so that their
    edges do not pass for lines of text: any component larger than a glyph either way.

    With `keep_runs`, letters run together are kept: small print reduced to the work size joins
    its letters into one component per word, long in one direction only (along its line, so a
    word of a page turned a quarter is tall). Then only what is thick (a photo, a logo), very long
    (a rule, a frame) or long and solid (a barcode's bar, a drawn stroke) is left out."""
    g = cv2.GaussianBlur(g, (3, 3), 0)
    ink = cv2.adaptiveThreshold(g, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 15)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return ink
    h, w = ink.shape
    limit = max(12, int(0.04 * max(h, w)))
    heights, widths = stats[:, cv2.CC_STAT_HEIGHT], stats[:, cv2.CC_STAT_WIDTH]
    longest = np.maximum(heights, widths)
    if keep_runs:
        solid = _filled_area(ink, labels, n) > SOLID_SHARE * heights * widths
        thick = np.minimum(heights, widths) > limit
        big = thick | (longest > RULE_SHARE * max(h, w)) | ((longest > limit) & solid)
    else:
        big = longest > limit
    big[0] = False
    if big.any():
        ink[big[labels]] = 0
    return ink


def _filled_area(ink: np.ndarray, labels: np.ndarray, n: int) -> np.ndarray:
    """Area of each component with its holes filled: the threshold leaves a thick bar as its
    outline, which is as solid as the bar once filled; letters run together are not."""
    outside = np.pad(ink, 1).copy()
    mask = np.zeros((outside.shape[0] + 2, outside.shape[1] + 2), np.uint8)
    cv2.floodFill(outside, mask, (0, 0), 128)
    holes = outside[1:-1, 1:-1] == 0
    # a hole belongs to the component just left of it on its row (holes are enclosed by it)
    owner = labels.copy()
    for x in range(1, owner.shape[1]):
        col = holes[:, x] & (owner[:, x] == 0)
        owner[col, x] = owner[col, x - 1]
    return np.bincount(owner[owner > 0].ravel(), minlength=n)[:n]


def _line_angles(ink: np.ndarray) -> tuple[list[float], list[float]]:
    """Angles of elongated blobs after horizontal, then vertical, smearing."""
    out = []
    for kernel in ((25, 3), (3, 25)):
        k = cv2.getStructuringElement(cv2.MORPH_RECT, kernel)
        smeared = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, k)
        contours, _ = cv2.findContours(smeared, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        angles = []
        for c in contours:
            (cx, cy), (rw, rh), a = cv2.minAreaRect(c)
            long_side, short_side = max(rw, rh), min(rw, rh)
            if long_side < 60 or short_side < 4 or long_side < 5 * short_side or short_side > 60:
                continue
            if rw < rh:
                a -= 90
            # normalise to (-90, 90]: 0 = horizontal
            while a <= -90:
                a += 180
            while a > 90:
                a -= 180
            angles.append(a)
        out.append(angles)
    return out[0], out[1]


def geometry(g: np.ndarray) -> tuple[bool, float, int]:
    """(text lines are vertical, skew angle of the lines in degrees, number of lines seen).

    Lines are looked for among glyph-sized ink first; when fewer than `FEW_LINES` are seen (small
    print whose letters the reduction ran together, a card's few short lines), again with the
    words run together kept, and the reading that sees more lines wins."""
    small, _ = _reduced(g)
    found = _lines_direction(_ink(small))
    if found[2] < FEW_LINES:
        again = _lines_direction(_ink(small, keep_runs=True))
        if again[2] > found[2]:
            found = again
    return found


def _lines_direction(ink: np.ndarray) -> tuple[bool, float, int]:
    """`geometry`'s answer from one ink image: vertical when clearly more lines run down the page."""
    horiz, vert = _line_angles(ink)
    near_h = [a for a in horiz if abs(a) <= MAX_SKEW]
    near_v = [a for a in vert if abs(abs(a) - 90) <= MAX_SKEW]
    if len(near_v) > 1.5 * max(len(near_h), 1) and len(near_v) >= FEW_LINES:
        skew = float(np.median([(a - 90 if a > 0 else a + 90) for a in near_v]))
        return True, skew, len(near_v)
    if not near_h:
        return False, 0.0, 0
    return False, float(np.median(near_h)), len(near_h)


def deskew(image: np.ndarray, angle: float) -> np.ndarray:
    """Rotate by `angle` degrees (as measured by `geometry`) to level the lines; white fill."""
    if abs(angle) < 0.3:
        return image
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    border = 255 if image.ndim == 2 else (255, 255, 255)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=border)


def osd_rotation(g: np.ndarray) -> tuple[int, float]:
    """Tesseract OSD on a reduced copy: (degrees clockwise to upright, confidence); (0, 0) on failure."""
    small, _ = _reduced(g, 1600)
    try:
        return ocr.orientation(small, timeout=15)
    except Exception as exc:  # OSD fails on pages with too few characters
        log.debug("osd failed: %s", type(exc).__name__)
        return 0, 0.0


def upright(image: np.ndarray, ask_osd: bool = True) -> tuple[np.ndarray, Orientation]:
    """The page turned upright and levelled, with what was done."""
    g = gray(image)
    vertical, skew, lines = geometry(g)
    rotation = 0
    source = "none"
    if vertical:
        rotation = 90  # provisional; OSD decides between 90 and 270
        source = "geometry"
    if ask_osd and lines >= 3:
        rot, conf = osd_rotation(deskew(g, skew) if not vertical else g)
        if conf >= OSD_MIN_CONF and (not vertical or rot in (90, 270)):
            rotation = rot
            source = "osd"
    out = deskew(image, skew)
    out = rotate_quarter(out, rotation)
    return out, Orientation(rotation=rotation, skew=skew, source=source)


#: A photo's border this bright all round is a scan's white margin: no sheet to look for...
SCAN_BORDER = 170
#: ...unless the paper inside is brighter than that border by this much: a light desk round a sheet
#: (border 170-190, paper 230-255 in phone photos; a scan's margins are within 10 of its paper).
SCAN_PAPER_GAP = 30
#: The bright region fills at least this share of its convex hull when it is one sheet: less, and
#: other things as bright as paper (papers under it, a sticky note) are merged with it.
HULL_FILL = 0.95
#: Long over short side of a whole sheet seen from above (A4 1.41, letter 1.29, photo prints 1.43
#: and 1.5), with room for foreshortening.
SHEET_RATIOS = (1.15, 1.75)
#: A bright class covering more than this share of the picture's border holds the table too.
BRIGHT_BORDER = 0.5
#: Pixels (at 800 px) by which the cut region is thinned: the strips of a ruled paper under the
#: sheet, between its lines, are thinner, and part from the sheet.
CUT_THINNING = 5
#: The least share of each side of a sheet's quadrilateral lying on an edge of the picture.
SIDE_SUPPORT = 0.5


def border_median(image: np.ndarray, depth: int = 4) -> float:
    """Median brightness of the image's outer `depth` pixels, from the full image's strips (no
    conversion or reduction of the whole image: a scan is told from a photo at once)."""
    strips = [image[:depth], image[-depth:], image[:, :depth], image[:, -depth:]]
    return float(np.median(np.concatenate([gray(np.ascontiguousarray(s)).ravel() for s in strips])))


def scan_margins(image: np.ndarray, depth: int) -> bool:
    """The picture's border is paper as white as the page inside: a scan or an export. Read on the
    border strips and a sparse sample of the centre, with no conversion of the whole image."""
    border = border_median(image, depth)
    if border <= SCAN_BORDER:
        return False
    h, w = image.shape[:2]
    step = max(1, min(h, w) // 200)
    centre = gray(np.ascontiguousarray(image[h // 4:3 * h // 4:step, w // 4:3 * w // 4:step]))
    return border > float(np.percentile(centre, 90)) - SCAN_PAPER_GAP


def find_paper(image: np.ndarray) -> np.ndarray | None:
    """The 4 corners (tl, tr, br, bl) of a sheet or card photographed on a darker background, or
    None when the image is already the sheet (a scan) or no clear quadrilateral stands out: the
    sheet's outline (`paper_outline`), or, when that outline was cut from the sheet merged with a
    paper under it and a side of it has no paper inside it (the cut went wrong, the side runs
    across the table), the quadrilateral of four straight edges that keeps the most of it."""
    corners, merged = paper_outline(image)
    if corners is None or not merged:
        return corners
    small, scale = _reduced(gray(image), 800)
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    quad = corners * scale
    if _paper_inside(quad, _bright(blur)) >= INSIDE_PAPER:
        return corners
    near_edge = cv2.dilate(cv2.Canny(blur, 30, 90), np.ones((7, 7), np.uint8))
    from intake.extractors.kinds.card_lines import line_quads

    h, w = small.shape
    best, best_overlap = None, 0.0
    for other in line_quads(near_edge, SHEET_SHARE, 0.97, SHEET_RATIOS):
        other = _ordered(other)
        if edge_support(other, near_edge) < SIDE_SUPPORT:
            continue
        overlap = _overlap(quad, other, (h, w))
        if overlap > best_overlap:
            best, best_overlap = other, overlap
    if best is None or best_overlap < MIN_OVERLAP:
        return corners
    log.debug("sheet outline replaced by straight edges (overlap %.2f)", best_overlap)
    return best / scale


#: A sheet's quadrilateral found by straight edges covers at least this share of the picture, and
#: at least MIN_OVERLAP of the outline it replaces (intersection over union).
SHEET_SHARE = 0.15
MIN_OVERLAP = 0.6


def _overlap(a: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> float:
    """Intersection over union of two quadrilaterals, drawn on a mask of `shape`."""
    ma, mb = np.zeros(shape, np.uint8), np.zeros(shape, np.uint8)
    cv2.fillConvexPoly(ma, a.astype(np.int32), 1)
    cv2.fillConvexPoly(mb, b.astype(np.int32), 1)
    union = np.count_nonzero(ma | mb)
    return float(np.count_nonzero(ma & mb)) / union if union else 0.0


#: Each side of a sheet's outline has paper just inside it on at least this share of its length.
INSIDE_PAPER = 0.8


def _paper_inside(quad: np.ndarray, paper: np.ndarray) -> float:
    """The least share, over the 4 sides, of points just inside a side (a fiftieth of the
    diagonal in) lying on paper (`paper`: a mask): a side cut across the table has table inside."""
    h, w = paper.shape[:2]
    centre = quad.mean(axis=0)
    inward = 0.02 * float(np.linalg.norm(quad[0] - quad[2]))
    shares = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        t = np.linspace(0.1, 0.9, 40)[:, None]
        pts = a + t * (b - a)
        step = centre - pts
        pts = pts + step / np.maximum(np.linalg.norm(step, axis=1, keepdims=True), 1e-6) * inward
        pts = np.rint(pts).astype(int)
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        on = np.zeros(len(pts), bool)
        on[inside] = paper[pts[inside, 1], pts[inside, 0]] > 0
        shares.append(float(on.mean()))
    return min(shares)


def edge_support(quad: np.ndarray, near_edge: np.ndarray) -> float:
    """The least share, over the 4 sides, of points of a side lying on or near an edge."""
    h, w = near_edge.shape[:2]
    shares = []
    for i in range(4):
        a, b = quad[i], quad[(i + 1) % 4]
        t = np.linspace(0.05, 0.95, 40)[:, None]
        pts = np.rint(a + t * (b - a)).astype(int)
        inside = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
        on = np.zeros(len(pts), bool)
        on[inside] = near_edge[pts[inside, 1], pts[inside, 0]] > 0
        shares.append(float(on.mean()))
    return min(shares)


def paper_outline(image: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """The 4 corners (tl, tr, br, bl) of the outline of a sheet or card photographed on a darker
    background (see `find_paper`), or None; and whether that outline was cut from a bright region
    merged with something else (a paper under the sheet), when the cut may have gone wrong.

    The sheet is the largest bright region. Other papers or a sticky note under it are as bright
    and merge with it: then the region no longer fills its convex hull, and it is cut along the
    edges of the picture (the sheet's border against a paper under it is a step of brightness and
    a shadow), and the largest piece is the sheet, when it has a whole sheet's proportions (else a
    rule or a row of photos cut the sheet itself, and the merged region is kept as before). A
    quadrilateral round the merged region would flatten the background with the sheet, and its
    skew be measured on the papers underneath. On a light table whose bright class reaches the
    picture's border, the sheet is the brighter part of that class when it is one convex piece.
    The border is checked first on the full image's strips and a sparse sample of its centre: a
    scan costs no more than that."""
    h0, w0 = image.shape[:2]
    depth = max(4, int(round(4 * max(h0, w0) / 800)))
    if scan_margins(image, depth):
        return None, False  # white margins all round: a scan, not a photo
    small, scale = _reduced(gray(image), 800)
    h, w = small.shape
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    bright = _bright(blur)
    if _border_share(bright) > BRIGHT_BORDER:
        # a light table, and something darker on it (a keyboard): the table is of the bright
        # class; the paper is the brightest of what is bright, when that is one convex piece
        # (not the lit half of the table, nor two cards side by side)
        brighter = _bright(blur, bright)
        if _border_share(brighter) < BRIGHT_BORDER:
            if _one_convex_piece(brighter):
                bright = brighter
            else:
                # the sheet and a paper under it, both whiter than the desk: cut apart as below
                sheet = _sheet_cut_from(blur, brighter, w * h)
                if sheet is not None:
                    return sheet / scale, True
    c = _largest_outline(bright)
    if c is None:
        return None, False
    area = cv2.contourArea(c)
    if area < 0.15 * w * h or area > 0.97 * w * h:
        return None, False
    merged = area < HULL_FILL * cv2.contourArea(cv2.convexHull(c))
    if merged:
        sheet = _sheet_cut_from(blur, bright, w * h)
        if sheet is not None:
            return sheet / scale, True
    quad = _hull_quad(cv2.convexHull(c))
    if quad is None:
        x, y, bw, bh = cv2.boundingRect(c)
        quad = np.float32([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]])
    return _ordered(quad) / scale, merged


def _sheet_cut_from(blur: np.ndarray, region: np.ndarray, picture_area: float) -> np.ndarray | None:
    """The ordered corners (in `blur`'s pixels) of the sheet cut from a bright region merged with
    papers under it, when the largest piece left has a whole sheet's size and proportions."""
    alone = _largest_outline(_cut_along_edges(blur, region))
    if alone is None or cv2.contourArea(alone) < 0.15 * picture_area:
        return None
    quad = _hull_quad(cv2.convexHull(alone))
    if quad is None or not _sheet_proportions(quad):
        return None
    return _ordered(quad)


def _bright(blur: np.ndarray, within: np.ndarray | None = None) -> np.ndarray:
    """The brighter class of the picture's pixels (of those in `within` only, when given) by
    Otsu's threshold, its print closed over."""
    if within is None:
        _, bright = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    else:
        values = blur[within > 0].reshape(-1, 1)
        t, _ = cv2.threshold(values, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        _, bright = cv2.threshold(blur, t, 255, cv2.THRESH_BINARY)
        bright = cv2.bitwise_and(bright, within)
    return cv2.morphologyEx(bright, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (15, 15)))


def _one_convex_piece(mask: np.ndarray) -> bool:
    """The mask is one region filling its convex hull (HULL_FILL), anything else in it small."""
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return False
    areas = sorted((cv2.contourArea(c) for c in contours), reverse=True)
    largest = max(contours, key=cv2.contourArea)
    if len(areas) > 1 and areas[1] > 0.2 * areas[0]:
        return False
    return areas[0] >= HULL_FILL * cv2.contourArea(cv2.convexHull(largest))


def _border_share(mask: np.ndarray) -> float:
    """The share of the picture's outer rows and columns a mask covers."""
    edge = np.concatenate([mask[0], mask[-1], mask[:, 0], mask[:, -1]])
    return float(np.count_nonzero(edge)) / edge.size


def _largest_outline(mask: np.ndarray) -> np.ndarray | None:
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    return max(contours, key=cv2.contourArea) if contours else None


def _cut_along_edges(blur: np.ndarray, bright: np.ndarray) -> np.ndarray:
    """The sheet alone in a bright region merged with papers under it: the region with every edge
    of the picture taken out of it (the sheet's border on a paper is a step of brightness and a
    shadow; the print inside the sheet only makes holes in it), thinned so that pieces touching
    through a gap of the edges part, and its largest piece grown back."""
    edges = cv2.dilate(cv2.Canny(blur, 15, 40), np.ones((3, 3), np.uint8))
    thin = np.ones((CUT_THINNING, CUT_THINNING), np.uint8)
    cut = cv2.erode(cv2.bitwise_and(bright, cv2.bitwise_not(edges)), thin)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(cut, connectivity=4)
    if n <= 1:
        return cut
    k = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    return cv2.dilate((labels == k).astype(np.uint8) * 255, np.ones((CUT_THINNING + 2, CUT_THINNING + 2), np.uint8))


def _sheet_proportions(quad: np.ndarray) -> bool:
    """Proportions of a whole sheet (A4, letter, a photo print: long over short side 1.25 to 1.6,
    with room for foreshortening), not of a piece of one that a rule or a row of photos cut off."""
    a, b = _quad_sides(_ordered(quad))
    ratio = max(a, b) / max(1.0, min(a, b))
    return SHEET_RATIOS[0] <= ratio <= SHEET_RATIOS[1]


def _hull_quad(hull: np.ndarray) -> np.ndarray | None:
    """The hull simplified to 4 corners, or None when no tolerance gives 4."""
    for eps in (0.02, 0.03, 0.05, 0.08):
        approx = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
        if len(approx) == 4:
            return approx.reshape(4, 2).astype(np.float32)
    return None


def flatten(image: np.ndarray, corners: np.ndarray) -> np.ndarray:
    """The quadrilateral `corners` warped to a rectangle of its own size."""
    tl, tr, br, bl = corners
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    dst = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    return cv2.warpPerspective(image, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


#: Brightness relative to the paper around it: at or above PAPER_RATIO is paper (white), at or
#: below PRINT_RATIO full ink (black), linear between.
PAPER_RATIO, PRINT_RATIO = 0.88, 0.30


def even_lighting(g: np.ndarray) -> np.ndarray:
    """A photographed sheet's paper made evenly white: each pixel divided by the paper's own
    brightness around it (the page with its print closed over, at an eighth of the size). A
    shadow or a lamp's gradient across a phone photo otherwise turns dark under tesseract's one
    global threshold, and the print on it is lost (the lower half of a medical opinion read no word)."""
    h, w = g.shape[:2]
    small = cv2.resize(g, (max(1, w // 8), max(1, h // 8)), interpolation=cv2.INTER_AREA)
    # 9 px here are 72 px on the page: wider than any stroke or line of text, so the closing
    # (a maximum, then a minimum) leaves the paper without its print.
    paper = cv2.morphologyEx(small, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 9)))
    paper = cv2.GaussianBlur(paper, (0, 0), 2)
    paper = cv2.resize(paper, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    ratio = g.astype(np.float32) / np.maximum(paper, 16.0)
    # Within a tenth of the paper's brightness is paper: the grain of a dim photo, once divided,
    # would otherwise cover the page with a mottle that tesseract takes for a picture.
    return (np.clip((ratio - PRINT_RATIO) / (PAPER_RATIO - PRINT_RATIO), 0, 1) * 255).astype(np.uint8)


#: Width over height of the documents that carry an MRZ: ID-1 cards (85.6 x 54 mm, 1.59), ID-2 cards
#: and passport data pages (105 x 74 and 125 x 88 mm, 1.42), with room for foreshortening.
CARD_RATIOS = (1.15, 2.0)


def _ordered(quad: np.ndarray) -> np.ndarray:
    """Corners as (tl, tr, br, bl) by the image axes."""
    s = quad.sum(axis=1)
    d = np.diff(quad, axis=1).ravel()
    return np.float32([quad[np.argmin(s)], quad[np.argmin(d)], quad[np.argmax(s)], quad[np.argmax(d)]])


def _quad_sides(quad: np.ndarray) -> tuple[float, float]:
    """Mean lengths of the two pairs of opposite sides."""
    a = (np.linalg.norm(quad[1] - quad[0]) + np.linalg.norm(quad[2] - quad[3])) / 2
    b = (np.linalg.norm(quad[3] - quad[0]) + np.linalg.norm(quad[2] - quad[1])) / 2
    return float(a), float(b)


def _card_like(quad: np.ndarray, area: float, image_area: float) -> float:
    """How much a convex quadrilateral looks like a card photographed from above (0: not at all):
    a card's share of the picture, proportions, and opposite sides of similar length (a tilt
    shortens the far side by a third at most)."""
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2).astype(np.int32)):
        return 0.0
    share = area / image_area
    if not 0.03 <= share <= 0.92:
        return 0.0
    a, b = _quad_sides(quad)
    ratio = max(a, b) / max(1.0, min(a, b))
    if not CARD_RATIOS[0] <= ratio <= CARD_RATIOS[1]:
        return 0.0
    sides = [np.linalg.norm(quad[(i + 1) % 4] - quad[i]) for i in range(4)]
    if min(sides[0], sides[2]) < 0.6 * max(sides[0], sides[2]) or min(sides[1], sides[3]) < 0.6 * max(sides[1], sides[3]):
        return 0.0
    return share


def find_card(image: np.ndarray, work_side: int = 900) -> np.ndarray | None:
    """The 4 corners (tl, tr, br, bl, in `image` pixels) of a card or passport page photographed on
    a table, or None when no card-shaped quadrilateral stands out. Cards lie on any background
    (darker or lighter, printed papers around them): the card's outline is looked for among the
    edges, and among the regions brighter than their surroundings, and the quadrilateral with a
    card's proportions covering the most of the picture is kept."""
    g = gray(image)
    small, scale = _reduced(g, work_side)
    h, w = small.shape
    blur = cv2.GaussianBlur(small, (5, 5), 0)
    masks = []
    edges = cv2.Canny(blur, 30, 90)
    masks.append(cv2.dilate(edges, np.ones((3, 3), np.uint8)))
    _, bright = cv2.threshold(blur, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    masks.append(cv2.morphologyEx(bright, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)))
    best, best_score = None, 0.0
    for mask in masks:
        contours, _ = cv2.findContours(mask, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
        for c in contours:
            if cv2.contourArea(c) < 0.02 * w * h and cv2.arcLength(c, True) < 0.5 * (w + h):
                continue
            hull = cv2.convexHull(c)
            area = cv2.contourArea(hull)
            if area < 0.03 * w * h:
                continue
            for eps in (0.02, 0.035, 0.05):
                approx = cv2.approxPolyDP(hull, eps * cv2.arcLength(hull, True), True)
                if len(approx) == 4:
                    quad = approx.reshape(4, 2).astype(np.float32)
                    # the outline must be the contour's own: a hull over scattered edges is not a card
                    if cv2.contourArea(c) < 0.5 * area and mask is not masks[0]:
                        break
                    score = _card_like(quad, cv2.contourArea(quad), w * h)
                    if score > best_score:
                        best, best_score = quad, score
                    break
    if best is None:
        return None
    return _ordered(best) / scale


def flatten_card(image: np.ndarray, corners: np.ndarray, long_side: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The card inside `corners` warped flat (its long side `long_side` px, by default its own),
    and the homography from `image` pixels to the flat card's."""
    tl, tr, br, bl = corners.astype(np.float32)
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    if long_side:
        f = long_side / max(width, height)
        width, height = width * f, height * f
    width, height = int(round(width)), int(round(height))
    dst = np.float32([[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]])
    m = cv2.getPerspectiveTransform(corners.astype(np.float32), dst)
    flat = cv2.warpPerspective(image, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return flat, m
