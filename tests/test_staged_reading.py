"""Reading only what is needed (issue 19), with the real tesseract: an A4 scan's kind before the MRZ
search, a certificate's top band alone when it gave every field, one page thread per usable core."""

import os
import random
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from fixtures import degrade as dg
from fixtures import specimens as S
from fixtures.degrade import to_bgr
from fixtures.people import make_person
from intake.documents import PageRead
from intake.extractors import page as page_mod
from intake.extractors.dates import find_dates
from intake.extractors.kinds.context import PageContext
from intake.extractors.ocr.page_text import prepare
from intake.extractors.page import read_page

R = date(2026, 11, 26)
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def person():
    return make_person(random.Random(7), 30, R)


@pytest.fixture
def mrz_searches(monkeypatch):
    """How many times the page reader searched a page for an MRZ (the search itself runs)."""
    calls = []
    real = page_mod._read_mrz_safely

    def counted(image, *how):
        calls.append(image.shape)
        return real(image, *how)

    monkeypatch.setattr(page_mod, "_read_mrz_safely", counted)
    return calls


def test_a_bill_scanned_on_a4_is_read_without_an_mrz_search(person, mrz_searches):
    # Given an energy bill rendered at 200 dpi (an A4 page with white margins)
    spec = S.bill(random.Random(7), person, date(2026, 9, 3))
    # When its page is read
    page = read_page(to_bgr(spec.pages[0]), 1)
    # Then its print said a proof of address surely, and no MRZ was searched for
    assert page.kind == "proof_of_address" and page.fields["issue_date"] == "2026-09-03"
    assert mrz_searches == []


def test_an_identity_card_copied_on_an_a4_page_is_still_read_from_its_mrz(person, mrz_searches):
    # Given both faces of a 2021 CNI photocopied on one A4 page at 200 dpi
    rng = random.Random(3)
    spec = S.french_cni_2021(rng, person, date(2022, 3, 14))
    front, back = (dg.resample(to_bgr(p), 300, 200) for p in spec.pages)
    sheet = dg.cards_on_a4(front, back, 200, rng)
    assert page_mod._a4_scan(page_mod.gray(sheet))
    # When the page is read
    page = read_page(sheet, 1)
    # Then its print did not surely say a bill or a certificate: the MRZ was searched and settles it
    assert mrz_searches, "the MRZ search is skipped only for a page surely of another kind"
    assert page.kind == "identity_card" and page.fields["mrz_valid"] is True
    assert page.fields["document_number"] == spec.fields["document_number"]


def test_a_jdc_whose_top_band_gives_every_field_is_not_read_further(person):
    # Given a JDC certificate (name, birth date and date of the day in the top of the page)
    spec = S.jdc(random.Random(5), person, date(2025, 3, 22))
    image = to_bgr(spec.pages[0])
    # When its page is read
    page = read_page(image, 1)
    # Then only its top band was read, and the fields are those of the page read whole
    assert page.kind == "jdc"
    assert page.evidence["ocr_coverage"] < 0.99
    whole = prepare(image)
    whole.read(0.0, page_mod.TOP_FRACTION)
    whole.read_rest()
    full = PageRead(page=1, kind="jdc")
    page_mod.READERS["jdc"](PageContext(page=full, text=whole, image=image, dates=find_dates(whole.text),
                                        address_codes=[], card=False))
    assert {k: page.fields[k] for k in page_mod.TOP_IS_ENOUGH["jdc"]} == \
        {k: full.fields[k] for k in page_mod.TOP_IS_ENOUGH["jdc"]}
    assert page.fields["holder_name"] and page.fields["birth_date"] == person.birth_date.isoformat()


def test_a_medical_opinion_is_always_read_whole(person):
    # Given a medical opinion (its date of signature, which a rule checks, is at the bottom)
    spec = S.medical_opinion(random.Random(9), person, date(2026, 10, 2), ["B"])
    # When its page is read, Then all of it was read
    page = read_page(to_bgr(spec.pages[0]), 1)
    assert page.kind == "medical_opinion" and page.evidence["ocr_coverage"] >= 0.98


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or shutil.which("taskset") is None,
                    reason="no CPU affinity on this system")
def test_the_page_threads_follow_the_cores_the_process_may_use():
    # Given a process pinned to one core (taskset), When the pipeline sizes its page pool,
    # Then it has one thread: one set of tesseract engines, not one per core of the machine
    code = "from intake.pipeline import usable_cores, _page_pool; print(usable_cores(), _page_pool()._max_workers)"
    out = subprocess.run(["taskset", "-c", "0", sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120, check=True).stdout.split()
    assert out == ["1", "1"]
