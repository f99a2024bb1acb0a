"""The specimen generator: deterministic, MRZs that validate, ground truth that follows RULES.md."""

from __future__ import annotations

import hashlib
import json
import random
import re
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from fixtures import degrade as dg
from fixtures import specimens as sp
from functools import lru_cache

from fixtures.corpus import _scan_pages, generate_one, generate_sample
from fixtures.dossiers import CASES, make_plan
from fixtures.people import age_on, make_person
from fixtures.rules_oracle import ALL_REQUIREMENTS, laminated_cni_valid_until, required
from intake.dossier import load_declared
from intake.extractors.ocr.words import image_to_text
from intake.icao import check_digit, fold

ROOT = Path(__file__).resolve().parent.parent
R = date(2026, 6, 15)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


# --------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("case,degradation", [("complete_young", "clean"), ("twoddoc_tampered", "multi_doc_pdf")])
def test_same_seed_gives_the_same_bytes(tmp_path, case, degradation):
    # Given the same case, degradation and seed, generated twice into two folders
    generate_one(tmp_path / "a", "d", case, degradation, seed=7, index=3)
    generate_one(tmp_path / "b", "d", case, degradation, seed=7, index=3)
    # Then every file (pieces, dossier.json, expected.json) is byte for byte the same
    assert _digest(tmp_path / "a" / "d") == _digest(tmp_path / "b" / "d")


def test_phone_photo_is_deterministic_too():
    # Given one specimen photographed twice with generators of the same seed
    rng = random.Random(1)
    spec = sp.ephoto_sheet(rng, date(2026, 5, 1))
    first = _scan_pages(spec, "phone", random.Random(42))[0].image
    second = _scan_pages(spec, "phone", random.Random(42))[0].image
    other = _scan_pages(spec, "phone", random.Random(43))[0].image
    # Then the pixels are identical, and another seed gives another photo
    assert np.array_equal(first, second)
    assert first.shape != other.shape or not np.array_equal(first, other)


def test_another_seed_gives_another_dossier(tmp_path):
    # Given one case generated with two seeds
    generate_one(tmp_path / "a", "d", "complete_adult", "clean", seed=1, index=0)
    generate_one(tmp_path / "b", "d", "complete_adult", "clean", seed=2, index=0)
    # Then the declared person differs
    a = json.loads((tmp_path / "a" / "d" / "dossier.json").read_text())
    b = json.loads((tmp_path / "b" / "d" / "dossier.json").read_text())
    assert a["applicant"] != b["applicant"]


def test_committed_sample_is_what_the_generator_writes(tmp_path):
    # Given the committed README demo dossier, When it is generated again
    generate_sample(tmp_path / "sample")
    # Then it is identical: the committed sample has not drifted from its generator
    assert _digest(tmp_path / "sample") == _digest(ROOT / "fixtures" / "sample")


# --------------------------------------------------------------------------- MRZ


def _valid_td1(lines: list[str]) -> bool:
    l1, l2 = lines[0], lines[1]
    return (check_digit(l1[5:14]) == l1[14] and check_digit(l2[0:6]) == l2[6] and check_digit(l2[8:14]) == l2[14]
            and check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]) == l2[29])


def _valid_td3(lines: list[str]) -> bool:
    l2 = lines[1]
    return (check_digit(l2[0:9]) == l2[9] and check_digit(l2[13:19]) == l2[19] and check_digit(l2[21:27]) == l2[27]
            and check_digit(l2[0:10] + l2[13:20] + l2[21:43]) == l2[43])


def _valid_fr_cni(lines: list[str]) -> bool:
    l1, l2 = lines
    return (check_digit(l2[0:12]) == l2[12] and check_digit(l2[27:33]) == l2[33]
            and check_digit(l1 + l2[:35]) == l2[35])


def _identity_specimens(seed: int):
    rng = random.Random(seed)
    for nationality, long_name in [("FRA", False), ("FRA", True), ("AUT", False), ("NOR", False), ("TUR", False)]:
        p = make_person(rng, rng.randint(20, 60), R, nationality=nationality, long_name=long_name)
        if nationality == "FRA":
            yield sp.french_cni_2021(rng, p, date(2023, 3, 4)), _valid_td1
            yield sp.french_cni_laminated(rng, p, date(2012, 5, 1)), _valid_fr_cni
        yield sp.passport(rng, p, date(2022, 1, 2), country=nationality), _valid_td3
        yield sp.residence_permit(rng, p, date(2024, 2, 3), 4), _valid_td1
        yield sp.td1_card(rng, p, date(2021, 1, 1), date(2031, 1, 1), country=nationality), _valid_td1


def test_every_mrz_written_validates_with_icao_check_digits():
    # Given identity documents of all layouts, French and foreign names, long names included
    specimens = list(_identity_specimens(11))
    assert len(specimens) >= 15
    for spec, valid in specimens:
        # Then each MRZ line has its format's length and every check digit holds
        widths = {len(line) for line in spec.mrz}
        assert widths in ({30}, {44}, {36}), spec.label
        assert valid(spec.mrz), (spec.label, spec.mrz)
        assert re.fullmatch(r"[A-Z0-9<]+", "".join(spec.mrz))


def test_broken_mrz_fails_its_check_digits():
    # Given the specimen used for the mrz_invalid cases
    rng = random.Random(3)
    p = make_person(rng, 30, R)
    spec = sp.passport(rng, p, date(2023, 1, 1), broken_mrz=True)
    # Then its MRZ does not validate
    assert not _valid_td3(spec.mrz)


def test_long_surname_is_cut_in_the_mrz_but_whole_in_the_ground_truth():
    # Given a surname longer than the TD1 name field
    rng = random.Random(5)
    p = make_person(rng, 30, R, long_name=True)
    spec = sp.french_cni_2021(rng, p, date(2024, 1, 1))
    # Then the MRZ name line is 30 characters and starts with the folded surname's beginning
    glued = fold(p.surname).replace(" ", "<")
    assert len(spec.mrz[2]) == 30 and glued.startswith(spec.mrz[2].split("<<")[0][:20])
    assert spec.fields["surname"] == p.surname.upper()


def test_laminated_card_number_starts_with_the_issue_month():
    rng = random.Random(9)
    p = make_person(rng, 40, R)
    spec = sp.french_cni_laminated(rng, p, date(2011, 9, 17))
    number = spec.fields["document_number"]
    # Then card number = YYMM + department (3) + sequence (5), issue date the 1st of that month
    assert len(number) == 12 and number[:4] == "1109"
    assert spec.fields["issue_date"] == "2011-09-01"
    assert "expiry_date" not in spec.fields
    assert spec.mrz[0].startswith("IDFRA") and spec.mrz[1].startswith(number)


def test_mrz_is_rendered_in_ocr_b_at_a_size_tesseract_reads():
    # Given the back of a French ID card drawn at 300 dpi
    rng = random.Random(21)
    p = make_person(rng, 30, R)
    spec = sp.french_cni_2021(rng, p, date(2024, 4, 4))
    back = np.asarray(spec.pages[1].convert("L"))
    band = back[int(back.shape[0] * 0.7):, :]
    # When plain tesseract reads the bottom band
    text = image_to_text(band, lang="eng", psm=6,
                         config="-c tessedit_char_whitelist=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")
    lines = [re.sub(r"\s", "", s) for s in text.splitlines() if len(s.strip()) > 20]
    # Then the document number and the birth date come out (the glyphs are real OCR-B, 10 per inch)
    joined = "".join(lines)
    assert spec.fields["document_number"] in joined
    assert p.birth_date.strftime("%y%m%d") in joined


# --------------------------------------------------------------------------- ground truth vs rules


def _plan(case: str, seed: int = 4):
    return make_plan(case, random.Random(f"t/{case}/{seed}"), R, "T-1")


@lru_cache(maxsize=1)
def _all_expected() -> dict[str, dict]:
    return {name: _plan(name).expected() for name in CASES}


def test_every_requirement_has_a_passing_and_a_failing_case():
    # Given all cases, When their expected verdicts are computed
    expected = _all_expected()
    for requirement in ALL_REQUIREMENTS:
        # Then some dossier needs the requirement and meets it, and some dossier misses it
        passing = [n for n, e in expected.items() if requirement in e["required"] and e["status"] == "complete"]
        failing = [n for n, e in expected.items() if requirement in e["missing_requirements"]]
        assert passing and failing, requirement


def test_every_validity_code_has_a_failing_case():
    codes = set()
    for e in _all_expected().values():
        codes |= set(e["codes"])
    for code in ["identity_expired", "residence_permit_expired", "proof_of_address_too_old",
                 "proof_of_address_name_mismatch", "proof_of_address_address_mismatch", "photo_code_invalid",
                 "photo_code_expired", "medical_opinion_too_old", "identity_name_mismatch",
                 "identity_birth_date_mismatch", "identity_sex_mismatch", "mrz_invalid", "unknown_piece",
                 "holder_mismatch", "duplicate_piece", "unsupported_file", "proof_of_address_signature_invalid",
                 "birth_date_unusual"]:
        assert code in codes, code


def test_jdc_case_is_consistent_with_its_dossier_json(tmp_path):
    # Given the dossier generated for "jdc_missing"
    generate_one(tmp_path, "d", "jdc_missing", "clean", seed=1, index=0)
    declared = load_declared(tmp_path / "d")
    expected = json.loads((tmp_path / "d" / "expected.json").read_text())
    # Then the declared applicant is French, 17 to 24 on the reference date, first licence, registration
    age = age_on(declared.applicant.birth_date, declared.reference_date)
    assert declared.applicant.nationality == "FRA" and 17 <= age < 25
    assert (declared.procedure, declared.motif) == ("inscription", "primo")
    # And the JDC is the one missing requirement, no JDC among the pieces, the verdict incomplete
    assert expected["missing_requirements"] == ["jdc"]
    assert "jdc" not in {p["kind"] for p in expected["pieces"]}
    assert expected["status"] == "incomplete" and expected["blocking_codes"] == ["missing_piece"]
    assert expected["reference_date"] == declared.reference_date.isoformat()


def test_hosted_case_declares_the_host_and_holds_the_hosts_pieces(tmp_path):
    generate_one(tmp_path, "d", "hosted_ok", "clean", seed=1, index=0)
    declared = load_declared(tmp_path / "d")
    expected = json.loads((tmp_path / "d" / "expected.json").read_text())
    assert declared.situation.hosted and declared.host is not None
    holders = {(p["kind"], p["holder"]) for p in expected["pieces"]}
    assert ("hosting_attestation", "host") in holders and ("proof_of_address", "host") in holders
    assert expected["status"] == "complete" and not expected["missing_requirements"]
    # And no proof of address in the applicant's name is required (RULES.md: unless hosted)
    assert "proof_of_address" not in required(json.loads((tmp_path / "d" / "dossier.json").read_text()),
                                              declared.reference_date)


@pytest.mark.parametrize("case,expired", [("laminated_adult_2012_ok", False),
                                          ("laminated_adult_2008_tolerated", False),
                                          ("laminated_minor_2008_expired", True),
                                          ("laminated_adult_2003_expired", True)])
def test_laminated_cni_cases_follow_the_15_year_rule(case, expired):
    plan = _plan(case)
    card = next(p.specimen for p in plan.pieces if p.specimen.label == "cni_laminated")
    issue = date.fromisoformat(card.fields["issue_date"])
    birth = date.fromisoformat(plan.declared["applicant"]["birth_date"])
    # Then validity (15 years to adults 2004-2013, else 10, plus 5) decides the expected code
    assert (laminated_cni_valid_until(issue, birth) <= R) == expired
    assert ("identity_expired" in plan.expected()["codes"]) == expired


def test_proof_of_address_six_months_boundary():
    ok = _plan("proof_6_months_exactly_ok")
    bill = next(p.specimen for p in ok.pieces if p.specimen.kind == "proof_of_address")
    assert bill.fields["issue_date"] == "2025-12-15" and ok.expected()["status"] == "complete"
    old = _plan("proof_too_old")
    bill = next(p.specimen for p in old.pieces if p.specimen.kind == "proof_of_address")
    assert date.fromisoformat(bill.fields["issue_date"]) < date(2025, 12, 15)
    assert old.expected()["blocking_codes"] == ["proof_of_address_too_old"]


def test_bill_prints_a_due_date_after_the_issue_date():
    # Given a bill, Then its text holds the issue date and a later "Date limite de paiement" (a trap)
    rng = random.Random(2)
    p = make_person(rng, 30, R)
    spec = sp.bill(rng, p, date(2026, 3, 12), kind="energy")
    text = image_to_text(spec.pages[0], lang="fra", psm=3)
    assert "Facture du" in text and "Date limite de paiement" in text


def test_tampered_2ddoc_case_expects_a_signature_finding_only_with_a_barcode():
    plan = _plan("twoddoc_tampered")
    bill = next(p.specimen for p in plan.pieces if p.specimen.kind == "proof_of_address")
    has_code = "two_d_doc" in bill.fields
    assert ("proof_of_address_signature_invalid" in plan.expected()["codes"]) == has_code
    if has_code:
        assert bill.fields["two_d_doc"]["signature_valid"] is False


def test_every_piece_listed_in_expected_exists(tmp_path):
    for i, (case, deg) in enumerate([("complete_adult", "recto_verso_a4"), ("duplicate_piece", "clean"),
                                     ("broken_file", "clean"), ("complete_young", "blank_page")]):
        generate_one(tmp_path, case, case, deg, seed=3, index=i)
        expected = json.loads((tmp_path / case / "expected.json").read_text())
        files = {p.name for p in (tmp_path / case).iterdir()} - {"dossier.json", "expected.json"}
        listed = {p["file"] for p in expected["pieces"]}
        assert listed <= files
        # Extra files are only the blank page and the corrupt upload, which are no documents
        assert len(files - listed) == (1 if case in ("broken_file", "complete_young") else 0)
        if case == "complete_young":  # a blank page is reported for review, nothing more
            assert expected["status"] == "needs_review" and expected["codes"] == ["unreadable_piece"]


# --------------------------------------------------------------------------- degradations


def test_degradations_are_real_image_operations():
    rng = random.Random(1)
    page = np.full((400, 300, 3), 255, np.uint8)
    page[100:120, 50:250] = 0
    assert dg.rotate_quarter(page, 90).shape[:2] == (300, 400)
    skewed = dg.skew(page, 3.0)
    assert skewed.shape[0] > 400 and skewed.shape[1] > 300
    photo = dg.phone_photo(page, rng, long_side=800)
    # a phone photo has a background around the page: its corners are not paper white
    assert photo[:10, :10].mean() < 200 and photo[-10:, -10:].mean() < 200
    assert dg.resample(page, 300, 150).shape[:2] == (200, 150)
    low = dg.jpeg_roundtrip(page, 30)
    assert low.shape == page.shape and not np.array_equal(low, page)
    dark = dg.unreadable(page, rng)
    assert dark.mean() < 100


def test_generate_command_writes_n_dossiers_with_their_expected_verdicts(tmp_path):
    # Given the command line of the issue, When run for two dossiers
    from fixtures.__main__ import main

    assert main(["generate", "--n", "2", "--seed", "1", str(tmp_path / "out")]) == 0
    # Then there are two dossier folders, each with dossier.json, expected.json and piece files
    folders = sorted((tmp_path / "out").iterdir())
    assert len(folders) == 2
    for folder in folders:
        load_declared(folder)  # the schema of CONTRACT.md holds
        expected = json.loads((folder / "expected.json").read_text())
        assert expected["status"] in ("complete", "incomplete", "needs_review")
        assert all((folder / p["file"]).is_file() for p in expected["pieces"])


@pytest.mark.parametrize("authority,tamper,verdict", [("FX01", False, True), ("FX01", True, False),
                                                      ("FX99", False, None)])
def test_bill_2ddoc_is_reproducible_and_verifies_as_intended(authority, tamper, verdict):
    # Given the DataMatrix drawn on bills, made twice
    import zxingcpp

    from fixtures.twoddoc import make_barcode
    from intake.extractors.twoddoc.parse import parse_2ddoc
    from intake.extractors.twoddoc.verify import verify_2ddoc

    fields = {"10": "MME CHLOE LE GALL", "22": "12 RUE DES LILAS", "24": "75011", "25": "PARIS", "26": "FR"}
    first = make_barcode("01", fields, date(2026, 3, 12), authority=authority, tamper=tamper, module_px=4)
    second = make_barcode("01", fields, date(2026, 3, 12), authority=authority, tamper=tamper, module_px=4)
    # Then the pixels are the same (RFC 6979 signatures), and the project's own reader decodes it
    assert np.array_equal(np.asarray(first), np.asarray(second))
    (barcode,) = zxingcpp.read_barcodes(first)
    doc = parse_2ddoc(barcode.text)
    assert (doc.authority, doc.fields.get("24")) == (authority, "75011")
    # And the signature verifies with fixtures/certs for FX01, fails when tampered, is unknown for FX99
    assert verify_2ddoc(doc, ROOT / "fixtures" / "certs") is verdict


def test_a_2ddoc_writes_foreign_letters_as_ascii_letters_never_drops_them():
    # Given a name with letters that have no decomposition (Ø, Ł) and ligatures
    from fixtures.twoddoc_writer import _plain

    # When written the way an issuer fills a 2D-Doc, Then every letter survives as ASCII
    assert _plain("Mme Ødegaard Sølvi Groß Łukasz Lætitia") == "MME ODEGAARD SOLVI GROSS LUKASZ LAETITIA"


@pytest.mark.parametrize("authority", ["FX01", "ZZ99"])
def test_the_same_2ddoc_gives_the_same_image_every_time(authority):
    from fixtures.twoddoc_writer import make_2ddoc_image

    # Given a bill's 2D-Doc signed by the fixtures' key, or by a throwaway key nobody trusts
    fields = {"10": "MME/LE GALL/ANNE MARIE", "24": "44000", "25": "NANTES"}
    # When it is drawn twice
    first = np.array(make_2ddoc_image("01", fields, date(2026, 10, 7), authority=authority))
    second = np.array(make_2ddoc_image("01", fields, date(2026, 10, 7), authority=authority))
    # Then the two images are the same (a random ECDSA nonce made each run's code, and so the
    # tests that read it from a blurred photo, different)
    assert np.array_equal(first, second)
