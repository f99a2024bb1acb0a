"""Family 2 of the fixtures (fixtures/family2): reproducible, truthful about what it draws.

The held-out figure of issue 16 is only worth something if the second family is deterministic, draws
every value its expected.json promises where it says it drew it, and composes correct MRZs.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import subprocess
import sys
import unicodedata
from datetime import date
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from fixtures.dossiers import make_plan
from fixtures.family2 import corpus as f2
from fixtures.family2.ephoto import VENDORS, ephoto
from fixtures.family2.proofs import proof
from intake.icao import check_digit

ROOT = Path(__file__).resolve().parents[1]
DRAWN_KINDS = ("photo_code", "proof_of_address", "identity_card", "passport", "residence_permit")


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("f2") / "corpus"
    f2.generate(out, 4, seed=101)
    return out


def test_same_seed_gives_the_same_bytes(corpus, tmp_path):
    """Given seed 101, when two dossiers are generated twice, then every file is byte for byte the same."""
    again = tmp_path / "again"
    f2.generate(again, 2, seed=101)
    first = {k: v for k, v in _digest(corpus).items() if k.split("/")[0] in {p.name for p in again.iterdir()}}
    assert _digest(again) == first and len(first) >= 6


def test_cli_generates_family_2_with_the_same_bytes_in_another_process(corpus, tmp_path):
    """Given `python -m fixtures generate --family 2 --seed 101` in a fresh process, then its first dossier is
    byte for byte the one generated in this process, with a family-2 expected.json."""
    run = subprocess.run([sys.executable, "-m", "fixtures", "generate", "--family", "2", "--n", "1", "--seed", "101",
                          str(tmp_path / "c")], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    (folder,) = (tmp_path / "c").iterdir()
    assert _digest(folder) == _digest(corpus / folder.name)
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert expected["family"] == 2 and expected["degradation"].startswith("f2_")
    assert {"status", "missing_requirements", "codes", "required", "pieces"} <= set(expected)


def test_every_key_field_has_a_box_inside_its_file(corpus):
    """Given generated dossiers, every key field of a family-2 drawing has a box that lies in its file page."""
    from intake.evaluation import key_fields

    seen = 0
    for expected_path in corpus.glob("*/expected.json"):
        expected = json.loads(expected_path.read_text(encoding="utf-8"))
        for piece in expected["pieces"]:
            if piece["kind"] not in DRAWN_KINDS or not piece["label"].startswith("f2_"):
                continue
            wanted = set(key_fields(piece)) - {"mrz_format"}
            assert wanted <= set(piece["boxes"]), (piece["label"], wanted - set(piece["boxes"]))
            image = Image.open(expected_path.parent / piece["file"])
            for name, (page, x, y, w, h) in piece["boxes_file"].items():
                image.seek(page - 1)
                assert w > 0 and h > 0 and x >= -2 and y >= -2, (piece["label"], name)
                assert x + w <= image.width + 2 and y + h <= image.height + 2, (piece["label"], name)
                seen += 1
    assert seen > 10


def test_mrz_check_digits_are_valid_on_every_identity_layout():
    """Given every family-2 identity layout, the MRZ drawn passes ICAO check digits (composed by intake.icao)."""
    labels = set()
    for index, case in enumerate(["complete_adult", "non_eu_ok", "foreign_eu_ok", "laminated_adult_2012_ok",
                                  "identity_expired_tolerated", "complete_young", "hosted_ok"]):
        rng = random.Random(f"test-f2/{index}")
        plan = make_plan(case, rng, date(2026, 6, 1), "AE-T")
        for piece in plan.pieces:
            drawn = f2.draw_piece(rng, piece, plan)
            if not drawn.mrz:
                continue
            labels.add(drawn.label)
            lines = drawn.mrz
            if len(lines) == 3:  # TD1
                assert check_digit(lines[0][5:14]) == lines[0][14]
                assert check_digit(lines[1][0:6]) == lines[1][6] and check_digit(lines[1][8:14]) == lines[1][14]
                assert check_digit(lines[0][5:30] + lines[1][0:7] + lines[1][8:15] + lines[1][18:29]) == lines[1][29]
            elif len(lines[0]) == 44:  # TD3
                l2 = lines[1]
                assert check_digit(l2[0:9]) == l2[9] and check_digit(l2[13:19]) == l2[19]
                assert check_digit(l2[21:27]) == l2[27]
                assert check_digit(l2[0:10] + l2[13:20] + l2[21:43]) == l2[43]
            else:  # French laminated CNI, 2 x 36
                assert check_digit(lines[1][0:12]) == lines[1][12]
                assert check_digit(lines[0] + lines[1][:35]) == lines[1][35]
            fields = drawn.fields
            assert fields["document_number"].replace("<", "") in "".join(lines)
    assert {"f2_cni_2021", "f2_residence_permit"} <= labels and any(x.startswith("f2_passport") for x in labels)


def _tesseract(image: Image.Image) -> str:
    run = subprocess.run(["tesseract", "stdin", "stdout", "-l", "fra", "--psm", "7"], input=_png(image),
                         capture_output=True, timeout=60)
    return run.stdout.decode("utf-8", "replace")


def _png(image: Image.Image) -> bytes:
    ok, buf = cv2.imencode(".png", cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR))
    assert ok
    return buf.tobytes()


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("subtype,label", [("bill", "bill_energy"), ("bill", "bill_water"), ("bill", "bill_phone"),
                                           ("tax_notice", "tax_notice"), ("rent_receipt", "rent_receipt")])
def test_tesseract_reads_the_issue_date_in_its_box_on_a_clean_bill(subtype, label):
    """Given a clean family-2 proof of address, when tesseract reads the issue-date box, it finds the date drawn."""
    fields = {"issue_date": "2026-10-03", "holder_name": "MME ANAÏS LE GALL-DUPRÉ", "address_line": "12 RUE DES LILAS",
              "postcode": "75011", "city": "PARIS", "document_subtype": subtype}
    for seed in range(3):  # several layouts and date styles
        drawn = proof(random.Random(f"{label}/{seed}"), fields, label)
        page, x, y, w, h = drawn.boxes()["issue_date"]
        printed = drawn.printed()["issue_date"]
        margin = 12
        crop = drawn.pages[page - 1].crop((x - margin, y - margin, x + w + margin, y + margin + h))
        assert _norm(printed) in _norm(_tesseract(crop)), (drawn.label, printed)


def _fold(text: str) -> str:
    return re.sub(r"[^A-Z0-9]", "", text.upper()).replace("O", "0").replace("I", "1")


def _distance(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@pytest.mark.parametrize("vendor", sorted(VENDORS))
def test_every_ephoto_vendor_prints_its_code_and_date_in_their_boxes(vendor):
    """Given each vendor's sheet, the code box holds the code (tesseract, O/0 aside), any barcode decodes to it,
    and the date box holds the date as printed."""
    import zxingcpp

    code = "7KQ3P9XW2M4T8R6V5N1H0J"
    drawn = ephoto(random.Random(vendor), code, date(2026, 10, 3), vendor=vendor)
    page = drawn.pages[0]
    for name in ("code", "photo_date"):
        _, x, y, w, h = drawn.boxes()[name]
        read = _tesseract(page.crop((x - 12, y - 12, x + w + 12, y + h + 12)))
        if name == "code":
            assert _distance(_fold(read), _fold(code)) <= 2, read
        else:
            assert _norm(drawn.printed()[name]) in _norm(read)
    for _, x, y, w, h in drawn.boxes_all()["code"][1:]:  # barcodes carrying the code
        crop = cv2.cvtColor(np.asarray(page.crop((x, y, x + w, y + h))), cv2.COLOR_RGB2BGR)
        assert any(code in r.text for r in zxingcpp.read_barcodes(crop))


def test_intake_extract_reads_the_code_of_a_clean_upright_ephoto_sheet(tmp_path):
    """Given a clean upright PIXID sheet without barcode (code in groups of 3, bold Courier), when
    `intake extract` reads it, then it finds the 22-character code printed."""
    code = "7KQ3P9XW2M4T8R6V5N1H0J"
    drawn = ephoto(random.Random("x"), code, date(2026, 10, 3), vendor="pixid", with_barcode=False)
    path = tmp_path / "sheet.png"
    drawn.pages[0].save(path, dpi=(300, 300))
    run = subprocess.run([str(ROOT / ".venv/bin/intake"), "extract", str(path), "--json"], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-2000:]
    pieces = json.loads(run.stdout)["pieces"]
    assert [(p["kind"], p["fields"].get("code")) for p in pieces] == [("photo_code", code)]


@pytest.mark.parametrize("label", ["bill_energy", "tax_notice"])
def test_a_2ddoc_drawn_on_a_proof_decodes_in_its_box_and_alone_as_a_crop(label):
    """Given a proof with a signed 2D-Doc, its box decodes to a 2D-Doc whose header carries the issue date's
    document, and the barcode-only crop (150-400 px) still decodes."""
    import zxingcpp

    from fixtures.family2 import degrade as dg

    fields = {"issue_date": "2026-10-03", "holder_name": "M. LOÏC N'DIAYE", "address_line": "3 AVENUE JEAN JAURÈS",
              "postcode": "69007", "city": "LYON",
              "document_subtype": "tax_notice" if label == "tax_notice" else "bill",
              "two_d_doc": {"type": "28" if label == "tax_notice" else "01", "signature_valid": True}}
    drawn = proof(random.Random(label), fields, label)
    page, x, y, w, h = drawn.boxes()["two_d_doc"]
    full = dg.to_bgr(drawn.pages[page - 1])
    texts = [r.text for r in zxingcpp.read_barcodes(full[y:y + h, x:x + w])]
    assert len(texts) == 1 and texts[0].startswith("DC0") and "69007" in texts[0]
    crop, matrix, notes = dg.barcode_crop(full, drawn.barcode[1], random.Random(3))
    assert 150 <= max(crop.shape[:2]) <= 400 and notes["crop_px"] == max(crop.shape[:2])
    assert [r.text for r in zxingcpp.read_barcodes(crop)] == texts
