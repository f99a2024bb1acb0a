"""Rough phone photos (issue 16): a sheet photographed from far, with a shaking hand, saved at low JPEG
quality. The page is read again restored (motion blur undone, sheet enlarged) when it first read as
nothing; what is read so stays in doubt (a person looks), and ordinary pages never pay for it."""

from pathlib import Path

import cv2
import numpy as np
import pytest

from intake.extractors.ocr.restore import RESTORED_CEILING, estimate_motion, motion_kernel
from intake.extractors.page import read_page
from intake.extractors.quality import assess, gray
from intake.validators.key_fields import KEY_MIN_CONFIDENCE
from tests.family2_pieces import family2_piece

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "sample" / "piece1.png"


def _shaken(g: np.ndarray, length: float, angle: float, quality: int = 30) -> np.ndarray:
    blurred = cv2.filter2D(g.astype(np.float32), -1, motion_kernel(length, angle))
    ok, data = cv2.imencode(".jpg", np.clip(blurred, 0, 255).astype(np.uint8), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


@pytest.mark.parametrize("length,angle", [(7, 30), (9, 90), (5, 160), (8, 121)])
def test_motion_blur_is_measured_from_the_page_itself(length, angle):
    # Given a printed page shaken along a slanted direction and saved as a poor JPEG
    g = gray(cv2.imread(str(SAMPLE)))
    shaken = _shaken(g, length, angle)
    # When its blur is estimated with nothing but the pixels
    motion = estimate_motion(shaken)
    # Then its length and direction are those of the shake (within a pixel and a few degrees),
    # so that the deconvolution undoes the right blur
    assert motion is not None
    assert abs(motion.length - length) <= 1.5
    assert min(abs(motion.angle - angle), 180 - abs(motion.angle - angle)) <= 12


def test_a_sharp_page_has_no_blur_to_undo():
    # Given a sharp scan; When its blur is estimated; Then none is found (nothing would be "restored")
    g = gray(cv2.imread(str(SAMPLE)))
    assert estimate_motion(g) is None
    # and its quality is not rough: the restored reading is never tried on it
    assert not assess(g).rough


@pytest.mark.parametrize("seed,index,file,kind", [
    # a bill, 6 px shake, JPEG quality 29, the sheet a third of the photo, turned a quarter
    (118, 0, "PXL_20260804_343613471.jpg", "proof_of_address"),
    # a medical opinion, 9 px shake, JPEG quality 20
    (119, 31, "Numérisation_004.jpg", "medical_opinion"),
])
def test_rough_photo_is_classified_with_its_values_left_to_a_person(tmp_path, seed, index, file, kind):
    # Given a page photographed from far with a shaking hand and saved as a poor JPEG, which the
    # first reading takes for nothing (an unclassified page: a missing piece)
    image, piece = family2_piece(tmp_path, seed, index, file)
    assert piece["kind"] == kind and piece["degradation"]["condition"] == "phone_rough"
    # When the page is read
    page = read_page(image, 1)
    # Then it is read as its kind, from a restored image
    assert page.kind == kind
    assert page.evidence.get("restored") is True
    # and none of the values read there is taken as read: each is left for a person to check
    for name, entry in page.evidence.get("fields", {}).items():
        if not entry.get("protected"):
            assert float(entry.get("confidence") or 0.0) <= RESTORED_CEILING < KEY_MIN_CONFIDENCE, name
