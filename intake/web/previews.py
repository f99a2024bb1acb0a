"""Page images of stored uploads, for the reviewer: rendered once per page and width, then cached.

Rendering goes through `intake.extractors.images.open_source`, the very code the pipeline reads
with, so the reviewer sees the page as it was read (EXIF orientation applied, PDF rasterised).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2

from intake.extractors.images import UnsupportedFile, open_source
from intake.settings import get_settings

WIDTHS = (800, 1600)


class PreviewError(Exception):
    """The page cannot be shown; `message` is French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def page_png(path: Path, sha256: str, page: int, width: int = 1600) -> Path:
    """Path of a PNG of page `page` (1-based) of the stored file, at most `width` pixels wide."""
    settings = get_settings()
    width = min(WIDTHS, key=lambda w: abs(w - width))
    cache = settings.data_dir / "previews" / sha256[:2] / f"{sha256}-{page}-{width}.png"
    if cache.exists():
        return cache
    try:
        source = open_source(path, settings)
    except UnsupportedFile as exc:
        raise PreviewError(f"Fichier illisible : {exc.reason}.") from None
    if page < 1 or page > source.page_count:
        raise PreviewError("Cette page n'existe pas.")
    try:
        image = source.render(page)
    except UnsupportedFile as exc:
        raise PreviewError(f"Page illisible : {exc.reason}.") from None
    height, current = image.shape[:2]
    if current > width:
        image = cv2.resize(image, (width, max(1, round(height * width / current))), interpolation=cv2.INTER_AREA)
    ok, encoded = cv2.imencode(".png", image)
    if not ok:
        raise PreviewError("La page n'a pas pu être convertie en image.")
    cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".preview-")
    with os.fdopen(fd, "wb") as handle:
        handle.write(encoded.tobytes())
    os.replace(tmp, cache)
    return cache


def page_count(path: Path) -> int:
    try:
        return open_source(path, get_settings()).page_count
    except UnsupportedFile:
        return 0
