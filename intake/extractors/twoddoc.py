"""2D-Doc: find the DataMatrix codes on a page, parse them, check their signatures.

The parser (`twoddoc_parse`) and the signature check (`twoddoc_verify`) live in their own modules;
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

from intake.extractors.twoddoc_parse import (
    ADDRESS_TYPES,
    TwoDDoc,
    TwoDDocError,
    contradictions,
    parse_2ddoc,
)
from intake.extractors.twoddoc_verify import TrustStore, verify_2ddoc
from intake.settings import get_settings

__all__ = [
    "ADDRESS_TYPES",
    "TrustStore",
    "TwoDDoc",
    "TwoDDocError",
    "contradictions",
    "decode_datamatrix_texts",
    "parse_2ddoc",
    "read_2ddocs",
    "verify_2ddoc",
]

log = logging.getLogger(__name__)

_FORMAT = zxingcpp.BarcodeFormat.DataMatrix
#: Pages larger than this (longest side, px) are first read downscaled by zxing itself; the
#: fallbacks below work on a copy no larger than this.
_FALLBACK_MAX_SIDE = 2400


def _gray(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        gray = image
    elif image.shape[2] == 4:
        gray = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if gray.dtype != np.uint8:
        gray = cv2.normalize(gray, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    return np.ascontiguousarray(gray)


def _texts(gray: np.ndarray, **options) -> list[str]:
    try:
        results = zxingcpp.read_barcodes(gray, formats=_FORMAT, **options)
    except Exception:  # a decoder failure on odd input is a miss, not a crash
        log.debug("zxing failed on an image of shape %s", gray.shape, exc_info=True)
        return []
    # `.bytes` keeps GS/US/RS as the control characters; `.text` renders them as "<GS>".
    return [bytes(r.bytes).decode("latin-1") for r in results if r.valid]


def _fit(gray: np.ndarray, max_side: int) -> np.ndarray:
    side = max(gray.shape[:2])
    if side <= max_side:
        return gray
    scale = max_side / side
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


def _attempts(gray: np.ndarray):
    """Ways to read a page, cheapest first; the caller stops at the first that finds a 2D-Doc."""
    yield "plain", lambda: _texts(gray)
    small = _fit(gray, _FALLBACK_MAX_SIDE)
    yield "global-threshold", lambda: _texts(small, binarizer=zxingcpp.Binarizer.GlobalHistogram)

    def otsu():
        blurred = cv2.GaussianBlur(small, (3, 3), 0)
        _, binary = cv2.threshold(blurred, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        return _texts(binary, binarizer=zxingcpp.Binarizer.BoolCast)

    yield "otsu", otsu

    def sharpened():
        blurred = cv2.GaussianBlur(small, (0, 0), 2.0)
        sharp = cv2.addWeighted(small, 1.8, blurred, -0.8, 0)
        return _texts(sharp)

    yield "sharpen", sharpened

    if max(gray.shape[:2]) < 1600:  # small photo or low-dpi scan: modules may be 2-3 px
        def upscaled():
            big = cv2.resize(gray, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            return _texts(big)

        yield "upscale", upscaled


def decode_datamatrix_texts(image: np.ndarray) -> list[str]:
    """Texts of the DataMatrix codes that look like 2D-Docs (start with `DC`), in reading
    order, duplicates removed. Retries with other binarisations only when nothing is found."""
    gray = _gray(image)
    for name, attempt in _attempts(gray):
        texts = [t for t in attempt() if t.startswith("DC")]
        if texts:
            if name != "plain":
                log.debug("2D-Doc found by the %s attempt", name)
            return list(dict.fromkeys(texts))
    return []


def read_2ddocs(image: np.ndarray, certs_dir: Path | None = None) -> list[TwoDDoc]:
    """Find, decode, parse and verify the 2D-Docs of a page (any rotation; scans and photos).

    DataMatrix codes that are not 2D-Docs, or that do not parse, are skipped. Each returned
    document has `signature_valid` set (None: no certificate for its authority)."""
    started = time.perf_counter()
    certs = certs_dir if certs_dir is not None else get_settings().certs_dir
    docs: list[TwoDDoc] = []
    for text in decode_datamatrix_texts(image):
        try:
            doc = parse_2ddoc(text)
        except TwoDDocError as exc:
            log.info("DataMatrix skipped: %s", exc)
            continue
        doc.signature_valid = verify_2ddoc(doc, certs)
        docs.append(doc)
    log.debug("read %d 2D-Doc(s) in %.3f s", len(docs), time.perf_counter() - started)
    return docs
