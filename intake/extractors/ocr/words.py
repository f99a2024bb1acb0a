"""OCR for the readers: words with boxes, plain text, orientation, in the shapes they use.

The calls go to `intake.tools.tesseract`: an engine kept loaded per thread (libtesseract), the
`tesseract` program as fallback. Every call has a timeout (settings.ocr_timeout, shorter than any
actor's time limit). Word confidences are truncated to whole numbers, as the pytesseract TSV parsing
used before gave them, so thresholds measured then still hold.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import numpy as np
from PIL import Image

from intake.tools import tesseract as _tess
from intake.tools.tesseract import OcrTimeout, TesseractError

__all__ = ["OcrTimeout", "TesseractError", "Word", "image_to_text", "image_to_words", "orientation",
           "parse_config"]


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


def parse_config(config: str) -> dict[str, str]:
    """`-c name=value` pairs of a tesseract command-line config, as a dict."""
    variables: dict[str, str] = {}
    parts = shlex.split(config)
    i = 0
    while i < len(parts):
        part = parts[i]
        if part == "-c" and i + 1 < len(parts):
            name, _, value = parts[i + 1].partition("=")
            variables[name] = value
            i += 2
            continue
        if part.startswith("-c") and "=" in part:
            name, _, value = part[2:].partition("=")
            variables[name] = value
        else:
            raise ValueError(f"option tesseract non prise en charge : {part}")
        i += 1
    return variables


def image_to_text(
    image: np.ndarray | Image.Image,
    lang: str = "fra",
    psm: int = 3,
    config: str = "",
    timeout: float | None = None,
) -> str:
    """Plain text of an image."""
    return _tess.read(image, lang, psm, parse_config(config), _timeout(timeout), "text")


def parse_tsv(tsv: str) -> list[Word]:
    """Words of tesseract's TSV rows (no header): level page block par line word left top width
    height conf text; rows without text are layout, not words."""
    words = []
    for row in tsv.strip("\n").split("\n"):
        cells = row.split("\t")
        if len(cells) < 12:
            continue
        text = cells[11]
        if not text or not text.strip():
            continue
        words.append(Word(
            text=text,
            conf=float(int(float(cells[10]))),
            left=int(cells[6]),
            top=int(cells[7]),
            width=int(cells[8]),
            height=int(cells[9]),
            block=int(cells[2]),
            line=int(cells[4]),
        ))
    return words


def image_to_words(
    image: np.ndarray | Image.Image,
    lang: str = "fra",
    psm: int = 3,
    config: str = "",
    timeout: float | None = None,
) -> list[Word]:
    """Words with their confidence and box (tesseract TSV output)."""
    return parse_tsv(_tess.read(image, lang, psm, parse_config(config), _timeout(timeout), "tsv"))


def orientation(image: np.ndarray | Image.Image, timeout: float | None = None) -> tuple[int, float]:
    """Tesseract OSD: (degrees to rotate clockwise to make the text upright, confidence)."""
    return _tess.orientation(image, _timeout(timeout))
