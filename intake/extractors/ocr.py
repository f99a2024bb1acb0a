"""The one wrapper around the tesseract program.

Every call has a timeout (settings.ocr_timeout, shorter than any actor's time limit) and runs with
OMP_THREAD_LIMIT=1: parallelism comes from running several pages and pieces at once, not from
tesseract's own threads, which only fight each other on a small machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pytesseract
from PIL import Image

os.environ.setdefault("OMP_THREAD_LIMIT", "1")


class OcrTimeout(RuntimeError):
    """Tesseract did not answer within its timeout."""


@dataclass(frozen=True)
class Word:
    text: str
    conf: float
    left: int
    top: int
    width: int
    height: int
    block: int
    line: int


def _timeout(timeout: float | None) -> float:
    if timeout is not None:
        return timeout
    from intake.settings import get_settings

    return get_settings().ocr_timeout


def _pil(image: np.ndarray | Image.Image) -> Image.Image:
    if not isinstance(image, Image.Image):
        image = Image.fromarray(image[:, :, ::-1] if image.ndim == 3 else image)  # OpenCV BGR to RGB
    if image.mode in ("L", "RGB") and image.format is None:
        # pytesseract hands tesseract a temporary file in the image's format, PNG by default:
        # uncompressed PNM is written and read in a fraction of the time of PNG's deflate.
        image.format = "PPM"
    return image


def _run(fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except RuntimeError as exc:
        if "timeout" in str(exc).lower():
            raise OcrTimeout(str(exc)) from None
        raise


def image_to_text(
    image: np.ndarray | Image.Image,
    lang: str = "fra",
    psm: int = 3,
    config: str = "",
    timeout: float | None = None,
) -> str:
    """Plain text of an image."""
    return _run(
        pytesseract.image_to_string,
        _pil(image),
        lang=lang,
        config=f"--psm {psm} {config}".strip(),
        timeout=_timeout(timeout),
    )


def image_to_words(
    image: np.ndarray | Image.Image,
    lang: str = "fra",
    psm: int = 3,
    config: str = "",
    timeout: float | None = None,
) -> list[Word]:
    """Words with their confidence and box (tesseract TSV output)."""
    data = _run(
        pytesseract.image_to_data,
        _pil(image),
        lang=lang,
        config=f"--psm {psm} {config}".strip(),
        timeout=_timeout(timeout),
        output_type=pytesseract.Output.DICT,
    )
    words = []
    for i, text in enumerate(data["text"]):
        if not text or not text.strip():
            continue
        words.append(
            Word(
                text=text,
                conf=float(data["conf"][i]),
                left=int(data["left"][i]),
                top=int(data["top"][i]),
                width=int(data["width"][i]),
                height=int(data["height"][i]),
                block=int(data["block_num"][i]),
                line=int(data["line_num"][i]),
            )
        )
    return words


def orientation(image: np.ndarray | Image.Image, timeout: float | None = None) -> tuple[int, float]:
    """Tesseract OSD: (degrees to rotate clockwise to make the text upright, confidence)."""
    osd = _run(
        pytesseract.image_to_osd,
        _pil(image),
        config="--psm 0",
        timeout=_timeout(timeout),
        output_type=pytesseract.Output.DICT,
    )
    return int(osd.get("rotate", 0)), float(osd.get("orientation_conf", 0.0))
