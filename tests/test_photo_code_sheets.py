"""E-photo sheets of the generated corpus (seeds 1 and 3) that were once misread, read again end to end.

Each is regenerated from its seed and index (fixtures.corpus.generate_one), so the test holds the
exact pixels that went wrong, and read with the real tesseract.
"""

import json

import pytest

from fixtures.corpus import generate_one
from intake.extractors.images import open_source
from intake.extractors.page import read_page
from intake.settings import get_settings

SHEETS = [
    # (seed, index, case, degradation, what went wrong)
    (1, 133, "twoddoc_unknown_authority_ok", "clean", "short words read in the photos taken for the code's line"),
    (1, 39, "identity_expired", "phone", "a 3 read 8 on the gray paper of a phone photo"),
    (1, 110, "tax_notice_too_old", "phone", "two letters read in lower case made the line prose"),
    (1, 139, "photo_code_invalid", "rot270", "a 19-character code read with an inserted character"),
    (1, 144, "photo_code_invalid", "clean", "O and 0 of a wrong-length code left to the language model"),
    (3, 2, "identity_missing", "scan_150", "a slanted line's end glyphs cut at a median height: E read P"),
    (3, 58, "identity_birth_date_mismatch", "scan_150", "the same slant: Z read 4, O read Q"),
]


@pytest.mark.parametrize("seed,index,case,degradation,why", SHEETS, ids=[f"s{s[0]}-{s[1] + 1:04d}" for s in SHEETS])
def test_the_code_of_the_sheet_is_read_as_printed(tmp_path, seed, index, case, degradation, why):
    # Given the dossier as the corpus generator wrote it
    dossier_id = f"{index + 1:04d}-{case}"
    generate_one(tmp_path, dossier_id, case, degradation, seed, index)
    expected = json.loads((tmp_path / dossier_id / "expected.json").read_text(encoding="utf-8"))
    sheet = next(p for p in expected["pieces"] if p["kind"] == "photo_code")
    # When its e-photo sheet is read
    source = open_source(tmp_path / dossier_id / sheet["file"], get_settings())
    page = read_page(source.render(sheet.get("page", 1)), 1)
    # Then the code is the printed one, character for character
    assert page.kind == "photo_code"
    assert page.fields.get("code") == sheet["fields"]["code"], why
