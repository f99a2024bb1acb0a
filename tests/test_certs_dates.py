"""A certificate's date on a blurred phone photo (issue 16, helper "certs"): the date's box is read
again alone, and a second reading that gives another date leaves the date to a person (a 2026
read 2076 would otherwise count with the confidence of a clean reading). Real tesseract; the
photo is a family-2 tuning dossier regenerated from its seed and index."""

from __future__ import annotations

import json

from fixtures.family2.corpus import generate_one
from intake.extractors.images import open_source
from intake.extractors.page import read_page
from intake.settings import get_settings
from intake.validators.key_fields import KEY_MIN_CONFIDENCE


def test_a_date_misread_on_a_blurred_photo_does_not_count_with_confidence(tmp_path):
    # Given a blurred phone photo (seed 106, dossier 59) of a training certificate, a quarter turn,
    # whose date of issue tesseract reads with one digit wrong
    dossier_id = "0059-assr_formation_am_ok"
    generate_one(tmp_path, dossier_id, "assr_formation_am_ok", "f2_phone_rough", 106, 58)
    expected = json.loads((tmp_path / dossier_id / "expected.json").read_text(encoding="utf-8"))
    piece = next(p for p in expected["pieces"] if p["kind"] == "training_certificate")
    image = open_source(tmp_path / dossier_id / piece["file"], get_settings()).render(piece.get("page", 1))
    # When the page is read
    page = read_page(image, 1)
    # Then every date given that is not the one printed stays under the key-field threshold
    for name in ("issue_date", "birth_date"):
        value = page.fields.get(name)
        if value and value != piece["fields"].get(name):
            assert float(page.evidence["fields"][name]["confidence"]) < KEY_MIN_CONFIDENCE, (name, value)
