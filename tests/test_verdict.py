"""judge(): holders, one clear finding per problem, and never `complete` for a dossier that is not."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_verdict_builders import (
    R,
    add_years,
    bill,
    certificate,
    codes,
    complete_pieces,
    declared,
    flat,
    identity,
    photo,
)

from intake.documents import Document, Finding
from intake.validators.verdict import judge

HOST = {"surname": "Martin", "given_names": ["Claire"], "birth_date": "1970-02-03"}
REP = {"surname": "Dupont", "given_names": ["Marc"], "birth_date": "1975-06-30"}


def _complete(**over):
    decl = declared(**over)
    return decl, complete_pieces(decl)


# --- the guard: never complete when a requirement is unmet ------------------------------------------

SITUATIONS = st.fixed_dictionaries({
    "applicant_birth_date": st.sampled_from(["2010-03-01", "2008-12-01", "2007-06-01", "2004-01-15", "1990-05-05",
                                             "1985-01-01"]),
    "applicant_nationality": st.sampled_from(["FRA", "FRA", "DEU", "DZA"]),
    "hosted": st.booleans(),
    "under_guardianship": st.booleans(),
    "medical_condition": st.booleans(),
    "flow": st.sampled_from([("inscription", "primo", None, ["B"]), ("titre_reussite", "primo", None, ["B"]),
                             ("inscription", "extension", None, ["C"]), ("inscription", "retour", None, ["B"]),
                             ("titre_formation", "primo", "AM", ["AM"]), ("titre_formation", "primo", "B96", ["B"])]),
})

SPOILERS = {
    "expire": lambda d: d.fields.update(expiry_date=(R - timedelta(days=4000)).isoformat()),
    "old": lambda d: d.fields.update(issue_date=(R - timedelta(days=3000)).isoformat(),
                                     photo_date=(R - timedelta(days=3000)).isoformat()),
    "rename": lambda d: d.fields.update(surname="BERTRAND", holder_name="MME ALICE BERTRAND"),
    "reborn": lambda d: d.fields.update(birth_date="1961-07-07"),
    "undated": lambda d: [d.fields.pop(k, None) for k in ("issue_date", "expiry_date")],
}


@settings(max_examples=120, deadline=None)
@given(SITUATIONS, st.data())
def test_never_complete_when_a_requirement_is_unmet(situation, data):
    # Given any declared situation and its complete set of pieces, some dropped and some spoiled
    flow = situation.pop("flow")
    over = {**situation, "procedure": flow[0], "motif": flow[1], "training": flow[2], "categories": flow[3]}
    if over["hosted"]:
        over["host"] = HOST
    if data.draw(st.booleans()):
        over["legal_representative"] = REP
    decl = declared(**over)
    docs = flat(complete_pieces(decl))
    docs = [d for d in docs if not data.draw(st.booleans().map(lambda b: b and len(docs) > 1), label="drop")]
    for d in docs:
        spoil = data.draw(st.sampled_from([None, None, None, *SPOILERS]), label="spoil")
        if spoil:
            SPOILERS[spoil](d)
    # When judged
    v = judge(decl, docs, [], R)
    # Then complete means every needed requirement is met and nothing asks for action
    unmet = [s.requirement for s in v.requirements if s.needed and not s.met]
    if v.status == "complete":
        assert not unmet
        assert all(f.severity == "info" for f in v.findings)
    # and every unmet requirement left a blocking or review finding
    for name in unmet:
        status = next(s for s in v.requirements if s.requirement == name)
        files = {d.file for d in status.documents}
        assert any(f.severity in ("blocking", "review") and (f.requirement == name or f.file in files)
                   for f in v.findings), name


def test_complete_dossier_is_complete_with_holders_set_on_the_same_objects():
    decl, pieces = _complete(applicant_birth_date="2008-12-01", legal_representative=REP)
    docs = flat(pieces)
    before = list(docs)
    v = judge(decl, docs, [], R)
    assert v.status == "complete" and not v.findings
    assert all(a is b for a, b in zip(v.documents, before)) and len(v.documents) == len(before)
    holders = {d.file: d.holder for d in v.documents}
    assert holders["applicant_identity_card.jpg"] == "applicant"
    assert holders["legal_representative_identity_card.jpg"] == "legal_representative"


def test_file_findings_are_kept_first_in_their_order():
    decl, pieces = _complete()
    given_findings = [Finding("unknown_piece", "Document non reconnu.", file="x.pdf", page=1),
                      Finding("duplicate_piece", "Doublon.", file="y.pdf", page=1)]
    v = judge(decl, flat(pieces), list(given_findings), R)
    assert v.findings[:2] == given_findings
    assert v.status == "needs_review"


def test_upstream_mrz_invalid_on_the_only_identity_is_review_without_missing_piece():
    decl, pieces = _complete()
    doc = pieces["identity"][0]
    v = judge(decl, flat(pieces), [Finding("mrz_invalid", "MRZ invalide.", file=doc.file, page=1)], R)
    assert v.status == "needs_review" and "missing_piece" not in codes(v)
    assert next(s for s in v.requirements if s.requirement == "identity").state == "invalid"


def test_photo_code_invalid_upstream_makes_the_photo_requirement_unmet():
    decl, pieces = _complete()
    v = judge(decl, flat(pieces), [Finding("photo_code_invalid", "Code invalide.", file="photo.jpg", page=1)], R)
    assert v.status == "incomplete" and "missing_piece" not in codes(v)


# --- identity: the applicant's document compared with what was declared -----------------------------

def test_typo_in_the_declared_surname_is_caught_on_the_only_identity():
    # Given the school typed Dupond, and the card says DUPONT (no check digit over the names)
    decl = declared(applicant_surname="Dupond")
    pieces = complete_pieces(decl)
    pieces["identity"] = [identity(decl, surname="DUPONT")]
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "identity_name_mismatch")
    # Then a person reviews it, with both names in the message; and no redundant missing piece
    assert f.severity == "review" and "DUPONT" in f.message and "Dupond" in f.message
    assert v.documents[0].holder == "applicant"
    assert "missing_piece" not in codes(v) and v.status == "needs_review"


def test_a_passport_whose_name_was_not_read_says_so_instead_of_quoting_an_empty_name():
    # Given a passport recognised by its printed page, its MRZ not read: no name, no birth date
    decl = declared()
    pieces = complete_pieces(decl)
    pieces["identity"] = [identity(decl, kind="passport", surname=None, given_names=None, birth_date=None,
                                   mrz_valid=None, mrz_format=None)]
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "identity_name_mismatch")
    # Then a person checks the name, and the message says it could not be read
    assert f.severity == "review" and v.status == "needs_review"
    assert "n'a pas pu être lu" in f.message and "«  »" not in f.message


def test_an_mrz_letter_the_reader_could_not_settle_is_settled_by_the_declared_name():
    # Given a card whose MRZ surname was read OA SILVA, with DA SILVA as the reading of its doubtful
    # first letter (no check digit covers TD1 names)
    decl = declared(applicant_surname="Da Silva")
    pieces = complete_pieces(decl)
    card = identity(decl, surname="OA SILVA")
    card.evidence["mrz_name_readings"] = [{"surname": "DA SILVA", "given_names": card.fields["given_names"]}]
    pieces["identity"] = [card]
    # Then the card is the applicant's, with no finding about the name
    v = judge(decl, flat(pieces), [], R)
    assert "identity_name_mismatch" not in codes(v) and v.status == "complete"
    # But without that reading, the name read is a mismatch for a person to review
    card.evidence.pop("mrz_name_readings")
    assert codes(judge(decl, flat(pieces), [], R))["identity_name_mismatch"] == "review"


def test_name_mismatch_is_blocking_when_a_check_digit_protects_the_names():
    # (a surname one letter off is a review even so: tests/test_failsafe.py)
    decl = declared(applicant_surname="Dupond")
    pieces = complete_pieces(decl)
    card = identity(decl, surname="DURAND", document_number="120375123456", mrz_format="fr_cni_2x36",
                    expiry_date=None)
    card.evidence["names_protected"] = True
    pieces["identity"] = [card]
    v = judge(decl, flat(pieces), [], R)
    assert codes(v)["identity_name_mismatch"] == "blocking" and v.status == "incomplete"


def test_someone_elses_passport_is_a_name_mismatch_never_complete():
    # Given a passport in another name (TD3 check digits do not cover names: CONTRACT.md says review)
    decl = declared()
    pieces = complete_pieces(decl)
    pieces["identity"] = [identity(decl, kind="passport", surname="BERTRAND", given_names=["ALICE"])]
    v = judge(decl, flat(pieces), [], R)
    assert codes(v)["identity_name_mismatch"] == "review" and "missing_piece" not in codes(v)
    assert v.status == "needs_review"


def test_birth_date_mismatch_is_blocking_with_both_dates_in_french():
    decl = declared()
    pieces = complete_pieces(decl)
    pieces["identity"] = [identity(decl, birth_date="1995-04-13")]
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "identity_birth_date_mismatch")
    assert f.severity == "blocking" and "13 avril 1995" in f.message and "12 avril 1995" in f.message


def test_sex_mismatch_is_review():
    decl = declared()
    pieces = complete_pieces(decl)
    pieces["identity"] = [identity(decl, sex="F")]
    v = judge(decl, flat(pieces), [], R)
    assert codes(v)["identity_sex_mismatch"] == "review" and v.status == "needs_review"


def test_an_expired_passport_beside_a_valid_card_is_only_information():
    decl, pieces = _complete()
    pieces["identity"].append(identity(decl, kind="passport", expiry_date=add_years(R, -7).isoformat()))
    v = judge(decl, flat(pieces), [], R)
    assert v.status == "complete"
    assert codes(v) == {"identity_expired": "info"}


def test_french_passport_expired_two_years_ago_is_tolerated():
    decl, pieces = _complete()
    pieces["identity"] = [identity(decl, kind="passport", expiry_date=add_years(R, -2).isoformat())]
    assert judge(decl, flat(pieces), [], R).status == "complete"


def test_legal_representatives_expired_card_is_blocking_for_that_requirement():
    decl, pieces = _complete(applicant_birth_date="2010-03-01", legal_representative=REP)
    pieces["legal_representative_identity"] = [
        identity(decl, "legal_representative", expiry_date=add_years(R, -6).isoformat())]
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "identity_expired")
    assert f.requirement == "legal_representative_identity" and "représentant légal" in f.message
    assert v.status == "incomplete" and "missing_piece" not in codes(v)


# --- proofs of address and hosting ------------------------------------------------------------------

def test_old_bill_beside_a_recent_one_does_not_block():
    decl, pieces = _complete()
    pieces["proof_of_address"].append(bill(decl, days=400, file="old.pdf"))
    v = judge(decl, flat(pieces), [], R)
    assert v.status == "complete" and codes(v) == {"proof_of_address_too_old": "info"}


def test_bill_in_another_name_is_blocking():
    decl, pieces = _complete()
    pieces["proof_of_address"] = [bill(decl, holder_name="M PAUL BERTRAND")]
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "proof_of_address_name_mismatch")
    assert f.severity == "blocking" and "PAUL BERTRAND" in f.message and "missing_piece" not in codes(v)


def test_bill_whose_surname_is_one_letter_off_goes_to_a_person_not_back_to_the_school():
    # Given a bill where the OCR read the surname DUPONT with one letter changed
    decl, pieces = _complete()
    pieces["proof_of_address"] = [bill(decl, holder_name="M JEAN DUPONF")]
    # When judged, Then a reviewer checks it: it is neither accepted nor refused
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "proof_of_address_name_mismatch")
    assert f.severity == "review" and v.status == "needs_review" and "DUPONF" in f.message
    # while a surname two letters off is another name, and blocks
    pieces["proof_of_address"] = [bill(decl, holder_name="M JEAN DUPUNF")]
    assert judge(decl, flat(pieces), [], R).status == "incomplete"


def test_bill_with_surname_first_and_title_is_the_applicants():
    decl, pieces = _complete()
    pieces["proof_of_address"] = [bill(decl, holder_name="MONSIEUR DUPONT JEAN")]
    assert judge(decl, flat(pieces), [], R).status == "complete"


def test_bill_at_another_address_is_review():
    decl, pieces = _complete()
    pieces["proof_of_address"] = [bill(decl, address_line="3 AVENUE JEAN JAURES", postcode="69007", city="LYON")]
    v = judge(decl, flat(pieces), [], R)
    assert codes(v) == {"proof_of_address_address_mismatch": "review"}


def test_hosted_applicant_the_hosts_bill_goes_to_the_host_and_the_applicants_own_does_not_replace_it():
    # Given a hosted applicant whose host shares the surname
    host = {"surname": "Dupont", "given_names": ["Claire"], "birth_date": "1970-02-03"}
    decl, pieces = _complete(hosted=True, host=host)
    v = judge(decl, flat(pieces), [], R)
    assert v.status == "complete"
    assert next(d for d in v.documents if d.file == "host_bill.pdf").holder == "host"
    # When the host's bill is replaced by the applicant's own
    pieces["host_proof_of_address"] = [bill(decl, "applicant", file="own.pdf")]
    v = judge(decl, flat(pieces), [], R)
    # Then the host's proof of address is missing
    assert [f.requirement for f in v.findings if f.code == "missing_piece"] == ["host_proof_of_address"]


# --- certificates -----------------------------------------------------------------------------------

def test_certificate_in_someone_elses_name_is_holder_mismatch():
    decl, pieces = _complete(applicant_birth_date="2007-06-01")
    pieces["jdc"] = [certificate(decl, "jdc", holder_name="BERTRAND ALICE", birth_date="2006-01-01")]
    v = judge(decl, flat(pieces), [], R)
    assert codes(v)["holder_mismatch"] == "review" and v.status == "needs_review"


def test_unneeded_exam_certificate_of_someone_else_is_still_reviewed():
    decl, pieces = _complete()
    extra = Document("cepc.pdf", 1, "exam_certificate", 0.9, {"holder_name": "BERTRAND ALICE"})
    v = judge(decl, flat(pieces) + [extra], [], R)
    assert codes(v) == {"holder_mismatch": "review"}


def test_certificate_of_a_namesake_parent_with_no_birth_date_is_ambiguous():
    # Given applicant and legal representative with the very same names, and a medical opinion naming them
    rep = {"surname": "Dupont", "given_names": ["Jean", "Pierre"], "birth_date": "1975-06-30"}
    decl, pieces = _complete(applicant_birth_date="2010-03-01", legal_representative=rep, medical_condition=True)
    v = judge(decl, flat(pieces), [], R)
    # Then a person decides whose it is: never complete on a guess
    assert v.status == "needs_review" and codes(v) == {"holder_mismatch": "review"}


def test_training_certificate_of_another_training_is_blocking():
    decl, pieces = _complete(procedure="titre_formation", training="B96")
    pieces["training_certificate"] = [certificate(decl, "training_certificate", training="AM")]
    v = judge(decl, flat(pieces), [], R)
    f = next(f for f in v.findings if f.code == "training_certificate_mismatch")
    assert f.severity == "blocking" and "B96" in f.message and "AM" in f.message


def test_old_medical_opinion_when_none_is_needed_is_not_judged():
    decl, pieces = _complete()
    extra = certificate(decl, "medical_opinion", days=2000)
    assert judge(decl, flat(pieces) + [extra], [], R).status == "complete"


# --- the reference date ------------------------------------------------------------------------------

@pytest.mark.parametrize("days_later, status", [(0, "complete"), (200, "incomplete")])
def test_the_reference_date_is_the_only_clock(days_later, status):
    # Given the same dossier judged on two days: a bill of 30 days becomes 230 days old
    decl, pieces = _complete()
    v = judge(decl, flat(pieces), [], R + timedelta(days=days_later))
    assert v.status == status


def test_messages_are_french_and_say_what_to_do():
    decl = declared()
    v = judge(decl, [photo()], [], R)
    missing = [f for f in v.findings if f.code == "missing_piece"]
    assert {f.requirement for f in missing} == {"identity", "proof_of_address"}
    assert all(f.message.startswith("Fournir ") and "absent du dossier" in f.message for f in missing)


def test_verdict_json_lists_requirements_with_their_documents():
    decl, pieces = _complete()
    out = judge(decl, flat(pieces), [], R).to_json()
    assert out["status"] == "complete"
    ident = next(r for r in out["requirements"] if r["requirement"] == "identity")
    assert ident["met"] is True and ident["documents"][0]["kind"] == "identity_card"


def test_an_identity_document_of_another_nationality_than_the_declared_one_is_checked_by_a_person():
    # Given a complete dossier declared French whose passport reads, with confidence, Algerian
    # (the declared nationality decides the pieces needed: a residence permit outside the EU)
    from test_verdict_builders import R, complete_pieces, declared, flat

    from intake.validators.verdict import judge

    decl = declared()
    docs = flat(complete_pieces(decl))
    assert judge(decl, docs, [], R).status == "complete"
    card = next(d for d in docs if d.kind in ("identity_card", "passport"))
    card.fields["nationality"] = "DZA"
    # When judged, Then a person checks the declared nationality
    v = judge(decl, docs, [], R)
    assert v.status == "needs_review"
    finding = next(f for f in v.findings if f.code == "identity_nationality_mismatch")
    assert finding.severity == "review" and "DZA" in finding.message and "FRA" in finding.message
    # But Germany's MRZ code D<< is DEU, and a nationality read with doubt says nothing either way
    card.fields["nationality"] = "D<<"
    german = declared(applicant_nationality="DEU")
    assert not [f for f in judge(german, docs, [], R).findings if f.code == "identity_nationality_mismatch"]
    card.fields["nationality"] = "DZA"
    card.evidence["fields"]["nationality"]["confidence"] = 0.3
    assert not [f for f in judge(decl, docs, [], R).findings if f.code == "identity_nationality_mismatch"]
