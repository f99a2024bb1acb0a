"""Open an uploaded file as a sequence of page images, refusing what cannot be read safely.

The type is told from the bytes, never from the name. Limits (bytes, pages, pixels) come from the
settings; anything past them, or corrupt, becomes `UnsupportedFile` with a French reason, which the
pipeline turns into an `unsupported_file` finding.
"""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from intake.extractors.pdf import open_pdf
from intake.extractors.source import Source, UnsupportedFile, to_bgr
from intake.settings import Settings

#: Phone photos above this size are scaled down: nothing we read needs more pixels.
MAX_SIDE = 4200


def sniff_media_type(head: bytes) -> str | None:
    """Media type from the first bytes of a file, or None when it is none we accept."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "image/tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if b"%PDF-" in head[:1024]:
        return "application/pdf"
    return None


def _limit_side(image: Image.Image) -> Image.Image:
    longest = max(image.size)
    if longest <= MAX_SIDE:
        return image
    scale = MAX_SIDE / longest
    return image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.LANCZOS)


def _open_image(path: Path, media_type: str, settings: Settings) -> Source:
    Image.MAX_IMAGE_PIXELS = settings.max_pixels
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            probe = Image.open(path)
            width, height = probe.size
            frames = getattr(probe, "n_frames", 1)
            probe.close()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UnsupportedFile("image trop grande (nombre de pixels au-delà de la limite)") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UnsupportedFile(f"image illisible ou corrompue ({type(exc).__name__})") from None
    if width * height > settings.max_pixels:
        raise UnsupportedFile("image trop grande (nombre de pixels au-delà de la limite)")
    if width < 1 or height < 1:
        raise UnsupportedFile("image vide")
    if frames > settings.max_pages:
        raise UnsupportedFile(f"trop de pages ({frames}, au plus {settings.max_pages})")

    def render(index: int) -> np.ndarray:
        try:
            with Image.open(path) as image:
                if frames > 1:
                    image.seek(index - 1)
                if image.width * image.height > settings.max_pixels:
                    raise UnsupportedFile("image trop grande (nombre de pixels au-delà de la limite)")
                image.load()
                image = ImageOps.exif_transpose(image)
                return to_bgr(_limit_side(image))
        except UnsupportedFile:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UnsupportedFile("image trop grande (nombre de pixels au-delà de la limite)") from None
        except (OSError, ValueError, SyntaxError, EOFError) as exc:
            raise UnsupportedFile(f"image tronquée ou corrompue ({type(exc).__name__})") from None

    return Source(media_type=media_type, page_count=frames, render=render)


def open_source(path: Path, settings: Settings, reading: bool = False) -> Source:
    """Open `path` as pages, or raise `UnsupportedFile` saying why it cannot be read.

    `reading` is the pipeline's way: a PDF is then rendered once for all its pages, in gray (see
    intake.extractors.pdf); previews and exports keep colour and render only the page they show."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise UnsupportedFile("fichier introuvable") from None
    if size == 0:
        raise UnsupportedFile("fichier vide (0 octet)")
    if size > settings.max_file_bytes:
        raise UnsupportedFile(
            f"fichier trop volumineux ({size // (1024 * 1024)} Mo, au plus "
            f"{settings.max_file_bytes // (1024 * 1024)} Mo)"
        )
    with open(path, "rb") as handle:
        head = handle.read(2048)
    media_type = sniff_media_type(head)
    if media_type is None:
        raise UnsupportedFile("ce n'est ni une image (JPEG, PNG, TIFF, WebP) ni un PDF")
    if media_type == "application/pdf":
        return open_pdf(path, settings, reading=reading)
    return _open_image(path, media_type, settings)


def decode_image_bytes(data: bytes) -> np.ndarray:
    """Decode an image held in memory (tests and previews)."""
    with Image.open(io.BytesIO(data)) as image:
        return to_bgr(ImageOps.exif_transpose(image))
