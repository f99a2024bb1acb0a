"""Fail safe: a date no piece can carry later than the day it is checked.

A bill is issued, a photo taken, a certificate signed before the dossier is checked. Read later than
the reference date, such a date is a misread (2028 read for 2025 on a shaken photo), and one that
makes a stale bill or an old photo look fresh: it is never taken as read, however confident the
reader was, and the message says why.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from test_verdict_builders import R, complete_pieces, declared, flat

from intake.validators.key_fields import key_field_gaps, well_read
from intake.validators.verdict import judge


@pytest.mark.parametrize("kind, name", [("proof_of_address", "issue_date"), ("photo_code", "photo_date")])
def test_a_date_read_after_the_reference_date_sends_the_dossier_to_a_person(kind, name):
    # Given a complete dossier whose piece of `kind` has its date read, with confidence and twice
    # alike, as a day after the reference date (a stale date misread as a future one)
    decl = declared(applicant_birth_date="2008-12-01", legal_representative={
        "surname": "Dupont", "given_names": ["Marc"], "birth_date": "1975-06-30"})
    docs = flat(complete_pieces(decl))
    assert judge(decl, docs, [], R).status == "complete"  # the dossier as read is complete
    target = next(d for d in docs if d.kind == kind)
    target.fields[name] = (R + timedelta(days=400)).isoformat()
    # When judged
    v = judge(decl, docs, [], R)
    # Then it is not complete: a person reads the date, told it is later than the check
    assert v.status == "needs_review"
    finding = next(f for f in v.findings if f.code == "key_field_unread" and f.file == target.file)
    assert finding.severity == "review"
    assert "postérieure à la date du contrôle" in finding.message


def test_a_date_of_the_reference_day_itself_is_taken_as_read():
    # Given a bill issued on the very day the dossier is checked, read with confidence
    decl = declared()
    docs = flat(complete_pieces(decl))
    bill = next(d for d in docs if d.kind == "proof_of_address")
    bill.fields["issue_date"] = R.isoformat()
    # When its key fields are weighed against the reference date
    gaps = key_field_gaps(bill.kind, bill.fields, bill.evidence, R)
    # Then nothing is in doubt, and the dossier is complete
    assert not gaps
    assert judge(decl, docs, [], R).status == "complete"


def test_only_issue_and_photo_dates_are_bounded_by_the_reference_date():
    # Given an identity card whose expiry lies years after the reference date (as it should)
    decl = declared()
    card = next(d for d in flat(complete_pieces(decl)) if d.kind in ("identity_card", "passport"))
    later = (R + timedelta(days=3000)).isoformat()
    card.fields["expiry_date"] = later
    # When asked whether its values are read well against the reference date
    # Then the future expiry is a value like any other
    assert well_read(card.fields, card.evidence, "expiry_date", R)


def test_an_expiry_more_than_ten_years_after_the_check_is_a_misread_even_under_check_digits():
    # Given a complete dossier whose identity card's MRZ expiry, its check digits holding, reads
    # more than ten years after the reference date (2034-03-03 read 2054-05-05: the same digit
    # misread the same way three times cancels out in the check digits)
    from intake.validators.dates import add_years

    decl = declared()
    docs = flat(complete_pieces(decl))
    card = next(d for d in docs if d.kind in ("identity_card", "passport"))
    card.fields["expiry_date"] = add_years(R, 10).isoformat()
    assert judge(decl, docs, [], R).status == "complete"  # ten years to the day: possible
    card.fields["expiry_date"] = (add_years(R, 10) + timedelta(days=1)).isoformat()
    card.evidence.setdefault("fields", {})["expiry_date"] = {"confidence": 0.85, "reader": "mrz",
                                                             "protected": "check_digit", "readings": 1}
    # When judged
    v = judge(decl, docs, [], R)
    # Then a person reads the expiry, told no document is valid that long
    assert v.status == "needs_review"
    finding = next(f for f in v.findings if f.code == "key_field_unread" and f.file == card.file)
    assert "plus de 10 ans" in finding.message
