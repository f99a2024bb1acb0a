"""What an opened upload is (`Source`: its pages, rendered on demand) and what refuses one
(`UnsupportedFile`), shared by the image and the PDF openers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np
from PIL import Image


class UnsupportedFile(Exception):
    """The file is not an image or PDF we accept; `reason` is French, for the school."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Source:
    """An opened file: its media type, its page count and a way to render page i (1-based)."""

    media_type: str
    page_count: int
    render: Callable[[int], np.ndarray]


def to_bgr(image: Image.Image) -> np.ndarray:
    """A PIL image as an OpenCV BGR array (8-bit), transparency flattened on white."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        image = image.convert("RGBA")
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image)
    if image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    array = np.asarray(image)
    # OpenCV converts in one pass, several times faster than numpy's reversed-axis copy
    return cv2.cvtColor(array, cv2.COLOR_GRAY2BGR if array.ndim == 2 else cv2.COLOR_RGB2BGR)
