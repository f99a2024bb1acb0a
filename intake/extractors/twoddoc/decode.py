"""2D-Doc: find the DataMatrix codes on a page, parse them, check their signatures.

The parser (`parse`) and the signature check (`verify`) live in their own modules;
this one holds the image side and is the entry point for the page reader:

    docs = read_2ddocs(page_bgr_or_gray)        # parsed and verified, non-2D-Doc codes skipped
    piece_fields["two_d_doc"] = docs[0].to_contract()
    contradictions(docs[0], ocr_fields)          # ["postcode", ...] where the print disagrees
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import cv2
import numpy as np
import zxingcpp

from intake.extractors.twoddoc.parse import (
    TwoDDoc,
    TwoDDocError,
    contradictions,
    parse_2ddoc,
)
from intake.settings import get_settings

__all__ = [
    "TwoDDoc",
    "TwoDDocError",
    "contradictions",
    "decode_datamatrix",
    "decode_datamatrix_texts",
    "find_code_regions",
    "parse_2ddoc",
    "read_2ddocs",
]

log = logging.getLogger(__name__)

_FORMAT = zxingcpp.BarcodeFormat.DataMatrix
#: Pages larger than this (longest side, px) are first read downscaled by zxing itself; the
#: fallbacks below work on a copy no larger than this.
_FALLBACK_MAX_SIDE = 2400
#: Crops are enlarged (x2, x3) only while the code stays under this side, in pixels.
_MAX_ENLARGED_SIDE = 900


def _gray(image) -> np.ndarray:
    if not isinstance(image, np.ndarray):  # a PIL image
        image = cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)
    if image.ndim == 2:
        gray = image
    elif image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if gray.dtype != np.uint8:
        gray = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return np.ascontiguousarray(gray)


#: A decoded code: its text and its box [x, y, w, h] in pixels of the image given (None if unknown).
Found = tuple[str, "list[int] | None"]


def _found(gray: np.ndarray, **options) -> list[Found]:
    # 2D-Docs are printed dark on light: skipping the inverted pass halves the time on photos.
    options.setdefault("try_invert", False)
    try:
        results = zxingcpp.read_barcodes(gray, formats=_FORMAT, **options)
    except Exception:  # a decoder failure on odd input is a miss, not a crash
        log.debug("zxing failed on an image of shape %s", gray.shape, exc_info=True)
        return []
    out = []
    for r in results:
        if not r.valid:
            continue
        # `.bytes` keeps GS/US/RS as the control characters; `.text` renders them as "<GS>".
        text = bytes(r.bytes).decode("latin-1")
        p = r.position
        xs = [p.top_left.x, p.top_right.x, p.bottom_right.x, p.bottom_left.x]
        ys = [p.top_left.y, p.top_right.y, p.bottom_right.y, p.bottom_left.y]
        out.append((text, [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]))
    return out


def _mapped(found: list[Found], dx: float, dy: float, scale: float) -> list[Found]:
    """Boxes found on a crop (offset dx, dy) resized by `scale`, in pixels of the image."""
    out = []
    for text, box in found:
        if box is not None:
            box = [int(round(box[0] / scale + dx)), int(round(box[1] / scale + dy)),
                   int(round(box[2] / scale)), int(round(box[3] / scale))]
        out.append((text, box))
    return out


def _fit(gray: np.ndarray, max_side: int) -> np.ndarray:
    side = max(gray.shape[:2])
    if side <= max_side:
        return gray
    scale = max_side / side
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def find_code_regions(gray: np.ndarray, *, work_side: int = 1000, limit: int = 4) -> list[tuple]:
    """Square, densely textured blobs that may be DataMatrix codes, largest first, as
    (centre x, centre y, width, height) in `gray` pixels. Cheap: works on a copy of at most
    `work_side` pixels; used only when zxing missed on the whole page."""
    scale = min(1.0, work_side / max(gray.shape[:2]))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    gradient = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    _, mask = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((7, 7), np.uint8))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in contours:
        (cx, cy), (w, h), _ = cv2.minAreaRect(contour)
        if min(w, h) < 12 or max(w, h) > 0.5 * max(small.shape[:2]):
            continue
        if max(w, h) / max(1.0, min(w, h)) > 1.4:  # DataMatrix of 2D-Docs are square
            continue
        if cv2.contourArea(contour) / max(1.0, w * h) < 0.7:
            continue
        found.append((w * h, (cx / scale, cy / scale, w / scale, h / scale)))
    found.sort(key=lambda item: -item[0])
    return [region for _, region in found[:limit]]


def _crop(gray: np.ndarray, region: tuple, margin: float = 1.5) -> tuple[np.ndarray, int, int]:
    cx, cy, w, h = region
    half = max(w, h) * margin / 2
    x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
    x1, y1 = int(min(gray.shape[1], cx + half)), int(min(gray.shape[0], cy + half))
    return gray[y0:y1, x0:x1], x0, y0


def _local_threshold(image: np.ndarray, code_side: float, offset: int) -> np.ndarray:
    """Binarise with a window of about two or three modules (blurred, unevenly lit photos)."""
    block = max(15, int(code_side / 16)) | 1
    return cv2.adaptiveThreshold(image, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY,
                                 block, offset)


def _crop_variants(crop: np.ndarray, code_side: float):
    """A crop read as is, enlarged, binarised locally and sharpened, cheapest first, each with
    the factor it was enlarged by. Enlarging matters: zxing samples modules of two pixels badly,
    and a far or shaky photo has them."""
    yield crop, 1.0
    # Enlarge only small codes: a code already hundreds of pixels wide gains nothing but time.
    if code_side * 2 <= _MAX_ENLARGED_SIDE:
        big = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
        yield big, 2.0
        big_lanczos = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_LANCZOS4)
        yield _local_threshold(big_lanczos, code_side * 2, 0), 2.0
        if code_side * 3 <= _MAX_ENLARGED_SIDE:
            bigger = cv2.resize(crop, None, fx=3, fy=3, interpolation=cv2.INTER_CUBIC)
            yield _local_threshold(bigger, code_side * 3, 0), 3.0
        yield _local_threshold(big, code_side * 2, 3), 2.0
        yield cv2.addWeighted(big, 2.5, cv2.GaussianBlur(big, (0, 0), 2.4), -1.5, 0), 2.0
    else:
        yield _local_threshold(crop, code_side, 0), 1.0
        yield _local_threshold(crop, code_side, 3), 1.0
    _, otsu = cv2.threshold(cv2.GaussianBlur(crop, (3, 3), 0), 0, 255,
                            cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    yield otsu, 1.0


#: An image whose long side is at most this is a crop (a code alone, a band), not a page: it is
#: also read inside a white margin, since a tight crop has lost the quiet zone zxing looks for.
_CROP_SIDE = 1200


def _quiet_zone(gray: np.ndarray) -> tuple[np.ndarray, int]:
    """The image inside a white margin of about a tenth of its side (and the margin)."""
    pad = max(8, int(0.12 * max(gray.shape[:2])))
    paper = int(np.percentile(gray, 95)) if gray.size else 255
    return cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=max(paper, 200)), pad


def _attempts(gray: np.ndarray):
    """Ways to read a page, cheapest first; the caller stops at the first that finds a 2D-Doc.
    Each attempt gives (text, box in `gray` pixels)."""
    yield "plain", lambda: _found(gray)

    if max(gray.shape[:2]) <= _CROP_SIDE:
        def crop_alone():
            padded, pad = _quiet_zone(gray)
            side = max(gray.shape[:2])
            for variant, factor in _crop_variants(padded, side):
                found = [f for f in _found(variant, try_invert=True) if f[0].startswith("DC")]
                if found:
                    return _mapped(found, -pad, -pad, factor)
            return []

        yield "crop-alone", crop_alone

    def regions():
        found: list[Found] = []
        for region in find_code_regions(gray):
            crop, x0, y0 = _crop(gray, region)
            if crop.size == 0:
                continue
            for variant, factor in _crop_variants(crop, max(region[2], region[3])):
                hits = [f for f in _found(variant) if f[0].startswith("DC")]
                if hits:
                    found += _mapped(hits, x0, y0, factor)
                    break
        return found

    yield "regions", regions
    small = _fit(gray, _FALLBACK_MAX_SIDE)
    factor = small.shape[1] / gray.shape[1]
    yield "global-threshold", lambda: _mapped(
        _found(small, binarizer=zxingcpp.Binarizer.GlobalHistogram, try_invert=True), 0, 0, factor)


def decode_datamatrix(image: np.ndarray) -> list[Found]:
    """The DataMatrix codes that look like 2D-Docs (start with `DC`), in reading order,
    duplicates removed, each with its box. Retries with other binarisations, and a crop inside a
    white margin, only when nothing is found."""
    gray = _gray(image)
    for name, attempt in _attempts(gray):
        found = [f for f in attempt() if f[0].startswith("DC")]
        if found:
            if name != "plain":
                log.debug("2D-Doc found by the %s attempt", name)
            first: dict[str, list[int] | None] = {}
            for text, box in found:
                first.setdefault(text, box)
            return list(first.items())
    return []


def decode_datamatrix_texts(image: np.ndarray) -> list[str]:
    """Texts of the DataMatrix codes that look like 2D-Docs (see `decode_datamatrix`)."""
    return [text for text, _box in decode_datamatrix(image)]


def read_2ddocs(image: np.ndarray, certs_dir: Path | None = None) -> list[TwoDDoc]:
    """Find, decode, parse and verify the 2D-Docs of a page (any rotation; scans and photos).

    DataMatrix codes that are not 2D-Docs, or that do not parse, are skipped. Each returned
    document has `signature_valid` set (None: no certificate for its authority)."""
    started = time.perf_counter()
    certs = certs_dir if certs_dir is not None else get_settings().certs_dir
    docs: list[TwoDDoc] = []
    for text, box in decode_datamatrix(image):
        try:
            doc = parse_2ddoc(text)
        except TwoDDocError as exc:
            log.info("DataMatrix skipped: %s", exc)
            continue
        # imported when a code is found: loading `cryptography` costs ~50 ms at every start
        from intake.extractors.twoddoc.verify import verify_2ddoc

        doc.signature_valid = verify_2ddoc(doc, certs)
        doc.box = box
        docs.append(doc)
    log.debug("read %d 2D-Doc(s) in %.3f s", len(docs), time.perf_counter() - started)
    return docs
