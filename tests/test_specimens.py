"""Public specimens nobody here drew (../shared/data/specimens, truth in its MANIFEST.tsv): every MRZ
read exactly, every 2D-Doc that zxing-cpp decodes from the file decoded, typed and verified.

The specimens carry other people's licences and are not in the repository: these tests skip when
the folder is absent. They read the files as `intake extract` does (bench/specimens.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT.parent / "shared" / "data" / "specimens"
sys.path.insert(0, str(ROOT / "bench"))

pytestmark = pytest.mark.skipif(not (FOLDER / "MANIFEST.tsv").exists(), reason="no ../shared/data/specimens here")

import specimens as bench  # noqa: E402


def _rows(what: str) -> list[dict]:
    if not (FOLDER / "MANIFEST.tsv").exists():
        return []
    return [r for r in bench.read_manifest(FOLDER) if r[what]]


@pytest.fixture(autouse=True)
def shipped_trust_store(monkeypatch):
    """The shipped trust store: it holds the ANTS test certificate that signed the specimens."""
    from intake.settings import reset_settings

    monkeypatch.delenv("INTAKE_2DDOC_CERTS", raising=False)
    reset_settings()
    yield
    reset_settings()


@pytest.mark.parametrize("row", _rows("mrz"), ids=lambda r: Path(r["file"]).name)
def test_every_specimen_mrz_is_read_exactly(row):
    # Given a public specimen whose MRZ a person can read (a card, a passport page, a band alone)
    expected = bench.expected_mrz_fields(row["mrz"])
    # When the file is read as `intake extract` reads it
    got = bench.read_with_intake(FOLDER / row["file"])
    # Then it is an identity piece whose document number, birth date and expiry are exact
    read = next((d.fields for d in got["documents"] if "mrz_format" in d.fields), {})
    assert {k: read.get(k) for k in bench.MRZ_KEYS} == expected


@pytest.mark.parametrize("row", _rows("twoddoc"), ids=lambda r: Path(r["file"]).name)
def test_every_specimen_2ddoc_zxing_decodes_is_decoded_typed_and_verified(row):
    from intake.extractors.twoddoc.parse import normalise_text, parse_2ddoc

    # Given a public 2D-Doc specimen (a code alone, or on its page) that zxing-cpp decodes as given
    path = FOLDER / row["file"]
    got = bench.read_with_intake(path)
    truth = normalise_text(row["twoddoc"])
    decoded = [normalise_text(t) for t in bench.zxing_as_given(path, got["images"])]
    if not any(t.split("\x1f")[0] == truth.split("\x1f")[0] for t in decoded):
        pytest.skip("zxing-cpp does not decode this file as given")
    expected_type = parse_2ddoc(truth).doc_type
    # When the file is read: then its 2D-Doc is reported with its type, signed by the ANTS test authority
    codes = [c for c in got["codes"] if c.get("type") == expected_type]
    assert codes and codes[0]["signature_valid"] is True
    # and a code of an address type makes the upload a proof of address, never an unreadable page
    if expected_type in ("00", "01", "02", "04", "28"):
        assert [d.kind for d in got["documents"]] == ["proof_of_address"]
        assert not any(p.unreadable for p in got["pages"])
