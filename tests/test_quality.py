"""Unreadable pages are told apart before any OCR, with the reason in French."""

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from intake.extractors.quality import assess, unreadable_reason

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(scope="module")
def text_page() -> np.ndarray:
    """A4 at 200 dpi with 10 pt text, as a bill is scanned."""
    img = Image.new("RGB", (1654, 2339), "white")
    d = ImageDraw.Draw(img)
    f = ImageFont.truetype(FONT, 28)
    for i in range(30):
        d.text((120, 100 + 60 * i), f"Facture du 12/03/2026 ligne {i} consommation d'électricité", fill="black", font=f)
    return cv2.cvtColor(np.array(img), cv2.COLOR_RGB2BGR)


def test_a_clean_page_is_readable(text_page):
    assert unreadable_reason(text_page) is None


def test_a_slightly_blurred_page_is_still_readable(text_page):
    assert unreadable_reason(cv2.GaussianBlur(text_page, (0, 0), 1.5)) is None


def test_blank_page(text_page):
    blank = np.full_like(text_page, 250)
    blank = np.clip(blank.astype(np.int16) + np.random.default_rng(1).normal(0, 1.5, blank.shape), 0, 255).astype(np.uint8)
    assert unreadable_reason(blank) == "page blanche"


def test_too_dark(text_page):
    dark = (text_page.astype(np.float32) * 0.15).astype(np.uint8)
    assert unreadable_reason(dark) == "image trop sombre"


def test_heavily_blurred(text_page):
    assert unreadable_reason(cv2.GaussianBlur(text_page, (0, 0), 8)) == "image trop floue"


def test_too_small(text_page):
    tiny = cv2.resize(text_page, (200, 283), interpolation=cv2.INTER_AREA)
    assert unreadable_reason(tiny) == "image trop petite pour être lue"


def test_the_same_page_gets_the_same_verdict_at_another_resolution(text_page):
    # Given the same blurred page at 200 and 300 dpi, Then both verdicts agree
    blurred = cv2.GaussianBlur(text_page, (0, 0), 8)
    big = cv2.resize(blurred, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_CUBIC)
    assert assess(big).reason == assess(blurred).reason == "blurred"


def test_an_underexposed_blurred_shot_is_too_dark_not_blank(text_page):
    # Given a page photographed far too dark and blurred (nothing stands out, grey murk)
    murk = (cv2.GaussianBlur(text_page, (0, 0), 12).astype(np.float32) * 0.3).astype(np.uint8)
    # Then the reason says it is too dark, not that the page is blank
    assert unreadable_reason(murk) == "image trop sombre"


def test_the_measures_from_the_histogram_are_numpys():
    # Given gray images of every kind of histogram (noise, a narrow band, two levels, one pixel)
    from intake.extractors.quality import GrayLevels

    rng = np.random.default_rng(4)
    images = [rng.integers(0, 256, (301, 217), dtype=np.uint8), rng.integers(120, 131, (50, 40), dtype=np.uint8),
              np.where(rng.random((64, 64)) < 0.03, 20, 240).astype(np.uint8), np.full((1, 1), 77, np.uint8)]
    for image in images:
        # When measured from their histogram, Then the figures are numpy's on the pixels
        levels = GrayLevels(image)
        for q in (2, 50, 90, 98, 99):
            assert levels.percentile(q) == pytest.approx(float(np.percentile(image, q)), abs=1e-9)
        assert levels.mean == pytest.approx(float(image.mean()), abs=1e-9)
        assert levels.std == pytest.approx(float(image.std()), abs=1e-9)
