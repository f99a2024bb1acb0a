"""The holder of a certificate photographed with a phone (issue 16, helper "certs"): given names
under a misread "Prénom(s)" label are read, and a name that reads like something else (the words
around a value too pale to read) is kept under the key-field threshold. Real tesseract; the
photos are family-2 tuning dossiers regenerated from their seed and index."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from fixtures.family2.corpus import generate_one
from intake.evaluation import field_matches
from intake.extractors.images import open_source
from intake.extractors.kinds import holder_names
from intake.extractors.page import read_page
from intake.settings import get_settings
from intake.validators.key_fields import KEY_MIN_CONFIDENCE


def _piece_image(tmp_path: Path, seed: int, index: int, case: str, style: str, kind: str) -> tuple[np.ndarray, dict]:
    dossier_id = f"{index + 1:04d}-{case}"
    generate_one(tmp_path, dossier_id, case, style, seed, index)
    expected = json.loads((tmp_path / dossier_id / "expected.json").read_text(encoding="utf-8"))
    piece = next(p for p in expected["pieces"] if p["kind"] == kind)
    source = open_source(tmp_path / dossier_id / piece["file"], get_settings())
    return source.render(piece.get("page", 1)), piece


def test_an_assr_whose_given_names_label_is_misread_gives_its_whole_holder(tmp_path):
    # Given a phone photo of an ASSR (seed 112, dossier 53) whose "Prénom(s)" label reads "Prenons)"
    image, piece = _piece_image(tmp_path, 112, 52, "minor_ok", "f2_phone", "assr")
    # When the page is read
    page = read_page(image, 1)
    # Then the holder is the surname and the given names, not the surname alone
    assert page.kind == "assr"
    assert field_matches("holder_name", piece["fields"]["holder_name"], page.fields.get("holder_name"))


def test_an_assr_whose_names_are_too_pale_to_read_does_not_give_a_confident_name(tmp_path):
    # Given a phone photo of an ASSR (seed 112, dossier 59) with a glare over its names: the
    # surname and given names are too pale, the labels around them are not
    image, piece = _piece_image(tmp_path, 112, 58, "cepc_ok", "f2_phone", "assr")
    # When the page is read
    page = read_page(image, 1)
    # Then a holder that is not the one printed is never given with a confidence that counts
    holder = page.fields.get("holder_name")
    if holder and not field_matches("holder_name", piece["fields"]["holder_name"], holder):
        assert float(page.evidence["fields"]["holder_name"]["confidence"]) < KEY_MIN_CONFIDENCE, holder


def test_names_that_read_like_labels_titles_or_a_cut_name_are_doubtful():
    # Given holders read from the words around a value, a title misread, a name cut after a particle
    # When they are checked
    # Then each is doubtful; whole names are not
    for name in ("IN NÉ E LE", "MIE POIRIER ERNMA", "MARTIN DE", "NOM DUPONT"):
        assert holder_names.doubtful({"holder_name": name}, "") == ["holder_name"], name
    for name in ("MARTIN MÉLANIE", "D'ALMEIDA NOÉMIE OCÉANE", "LE GALL MANON CHLOÉ"):
        assert holder_names.doubtful({"holder_name": name}, "") == [], name
    # And a surname alone where the form prints the given names too is doubtful
    text = "Nom : TRAORE\nPrénom(s) :\nNé(e) le : 03/01/2009"
    assert holder_names.doubtful({"holder_name": "TRAORE"}, text) == ["holder_name"]
