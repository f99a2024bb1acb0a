"""Fail safe (issue #15): `complete` only on evidence, `blocking` only on confident evidence.

- A piece whose key value cannot be read (hidden by a thumb, correction fluid, a fold) never lets a
  dossier be complete: checked with the real reader on generated pieces, every key value of every
  piece of complete dossiers covered in turn.
- A single reading slip (one character substituted in a value no check digit or signature protects)
  never refuses a dossier: checked on the rules with every such value of complete dossiers.
"""

from __future__ import annotations

import random
import string
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_verdict_builders import (
    R,
    complete_pieces,
    declared,
    flat,
    identity,
    once_with_doubt,
    photo,
    read_well,
)

from intake.documents import IDENTITY_KINDS, Document, Finding
from intake.dossier import parse_declared
from intake.validators.key_fields import KEY_FIELDS, alternatives, key_field_gaps, one_slip_from_valid_code
from intake.validators.verdict import judge

# --- the rules: a key value missing or doubtful ---------------------------------------------------


@pytest.mark.parametrize("kind", sorted(KEY_FIELDS))
def test_a_piece_missing_any_key_value_does_not_meet_its_requirement(kind):
    # Given a complete dossier in which the piece of `kind` loses, in turn, each of its key values
    decl = declared(applicant_birth_date="2008-12-01", legal_representative={
        "surname": "Dupont", "given_names": ["Marc"], "birth_date": "1975-06-30"})
    checked = 0
    for entry in KEY_FIELDS[kind]:
        names = [n for way in alternatives(entry) for n in way]  # every way of meeting the entry lost
        pieces = complete_pieces(decl)
        docs = flat(pieces)
        target = next((d for d in docs if d.kind == kind), None)
        if target is None:
            continue
        for name in names:
            target.fields.pop(name, None)
        # When judged
        v = judge(decl, docs, [], R)
        # Then the dossier is not complete, and a review finding names the piece
        assert v.status != "complete", (kind, names)
        assert any(f.severity == "review" and f.file == target.file for f in v.findings), (kind, names)
        checked += 1
    assert checked or kind not in {d.kind for d in flat(complete_pieces(decl))}


def test_a_key_value_read_with_low_confidence_sends_the_dossier_to_a_person():
    # Given a complete dossier whose e-photo code was read, but with a low confidence
    decl = declared()
    docs = flat(complete_pieces(decl))
    sheet = next(d for d in docs if d.kind == "photo_code")
    once_with_doubt(sheet, "code", confidence=0.2)
    # When judged
    v = judge(decl, docs, [], R)
    # Then it needs review, with a French message naming the doubtful value
    assert v.status == "needs_review"
    finding = next(f for f in v.findings if f.code == "key_field_unread")
    assert "le code e-photo" in finding.message and finding.severity == "review"


def test_a_piece_with_no_evidence_at_all_meets_nothing():
    # Given a complete dossier whose bill has the right values but no evidence (nothing says they were read)
    decl = declared()
    docs = flat(complete_pieces(decl))
    bill = next(d for d in docs if d.kind == "proof_of_address")
    bill.evidence = {}
    # When judged, then it is not complete
    assert judge(decl, docs, [], R).status == "needs_review"


def test_a_refusal_on_a_value_read_once_becomes_a_review_and_read_twice_stays_a_refusal():
    # Given a dossier whose bill is 9 months old
    decl = declared()
    docs = flat(complete_pieces(decl))
    bill = next(d for d in docs if d.kind == "proof_of_address")
    bill.fields["issue_date"] = "2026-02-20"
    # When its date was read twice the same way, then the dossier is refused
    v = judge(decl, docs, [], R)
    assert v.status == "incomplete" and any(f.code == "proof_of_address_too_old" and f.severity == "blocking"
                                            for f in v.findings)
    # When the same date was read only once, then a person checks it before the school is told
    once_with_doubt(bill, "issue_date")
    v = judge(decl, docs, [], R)
    too_old = next(f for f in v.findings if f.code == "proof_of_address_too_old")
    assert v.status == "needs_review" and too_old.severity == "review"
    assert "seconde lecture" in too_old.message


def test_an_mrz_birth_date_under_its_check_digit_still_refuses():
    # Given an identity card whose MRZ birth date (check digit holds) differs from the declared one
    decl = declared()
    docs = flat(complete_pieces(decl))
    card = next(d for d in docs if d.kind in IDENTITY_KINDS)
    card.fields["birth_date"] = "1961-07-07"
    # When judged, then it is refused: the check digit vouches for the reading
    v = judge(decl, docs, [], R)
    assert any(f.code == "identity_birth_date_mismatch" and f.severity == "blocking" for f in v.findings)


# --- the rules: one slip never refuses ------------------------------------------------------------

SITUATIONS = st.sampled_from([
    {}, {"applicant_birth_date": "2008-12-01", "legal_representative": {"surname": "Dupont",
                                                                        "given_names": ["Marc"],
                                                                        "birth_date": "1975-06-30"}},
    {"applicant_birth_date": "2005-06-01"}, {"hosted": True, "host": {"surname": "Martin",
                                                                      "given_names": ["Claire"],
                                                                      "birth_date": "1970-02-03"}},
    {"procedure": "titre_formation", "training": "B96", "categories": ["B"]},
    {"motif": "extension", "categories": ["C"]},
])
SUBSTITUTES = string.ascii_uppercase + string.digits + " -'/."


def _unprotected(doc: Document) -> list[str]:
    out = []
    for name, value in doc.fields.items():
        ev = (doc.evidence.get("fields") or {}).get(name) or {}
        if ev.get("protected") or not isinstance(value, str) or not value:
            continue
        out.append(name)
    return out


@settings(max_examples=300, deadline=None)
@given(SITUATIONS, st.data())
def test_one_character_substituted_in_an_unprotected_value_never_refuses(situation, data):
    # Given a complete dossier
    decl = declared(**situation)
    docs = flat(complete_pieces(decl))
    assert judge(decl, docs, [], R).status == "complete"
    # And one value that no check digit or signature protects, read once with one character wrong
    choices = [(i, name) for i, d in enumerate(docs) for name in _unprotected(d)]
    i, name = data.draw(st.sampled_from(choices))
    value = docs[i].fields[name]
    at = data.draw(st.integers(0, len(value) - 1))
    new = data.draw(st.sampled_from([c for c in SUBSTITUTES if c != value[at]]))
    docs[i].fields[name] = value[:at] + new + value[at + 1:]
    once_with_doubt(docs[i], name)
    # When judged
    v = judge(decl, docs, [], R)
    # Then nothing refuses the dossier on that slip
    blocking = [(f.code, f.file) for f in v.findings if f.severity == "blocking"]
    assert not blocking, (docs[i].kind, name, docs[i].fields[name], blocking)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=string.ascii_uppercase + string.digits, min_size=22, max_size=22), st.data())
def test_a_photo_code_one_slip_from_a_valid_one_is_never_ground_for_a_refusal(code, data):
    # Given a valid code read with one character wrong, added or lost
    at = data.draw(st.integers(0, 21))
    other = data.draw(st.sampled_from(string.ascii_uppercase + string.digits + "|-.'/"))
    slipped = data.draw(st.sampled_from([code[:at] + other + code[at + 1:], code[:at] + other + code[at:],
                                         code[:at] + code[at + 1:]]))
    # Then the reader's rule says a slip explains it
    assert one_slip_from_valid_code(slipped)


def test_a_photo_code_three_characters_short_is_no_slip():
    assert not one_slip_from_valid_code("AB12CD34EF56GH78IJ9")


# --- the reader: a hidden key value never gives `complete` (real tesseract) -------------------------

dossiers = pytest.importorskip("fixtures.dossiers")


def _perfect(spec, k: int) -> Document:
    evidence = {}
    if spec.kind in IDENTITY_KINDS and spec.mrz:
        evidence = {"issuing_state": spec.mrz[0][2:5].replace("<", ""),
                    "names_protected": spec.fields.get("mrz_format") == "fr_cni_2x36"}
    return read_well(Document(f"piece{k}.png", 1, spec.kind, 0.9, dict(spec.fields), evidence=evidence))


def _cover_cases():
    cases = []
    for case, seed in (("complete_adult", 31), ("complete_young", 32), ("hosted_ok", 33)):
        plan = dossiers.make_plan(case, random.Random(f"failsafe-{seed}"), date(2026, 6, 1), f"AE-FS-{seed}")
        for k, piece in enumerate(plan.pieces):
            spec = piece.specimen
            if spec.kind in IDENTITY_KINDS:
                groups = [("mrz",)]
            else:
                groups = [tuple(n for way in alternatives(e) for n in way) for e in KEY_FIELDS.get(spec.kind, ())]
                groups = [g for g in groups if all(n in spec.boxes for n in g)]
            for group in groups:
                cases.append(pytest.param(case, seed, k, group, id=f"{case}-{spec.label}-{'+'.join(group)}"))
    return cases


@pytest.mark.parametrize("case,seed,k,group", _cover_cases())
def test_covering_a_key_value_of_a_complete_dossier_never_gives_complete(tmp_path, data_dir, case, seed, k, group):
    from fixtures.corpus import _save, _scan_pages
    from fixtures.occlude import hide
    from intake.pipeline import read_file

    # Given a complete dossier, and one of its pieces with a key value covered by correction fluid
    plan = dossiers.make_plan(case, random.Random(f"failsafe-{seed}"), date(2026, 6, 1), f"AE-FS-{seed}")
    rng = random.Random(f"cover-{seed}-{k}-{group}")
    spec = plan.pieces[k].specimen
    covered = spec
    for name in group:
        covered = hide(covered, name, "correction_fluid", rng)
    path = tmp_path / ("piece.pdf" if len(covered.pages) > 1 else "piece.png")
    _save(_scan_pages(covered, "clean", rng), path, path.suffix[1:], 85)
    # When that piece is read by the real reader and judged with the dossier's other pieces
    read = read_file(path, path.name)
    others = [_perfect(p.specimen, j) for j, p in enumerate(plan.pieces) if j != k]
    decl = parse_declared(plan.declared)
    v = judge(decl, read.documents + others, list(read.findings), plan.reference)
    # Then the dossier is not said complete
    assert v.status != "complete", [(d.kind, d.fields) for d in read.documents]
    # And nothing refuses it on what was not read
    assert all(f.severity != "blocking" or f.code == "missing_piece" for f in v.findings), \
        [(f.code, f.severity) for f in v.findings]


def test_the_same_pieces_uncovered_give_complete(tmp_path, data_dir):
    from fixtures.corpus import _save, _scan_pages
    from intake.pipeline import read_file

    # Given the first complete dossier above, read without anything covered (the control)
    plan = dossiers.make_plan("complete_adult", random.Random("failsafe-31"), date(2026, 6, 1), "AE-FS-31")
    docs: list[Document] = []
    findings: list[Finding] = []
    for k, piece in enumerate(plan.pieces):
        rng = random.Random(f"plain-{k}")
        path = tmp_path / (f"piece{k}.pdf" if len(piece.specimen.pages) > 1 else f"piece{k}.png")
        _save(_scan_pages(piece.specimen, "clean", rng), path, path.suffix[1:], 85)
        read = read_file(path, path.name)
        docs += read.documents
        findings += read.findings
    # When judged, then it is complete: the covered cases fail for what was covered, nothing else
    v = judge(parse_declared(plan.declared), docs, findings, plan.reference)
    assert v.status == "complete", [(f.code, f.message) for f in v.findings]
    assert all(not key_field_gaps(d.kind, d.fields, d.evidence) for d in docs)


def test_photo_code_of_23_characters_read_twice_is_a_review_not_a_refusal(tmp_path, data_dir):
    from fixtures import specimens as sp
    from fixtures.corpus import _save, _scan_pages
    from intake.pipeline import read_file

    # Given an e-photo sheet printing a good code with one stray character in front of it
    rng = random.Random("stray")
    code = "Q" + sp.ephoto_code(rng)
    sheet = sp.ephoto_sheet(rng, date(2026, 5, 1), code=code)
    path = tmp_path / "sheet.png"
    _save(_scan_pages(sheet, "clean", rng), path, "png", 85)
    # When read
    read = read_file(path, path.name)
    # Then the invalid code is reported for a person to check, never as a refusal
    invalid = [f for f in read.findings if f.code == "photo_code_invalid"]
    assert invalid and all(f.severity == "review" for f in invalid)
    # And a sheet whose code is plainly short (19 characters) is still refused
    short = sp.ephoto_sheet(rng, date(2026, 5, 1), code=sp.ephoto_code(rng)[:19])
    path2 = tmp_path / "short.png"
    _save(_scan_pages(short, "clean", rng), path2, "png", 85)
    invalid = [f for f in read_file(path2, path2.name).findings if f.code == "photo_code_invalid"]
    assert invalid and invalid[0].severity == "blocking"


def test_a_bill_name_cut_at_the_postal_width_is_a_review_not_a_refusal():
    # Given a bill whose name line was cut at 38 characters in the middle of a compound surname
    decl = declared(applicant_surname="Delacroix Montaigne", applicant_given_names=["Claire"])
    docs = flat(complete_pieces(decl))
    bill = next(d for d in docs if d.kind == "proof_of_address")
    bill.fields["holder_name"] = "MME CLAIRE-ANTOINETTE DELACROIX MONTAIG"
    # When judged, then a person checks the name: no refusal
    v = judge(decl, docs, [], R)
    names = [f for f in v.findings if f.code == "proof_of_address_name_mismatch"]
    assert names and all(f.severity == "review" for f in names)


def test_the_identity_builders_read_well():
    # the builders give what a clean page's reader gives: no key value missing or doubtful
    decl = declared()
    for doc in (identity(decl), photo()):
        assert not key_field_gaps(doc.kind, doc.fields, doc.evidence)


def test_given_names_the_mrz_had_no_room_for_are_not_a_missing_key_value():
    from types import SimpleNamespace

    from intake.extractors.evidence import mrz_names_full

    # Given a TD1 card whose surname fills the whole name line of the MRZ (no given names fit)
    full = SimpleNamespace(format="td1", lines=["I" * 30, "0" * 30, "PEREZ<DE<CASTRO<VILLENEUVE<D<A"])
    roomy = SimpleNamespace(format="td1", lines=["I" * 30, "0" * 30, "DUPONT<<JEAN<<<<<<<<<<<<<<<<<<"])
    assert mrz_names_full(full) and not mrz_names_full(roomy)
    # When the card's given names are empty, then only the full name field excuses them
    decl = declared()
    card = identity(decl, given_names=[])
    card.fields.pop("given_names", None)
    assert key_field_gaps(card.kind, card.fields, card.evidence).missing == ("given_names",)
    card.evidence["mrz_names_full"] = True
    assert not key_field_gaps(card.kind, card.fields, card.evidence)


def test_a_piece_missing_beside_a_page_nobody_recognised_is_a_review_not_a_refusal():
    # Given a dossier without its e-photo sheet
    decl = declared()
    docs = flat(complete_pieces(decl), without="photo_code")
    # When it has no other page, then the missing piece is a refusal
    v = judge(decl, docs, [], R)
    assert any(f.code == "missing_piece" and f.severity == "blocking" for f in v.findings)
    # When a page of it could not be recognised, then it may be the sheet: a person looks first
    unknown = Finding("unknown_piece", "document non reconnu", file="scan9.jpg", page=1)
    v = judge(decl, docs, [unknown], R)
    missing = next(f for f in v.findings if f.code == "missing_piece")
    assert v.status == "needs_review" and missing.severity == "review" and "scan9.jpg" in missing.message
    # And a blank sheet hides nothing: the refusal stands
    blank = Finding("unreadable_piece", "page blanche", file="blank.jpg", page=1, details={"reason": "page blanche"})
    assert judge(decl, docs, [blank], R).status == "incomplete"


def test_a_bill_holder_read_as_one_label_word_is_no_ground_for_a_refusal():
    # Given a rent receipt whose holder was read (twice) as the word printed where the tenant's name
    # was expected on another layout
    decl = declared()
    docs = flat(complete_pieces(decl))
    bill = next(d for d in docs if d.kind == "proof_of_address")
    bill.fields["holder_name"] = "BAILLEUR"
    # When judged, then a person checks the name
    v = judge(decl, docs, [], R)
    names = [f for f in v.findings if f.code == "proof_of_address_name_mismatch"]
    assert names and all(f.severity == "review" for f in names) and v.status == "needs_review"
    # And a full other name read twice is still refused
    bill.fields["holder_name"] = "MME ALICE BERTRAND"
    assert judge(decl, docs, [], R).status == "incomplete"


def test_a_doubtful_key_value_read_twice_the_same_way_meets_its_requirement():
    # Given a complete dossier whose bill date was read with doubt (0.3)
    decl = declared()
    docs = flat(complete_pieces(decl))
    bill = next(d for d in docs if d.kind == "proof_of_address")
    once_with_doubt(bill, "issue_date", confidence=0.3)
    # When it was read only once, then a person checks it
    assert judge(decl, docs, [], R).status == "needs_review"
    # When a second reading of its box gave the same date, then the doubt is settled
    bill.evidence["fields"]["issue_date"]["readings"] = 2
    assert judge(decl, docs, [], R).status == "complete"
    # But garbage read twice the same way settles nothing
    bill.evidence["fields"]["issue_date"]["confidence"] = 0.1
    assert judge(decl, docs, [], R).status == "needs_review"


def test_a_protected_name_one_letter_off_is_a_review_a_plainly_other_name_a_refusal():
    # Given a laminated CNI (names under the MRZ's final check digit) read one letter off
    decl = declared()
    docs = flat(complete_pieces(decl))
    i = next(k for k, d in enumerate(docs) if d.kind == "identity_card")
    docs[i] = identity(decl, document_number="110375123456", mrz_format="fr_cni_2x36", expiry_date=None,
                       surname="DUPOMT")
    # When judged, then a person checks it: the reader may have let the check digit pick the slip
    v = judge(decl, docs, [], R)
    assert [f.severity for f in v.findings if f.code == "identity_name_mismatch"] == ["review"]
    # And a plainly different surname under the check digit is still refused
    docs[i] = identity(decl, document_number="110375123456", mrz_format="fr_cni_2x36", expiry_date=None,
                       surname="BERTRAND")
    v = judge(decl, docs, [], R)
    assert [f.severity for f in v.findings if f.code == "identity_name_mismatch"] == ["blocking"]
