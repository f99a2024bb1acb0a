"""Region OCR of text pages: the part of the page that matters, upright, at a sensible scale.

Full-page tesseract on an A4 page costs seconds; most of what a reader needs (issuer, addressee
block, dates, title of a certificate) is in the top part of the page. `PageText` reads bands on
demand and remembers them, so a caller asks for the top first and for the rest only when unsure.
Orientation 0/180 (or 90/270) is decided from the first band's OCR confidence: an upside-down
band reads as garbage with low confidence, and is then read the other way up.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import cv2
import numpy as np

from intake.extractors.ocr import restore
from intake.extractors.ocr import words as ocr
from intake.extractors.ocr.orient import (deskew, even_lighting, find_paper, flatten, geometry, glyph_ink,
                                         rotate_quarter)
from intake.extractors.quality import gray

log = logging.getLogger(__name__)

#: Pages wider than this (pixels, portrait A4 at ~230 dpi and more) are reduced before OCR.
MAX_WIDTH = 1800
#: Mean word confidence above which a band is taken to be the right way up.
UPRIGHT_CONF = 70.0
TESS_CONFIG = "-c tessedit_do_invert=0"
#: Rows of dropped print read again on one page, at most (one line of tesseract each).
DROPPED_ROWS_LIMIT = 6
#: The layout block number given to the words of a dropped row read again (tesseract's are small).
DROPPED_ROW_BLOCK = 1000
#: Rows of dates found with no label read again alone on one page, at most.
DATE_ROWS_LIMIT = 3
#: What a table's rule beside a word of a row read alone is read as, glued to the word.
RULE_MARKS = "|!?¦[]{}"
#: Labels that say nothing of what their date is: their rows are read again like unlabelled ones.
BARE_LABELS = ("le", "du", "")


@dataclass
class Band:
    top: float
    bottom: float
    text: str
    conf: float
    words: int
    boxes: list = field(default_factory=list)  # ocr.Word with page coordinates (of PageText.image)
    psm: int = 3
    good: int = 0  # words read with confidence (80+, 3+ letters or digits): the orientation test


@dataclass
class PageText:
    """An upright gray page and the bands of it read so far."""

    image: np.ndarray
    rotation: int = 0
    skew: float = 0.0
    flattened: bool = False
    bands: list[Band] = field(default_factory=list)
    orientation_checked: bool = False
    #: The size factor from the page as rendered (after flattening) to `image`: boxes are divided by
    #: it to be given in the rendered page's pixels.
    scale: float = 1.0
    #: Read from one card found among other papers in a photo (the least sure reading: its key
    #: values count only when a second reading of their box agrees).
    from_card: bool = False
    #: Read from a restored image (deblurred or enlarged rough photo): as unsure as `from_card`.
    restored: bool = False

    @property
    def aspect(self) -> float:
        h, w = self.image.shape[:2]
        return max(h, w) / max(1, min(h, w))

    @property
    def card_shaped(self) -> bool:
        """ID-1 card (85.6 x 54 mm, 1.585) or passport page (125 x 88, 1.42), not A4 (1.414) when the
        image is large: a scan of an A4 page is A4-shaped and at least ~1200 px tall."""
        h, w = self.image.shape[:2]
        return 1.48 <= self.aspect <= 1.70 or (1.38 <= self.aspect <= 1.48 and max(h, w) < 1500 and w > h)

    @property
    def text(self) -> str:
        return "\n".join(b.text for b in sorted(self.bands, key=lambda b: b.top))

    @property
    def covered(self) -> float:
        spans = sorted((b.top, b.bottom) for b in self.bands)
        total, end = 0.0, 0.0
        for a, b in spans:
            if b > end:
                total += b - max(a, end)
                end = b
        return total

    def read(self, top: float = 0.0, bottom: float = 1.0, psm: int = 3) -> Band:
        """OCR of the horizontal band [top, bottom) (fractions of the height), checked upright once."""
        for b in self.bands:
            if b.top <= top and b.bottom >= bottom and b.psm == psm:
                return b
        band = self._ocr(top, bottom, psm)
        # Orientation is checked on the first band that has something printed in it (the top of
        # an upside-down short letter is its empty bottom).
        # A band with no word read with confidence that is not the end of the page (the photos
        # of an e-photo sheet) leaves the question to the next band.
        has_ink = band.words >= 3 or self._ink_in(top, bottom) > 0.0005
        defer = band.good < 3 and bottom < 0.999
        if not self.orientation_checked and has_ink and not defer:
            self.orientation_checked = True
            # A doubtful band (few confident words, or a low mean confidence: upside-down print
            # still gives a few confident-looking words) is compared with its mirror.
            if band.good < 3 or band.conf < UPRIGHT_CONF:
                # Upside down: the same stretch of paper is read the other way up and compared
                # by the words read with confidence. A quarter turn (lines down the page that the
                # line geometry missed, e.g. an e-photo sheet under its photos) is tried only when
                # neither way up reads anything, on the whole page.
                turned = PageText(rotate_quarter(self.image, 180))
                mirrored = turned._ocr(1.0 - bottom, 1.0 - top, psm)
                best_turn, best_band = 0, band
                if _reads_better(mirrored, band):
                    best_turn, best_band = 180, mirrored
                elif band.good < 3 and mirrored.good < 3:
                    for turn in (90, 270):
                        other = PageText(rotate_quarter(self.image, turn))._ocr(0.0, 1.0, psm)
                        if _reads_better(other, best_band):
                            best_turn, best_band = turn, other
                if best_turn:
                    self.image = rotate_quarter(self.image, best_turn)
                    self.rotation = (self.rotation + best_turn) % 360
                    self.bands = []  # read on the page the other way up: no longer where they were
                    band = best_band
                    top, bottom = band.top, band.bottom
        # Keep only new coverage: drop bands inside the new one.
        self.bands = [b for b in self.bands if not (b.top >= top and b.bottom <= bottom)] + [band]
        return band

    def read_rest(self, psm: int = 3) -> str:
        """Read every part of the page not read yet; the whole text afterwards."""
        for _ in range(4):
            gaps, end = [], 0.0
            for b in sorted(self.bands, key=lambda b: b.top):
                if b.top > end + 0.02:
                    gaps.append((end, b.top))
                end = max(end, b.bottom)
            if end < 0.98:
                gaps.append((end, 1.0))
            if not gaps:
                break
            rotation = self.rotation
            for top, bottom in gaps:
                self.read(top, bottom, psm)
                if self.rotation != rotation:
                    break  # turned: the gaps are to be found again on the turned page
            else:
                break
        return self.text

    def _ink_in(self, top: float, bottom: float) -> float:
        h = self.image.shape[0]
        part = self.image[int(top * h):int(bottom * h)]
        return float(np.count_nonzero(part < 128) / max(part.size, 1))

    def _ocr(self, top: float, bottom: float, psm: int) -> Band:
        h = self.image.shape[0]
        y0, y1 = int(top * h), int(bottom * h)
        # Overlap a little so a line cut by the band edge is read whole by one of the bands.
        if top > 0:
            y0 = max(0, y0 - int(0.01 * h))
        part = self.image[y0:y1]
        dy, dx, bottom_, right = inked_box(part)
        try:
            words = ocr.image_to_words(part[dy:bottom_, dx:right], lang="fra", psm=psm, config=TESS_CONFIG)
        except ocr.OcrTimeout:
            log.warning("OCR timeout on a band")
            words = []
        placed = [ocr.Word(w.text, w.conf, w.left + dx, w.top + y0 + dy, w.width, w.height, w.block, w.line)
                  for w in words]
        good = sum(1 for w in words if w.conf >= 80 and sum(c.isalnum() for c in w.text) >= 3)
        return Band(top, bottom, _words_to_text(words), _mean_conf(words), len(words), placed, psm, good)

    def words(self) -> list:
        return [w for b in sorted(self.bands, key=lambda b: b.top) for w in b.boxes]

    def read_dropped_rows(self, limit: int = DROPPED_ROWS_LIMIT) -> int:
        """Rows of print that no band's reading gave, read again alone, each as one line: the
        layout analysis of a band drops text now and then (the labels of a table's cells, a
        column beside a photo), and a value read without its label has no role. Each row is read
        from its dropped print to the page's right edge, after the words already read on its
        left, and kept as a band of its own (`Band.psm` 7). The number of rows read."""
        h, w = self.image.shape[:2]
        done: list[tuple[int, int, int]] = []  # (top, bottom, left) of the rows read: to the right edge
        read = 0
        for i, (left, top, bottom, line_h) in enumerate(dropped_rows(self.image, self.words())[:limit]):
            if any(t <= (top + bottom) / 2 <= b and x <= left for t, b, x in done):
                continue  # part of a row already read
            pad = max(3, line_h // 3)
            y0, y1, x0 = max(0, top - pad), min(h, bottom + pad), max(0, left - line_h)
            done.append((y0, y1, x0))
            new = self._row_words(y0, y1, x0, w)
            if not new:
                continue
            before: list = []
            for x in self.words():  # the words already read on the row's left, each once
                if top <= x.top + x.height / 2 <= bottom and x.left + x.width <= left \
                        and not any(_same_box(x, k) for k in [*new, *before]):
                    before.append(x)
            self._add_row(y0, y1, [*before, *new], DROPPED_ROW_BLOCK + i, _mean_conf(new))
            read += 1
        return read

    def read_unlabelled_date_rows(self, limit: int = DATE_ROWS_LIMIT) -> int:
        """The printed rows of the dates found with no label (or a bare "le"), read again alone,
        each as one line from the page's left edge to the date: a label beside a table's rule may
        be misread in the band ("l'Étoile" for "Émise le") and read right alone. Kept as dropped
        rows are (bands of psm 7); the number of rows read."""
        from intake.extractors.dates import find_dates
        from intake.extractors.evidence import words_in_span

        spans = self.word_spans()
        h, w = self.image.shape[:2]
        rows: list[tuple[int, int, int]] = []
        for found in find_dates(self.text):
            boxes = words_in_span(spans, found.start, found.end)
            if not boxes or not (found.role == "other" or found.label in BARE_LABELS):
                continue
            top, bottom = min(x.top for x in boxes), max(x.top + x.height for x in boxes)
            right = max(x.left + x.width for x in boxes)
            if not any(abs((top + bottom) / 2 - (t + b) / 2) < (b - t) / 2 for t, b, _ in rows):
                rows.append((top, bottom, right))
        read = 0
        for i, (top, bottom, right) in enumerate(rows[:limit]):
            pad = max(3, (bottom - top) // 3)
            y0, y1 = max(0, top - pad), min(h, bottom + pad)
            words = self._row_words(y0, y1, 0, min(w, right + 2 * pad))
            if words:
                self._add_row(y0, y1, words, DROPPED_ROW_BLOCK + DROPPED_ROWS_LIMIT + i, _mean_conf(words))
                read += 1
        return read

    def _row_words(self, y0: int, y1: int, x0: int, x1: int) -> list:
        """The words of `image[y0:y1, x0:x1]` read as one line, in `image` pixels; a rule beside a
        word reads as a mark glued to it ("le?", "|20"): marks taken off, marks alone dropped."""
        try:
            read = ocr.image_to_words(self.image[y0:y1, x0:x1], lang="fra", psm=7, config=TESS_CONFIG)
        except ocr.OcrTimeout:
            return []
        return [ocr.Word(r.text.strip(RULE_MARKS), r.conf, r.left + x0, r.top + y0, r.width, r.height, 0, 0)
                for r in read if any(c.isalnum() for c in r.text)]

    def _add_row(self, y0: int, y1: int, words: list, block: int, conf: float) -> None:
        """`words` kept as one printed line, left to right, in a band of their own (psm 7)."""
        h = self.image.shape[0]
        boxes = [ocr.Word(x.text, x.conf, x.left, x.top, x.width, x.height, block, 1)
                 for x in sorted(words, key=lambda x: x.left)]
        self.bands.append(Band(y0 / h, y1 / h, " ".join(x.text for x in boxes), conf, len(boxes), boxes, psm=7))

    def forget_dropped_rows(self) -> None:
        """The rows `read_dropped_rows` and `read_unlabelled_date_rows` added, taken out again (their
        reading was not kept)."""
        self.bands = [b for b in self.bands if not (b.psm == 7 and b.boxes and b.boxes[0].block >= DROPPED_ROW_BLOCK)]

    def word_spans(self) -> list[tuple[int, int, object]]:
        """(start, end, word) of every word in `self.text`, so a match in the text (a date found by
        its label) can be traced back to the words, and their boxes, that printed it."""
        spans: list[tuple[int, int, object]] = []
        offset = 0
        for i, band in enumerate(sorted(self.bands, key=lambda b: b.top)):
            if i:
                offset += 1  # the newline between bands
            key = None
            for w in band.boxes:
                k = (w.block, w.line)
                if key is not None:
                    offset += 1  # a space between words, a newline between lines: one character
                key = k
                spans.append((offset, offset + len(w.text), w))
                offset += len(w.text)
        return spans

    def frame(self) -> dict:
        """The upright page the boxes are given in: its size in rendered pixels and the quarter turn."""
        h, w = self.image.shape[:2]
        return {"width": int(round(w / self.scale)), "height": int(round(h / self.scale)),
                "rotation": int(self.rotation), "flattened": bool(self.flattened)}

    def reread_box(self, box: list[int] | None, *, psm: int = 7, lang: str = "fra") -> tuple[str, float]:
        """A value's box (in `image` pixels) read again alone, as one line: the second reading that
        makes a value confident enough to refuse a dossier on. (text, mean word confidence 0..1)."""
        if not box:
            return "", 0.0
        x, y, w, h = box
        crop = self.line_crop(x, y, x + w, y + h)
        if crop.size == 0:
            return "", 0.0
        try:
            words = ocr.image_to_words(crop, lang=lang, psm=psm, config=TESS_CONFIG)
        except ocr.OcrTimeout:
            return "", 0.0
        confs = [max(0.0, float(w.conf)) for w in words if w.text.strip()]
        return " ".join(w.text for w in words), (sum(confs) / len(confs) / 100.0 if confs else 0.0)

    def line_text(self) -> str:
        """The words put back in printed lines by their position alone, left to right.

        Tesseract's page layout may cut one printed line into two blocks when it sees columns
        ("atteste que Mme DUPONT-MARTIN Claire" read as "... DUPONT-MART" then, further down,
        "IN Claire"); a single-column certificate reads right when lines come from geometry."""
        return geometric_lines(self.words())

    def line_crop(self, left: int, top: int, right: int, bottom: int) -> np.ndarray:
        """A printed line with a margin of white around it."""
        h, w = self.image.shape[:2]
        pad = max(4, (bottom - top) // 2)
        return self.image[max(0, top - pad):min(h, bottom + pad), max(0, left - 2 * pad):min(w, right + 2 * pad)]



def read_line(line: np.ndarray, whitelist: str, lang: str = "fra") -> str:
    """One printed line read alone by tesseract as one line, restricted to `whitelist` ("" when
    empty or timed out). By default with the French engine the pages are read with (another
    language's engine costs its loading, 0.07 to 0.17 s a process); another model (`lang`) when
    the reading must be made otherwise than the page's, to confirm it."""
    if line.size == 0:
        return ""
    try:
        return ocr.image_to_text(line, lang=lang, psm=7, config=f"-c tessedit_char_whitelist={whitelist}").strip()
    except ocr.OcrTimeout:
        return ""


#: White kept around the printed part of a band (pixels), so no glyph touches the crop's edge.
INK_MARGIN = 24


def inked_box(part: np.ndarray) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the printed part of a band, with a margin: tesseract's time
    grows with the pixels it is given, and an A4 band is mostly white margins and blank lines
    (a third less time on the fixture certificates). Ink is anything clearly darker than the
    paper, so light-gray print is kept; isolated specks are not ink."""
    h, w = part.shape[:2]
    if h == 0 or w == 0:
        return 0, 0, h, w
    paper = float(np.percentile(part, 90))
    ink = part < paper - 50
    rows = np.flatnonzero(np.count_nonzero(ink, axis=1) >= 2)
    cols = np.flatnonzero(np.count_nonzero(ink, axis=0) >= 2)
    if rows.size == 0 or cols.size == 0:
        return 0, 0, h, w
    return (max(0, int(rows[0]) - INK_MARGIN), max(0, int(cols[0]) - INK_MARGIN),
            min(h, int(rows[-1]) + 1 + INK_MARGIN), min(w, int(cols[-1]) + 1 + INK_MARGIN))


def _reads_better(other: Band, current: Band) -> bool:
    """The same print read another way up is clearly the right way: more words read with
    confidence, or, where the words are too short to count (the categories table on the back of a
    licence: AM, A1, B, dates), as many words read with a far higher mean confidence."""
    if other.good >= 3 and other.good > 1.5 * current.good + 1:
        return True
    return other.words >= 5 and other.conf >= 80 and other.conf >= current.conf + 20


def dropped_rows(image: np.ndarray, words: list) -> list[tuple[int, int, int, int]]:
    """Rows of glyphs that none of `words` covers, widest first: (left, top, bottom, line height)
    in `image` pixels. A row is three glyphs or more of about the height of the words read, close
    enough to one another to be words of one line; specks, rules, frames and photos are no row."""
    read = [x for x in words if x.text.strip() and x.height > 0]
    if len(read) < 5:
        return []
    line_h = int(np.median([x.height for x in read]))
    if line_h < 6:
        return []
    ink = glyph_ink(image)
    for x in read:  # print already read
        ink[max(0, x.top - 3):x.top + x.height + 3, max(0, x.left - 3):x.left + x.width + 3] = 0
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(ink, connectivity=8)
    if n <= 1:
        return []
    heights = stats[:, cv2.CC_STAT_HEIGHT]
    glyphs = (heights >= 0.35 * line_h) & (heights <= 1.6 * line_h) & (stats[:, cv2.CC_STAT_AREA] >= 0.04 * line_h ** 2)
    glyphs[0] = False
    if glyphs.sum() < 3:
        return []
    mask = np.where(glyphs[labels], 255, 0).astype(np.uint8)
    joined = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_RECT, (max(3, line_h), max(1, line_h // 4))))
    _, _, groups, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
    centres = centroids[glyphs]
    rows = []
    for x, y, w, h, _area in groups[1:]:
        if not 0.6 * line_h <= h <= 2.2 * line_h or w < 2.5 * line_h:
            continue
        inside = np.count_nonzero((centres[:, 0] >= x) & (centres[:, 0] < x + w) &
                                  (centres[:, 1] >= y) & (centres[:, 1] < y + h))
        if inside >= 3:
            rows.append((w, (int(x), int(y), int(y + h), line_h)))
    rows.sort(key=lambda r: -r[0])
    return [r for _, r in rows]


def geometric_lines(words) -> str:
    """Words grouped into lines by vertical overlap, each line left to right, lines top down.
    A word read twice (on the overlap of two bands) is kept once."""
    lines: list[list] = []  # [sum of the words' centres, first word's height, words]
    kept: list = []
    for w in words:
        if not any(_same_box(w, k) for k in kept):
            kept.append(w)
    # A word joins the line whose mean centre is within half a glyph of its own (a glyph: the
    # line's first word's height, or the word's own when smaller than the page's usual height): a
    # tall word (a logo, a title) beside several rows of small print joins one of them, not all of
    # them into one line; a colon or a dash stays on its line.
    usual = float(np.median([w.height for w in kept])) if kept else 0.0
    for w in sorted(kept, key=lambda w: (w.top + w.height / 2, w.left)):
        centre = w.top + w.height / 2
        if lines:
            line = lines[-1]
            mean = line[0] / len(line[2])
            if abs(centre - mean) <= 0.5 * max(line[1], min(w.height, usual)):
                line[2].append(w)
                line[0] += centre
                continue
        lines.append([centre, w.height, [w]])
    return "\n".join(_join_line(sorted(ws, key=lambda w: w.left)) for _, _, ws in lines)


def _same_box(a, b) -> bool:
    """Two readings of the same printed word: their boxes overlap by more than half."""
    w = min(a.left + a.width, b.left + b.width) - max(a.left, b.left)
    h = min(a.top + a.height, b.top + b.height) - max(a.top, b.top)
    return w > 0 and h > 0 and w * h > 0.5 * min(a.width * a.height, b.width * b.height)


def _join_line(words) -> str:
    """A line's words with a space between them, but none where a word of one layout block is
    followed closely by a word of another: one word that the layout analysis cut in two between
    its columns ("CHEVALI" + "ER"). Within a block, tesseract's own word spacing is kept."""
    out = ""
    for prev, w in zip([None, *words], words):
        cut = prev is not None and prev.block != w.block and \
            w.left - (prev.left + prev.width) < 0.5 * max(prev.height, w.height)
        out += ("" if prev is None or cut else " ") + w.text
    return out


def _mean_conf(words) -> float:
    confs = [w.conf for w in words if w.conf >= 0 and len(w.text.strip()) > 1]
    return float(np.mean(confs)) if confs else 0.0


def _words_to_text(words) -> str:
    """Words back into lines (tesseract block/line numbers), reading order kept."""
    lines: list[str] = []
    key = None
    current: list[str] = []
    for w in words:
        k = (w.block, w.line)
        if key is not None and k != key:
            lines.append(" ".join(current))
            current = []
        key = k
        current.append(w.text)
    if current:
        lines.append(" ".join(current))
    return "\n".join(lines)


def prepare(image: np.ndarray) -> PageText:
    """A phone photo flattened to its sheet, the page levelled and turned a quarter if its lines
    run vertically, reduced to a width tesseract reads fast. No OCR yet."""
    flattened = False
    corners = find_paper(image)
    if corners is not None:
        image = flatten(image, corners)
        flattened = True
    g = gray(image)
    if flattened:
        g = even_lighting(g)
    vertical, skew, _ = geometry(g)
    g = deskew(g, skew)
    rotation = 0
    if vertical:
        g = rotate_quarter(g, 90)
        rotation = 90
    h, w = g.shape
    f = 1.0
    if w > MAX_WIDTH and h > w:
        f = MAX_WIDTH / w
        g = cv2.resize(g, (MAX_WIDTH, int(h * f)), interpolation=cv2.INTER_AREA)
    elif max(h, w) < 1000:
        # small card images: enlarge so the small print reaches tesseract's preferred size
        f = 1000 / max(h, w)
        g = cv2.resize(g, (int(w * f), int(h * f)), interpolation=cv2.INTER_CUBIC)
    return PageText(g, rotation=rotation, skew=skew, flattened=flattened, scale=f)


#: Classification confidence under which a restored page is read whole before deciding.
RESTORED_SURE = 0.8


def read_restored(g: np.ndarray, first: PageText, classify) -> tuple[PageText, object] | None:
    """A rough phone photo that read as nothing, read again restored (issue 16): first the photo
    with its motion blur undone, then the sheet enlarged. `classify(text, card_shaped)` gives the
    kind; the first restored reading that gives one is returned (page text marked `restored`, and
    the classification), None when none does."""
    for pt in _restored_pages(g, first):
        if pt.card_shaped:
            pt.read(0.0, 1.0, psm=11)
        else:
            pt.read(0.0, 0.42)
        result = classify(pt.text, pt.card_shaped)
        if (result.kind == "unknown" or result.confidence < RESTORED_SURE) and not pt.card_shaped:
            pt.read_rest()
            result = classify(pt.text, pt.card_shaped)
        if result.kind != "unknown":
            return pt, result
    return None


def _restored_pages(g: np.ndarray, first: PageText):
    """The restored versions of a page, cheapest to compute and likeliest to help first."""
    sharp = restore.deblurred(g)
    deblurred = None
    if sharp is not None:
        deblurred = prepare(sharp)
        deblurred.restored = True
        yield deblurred
    for base in (first, deblurred):
        if base is None:
            continue
        big = restore.enlarged(base.image)
        if big is not None:
            # the sheet enlarged (the first reading's, then the deblurred one's): small print grown
            zoom = big.shape[0] / base.image.shape[0]
            yield PageText(big, rotation=base.rotation, skew=base.skew, flattened=base.flattened,
                           scale=base.scale * zoom, from_card=base.from_card, restored=True)
