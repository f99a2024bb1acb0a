"""Page images of stored uploads, for the reviewer: rendered once per page and width, then cached.

Rendered in the web process with bounded memory: the page is shrunk while it is decoded (a JPEG
decodes at 1/2, 1/4 or 1/8 of its size through PIL's draft mode; a PDF page is rendered by
`pdftoppm -scale-to` straight at the preview's width), and at most `INTAKE_PREVIEW_CONCURRENCY`
previews are rendered at once (the others wait their turn). A legal 80-megapixel scan therefore
costs one decode at a time, not eight. EXIF orientation is applied as the pipeline applies it,
so the reviewer sees the page the way it was read.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import warnings
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from intake.extractors.images import UnsupportedFile, open_source, sniff_media_type
from intake.settings import get_settings

WIDTHS = (800, 1600)
#: Longest wait for a rendering slot before answering that the page cannot be shown now.
SLOT_WAIT_S = 60.0

_slots_lock = threading.Lock()
_slots: tuple[int, threading.BoundedSemaphore] | None = None


class PreviewError(Exception):
    """The page cannot be shown; `message` is French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _slot() -> threading.BoundedSemaphore:
    global _slots
    size = get_settings().preview_concurrency
    with _slots_lock:
        if _slots is None or _slots[0] != size:
            _slots = (size, threading.BoundedSemaphore(size))
        return _slots[1]


def page_png(path: Path, sha256: str, page: int, width: int = 1600) -> Path:
    """Path of a PNG of page `page` (1-based) of the stored file, at most `width` pixels wide."""
    settings = get_settings()
    width = min(WIDTHS, key=lambda w: abs(w - width))
    cache = settings.data_dir / "previews" / sha256[:2] / f"{sha256}-{page}-{width}.png"
    if cache.exists():
        return cache
    slot = _slot()
    if not slot.acquire(timeout=SLOT_WAIT_S):
        raise PreviewError("Trop d'aperçus en préparation : réessayer dans un instant.")
    try:
        if cache.exists():  # rendered by another request while this one waited
            return cache
        image = _render_small(path, page, width)
        cache.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".preview-")
        try:
            with os.fdopen(fd, "wb") as handle:
                image.save(handle, format="PNG")
            os.replace(tmp, cache)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        finally:
            image.close()
    finally:
        slot.release()
    return cache


def _render_small(path: Path, page: int, width: int) -> Image.Image:
    settings = get_settings()
    try:
        with open(path, "rb") as handle:
            head = handle.read(2048)
    except OSError:
        raise PreviewError("Fichier introuvable.") from None
    if sniff_media_type(head) == "application/pdf":
        return _pdf_page(path, page, width)
    Image.MAX_IMAGE_PIXELS = settings.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                frames = getattr(image, "n_frames", 1)
                if page < 1 or page > frames:
                    raise PreviewError("Cette page n'existe pas.")
                if frames > 1:
                    image.seek(page - 1)
                if image.width * image.height > settings.max_pixels:
                    raise PreviewError("Page illisible : image trop grande.")
                # thumbnail() asks the decoder for a reduced size first (JPEG draft: the scan is
                # never decoded at full size), then finishes the reduction.
                image.thumbnail((width, max(1, round(image.height * width / image.width)) or 1),
                                Image.Resampling.LANCZOS, reducing_gap=2.0)
                image = ImageOps.exif_transpose(image)
                if image.width > width:
                    image.thumbnail((width, 10 * width), Image.Resampling.LANCZOS)
                return _flatten(image)
    except PreviewError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise PreviewError("Page illisible : image trop grande.") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise PreviewError(f"Fichier illisible ({type(exc).__name__}).") from None


def _flatten(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image if image.mode in ("RGB", "L") else image.convert("RGB")


def _pdf_page(path: Path, page: int, width: int) -> Image.Image:
    """One PDF page rendered by pdftoppm straight at the preview width (never at full resolution)."""
    settings = get_settings()
    try:
        count = open_source(path, settings).page_count
    except UnsupportedFile as exc:
        raise PreviewError(f"Fichier illisible : {exc.reason}.") from None
    if page < 1 or page > count:
        raise PreviewError("Cette page n'existe pas.")
    from intake.tools import private_tmp
    from intake.tools.poppler import PopplerError, _exe

    with tempfile.TemporaryDirectory(prefix="preview-", dir=private_tmp()) as tmp:
        prefix = Path(tmp) / "page"
        try:
            cmd = [_exe("pdftoppm"), "-f", str(page), "-l", str(page), "-singlefile", "-scale-to-x", str(width),
                   "-scale-to-y", "-1", "-png", str(path), str(prefix)]
            proc = subprocess.run(cmd, capture_output=True, timeout=settings.subprocess_timeout, umask=0o077)
        except subprocess.TimeoutExpired:
            raise PreviewError("Page trop longue à afficher.") from None
        except PopplerError:
            raise PreviewError("Page illisible : poppler (pdftoppm) n'est pas installé.") from None
        out = prefix.with_suffix(".png")
        if proc.returncode != 0 or not out.exists():
            raise PreviewError("Page illisible.")
        with Image.open(out) as image:
            image.load()
            return _flatten(image)


def page_count(path: Path) -> int:
    try:
        return open_source(path, get_settings()).page_count
    except UnsupportedFile:
        return 0
