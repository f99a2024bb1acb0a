"""Dates of French documents: every printed form, found by their labels, never a due date or a period."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intake.extractors.dates import DateParseError, find_dates, parse_date, pick


@pytest.mark.parametrize(
    "printed",
    ["12/03/2026", "12.03.2026", "12-03-2026", "12 mars 2026", "12 MARS 2026", "12 Mars 2026", "12/03/26",
     "12 / 03 / 2026"],
)
def test_every_french_form_of_the_same_day_is_read(printed):
    # Given a bill dated in one of the French forms, When its dates are found, Then the issue date is 12 March 2026
    chosen = pick(find_dates(f"Facture du {printed}"))
    assert chosen is not None and chosen.date == date(2026, 3, 12)


@pytest.mark.parametrize(
    "printed, expected",
    [("1er mars 2026", date(2026, 3, 1)), ("3 févr. 2026", date(2026, 2, 3)), ("3 fevrier 2026", date(2026, 2, 3)),
     ("15 août 2025", date(2025, 8, 15)), ("15 aout 2025", date(2025, 8, 15)), ("2 DÉCEMBRE 2025", date(2025, 12, 2)),
     ("7 janv 2026", date(2026, 1, 7))],
)
def test_written_months_with_abbreviations_and_ordinals(printed, expected):
    assert parse_date(printed) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Facture du 12/03/2026", date(2026, 3, 12)),
        ("Date d'émission : 05.01.2026", date(2026, 1, 5)),
        ("Émise le 4 février 2026", date(2026, 2, 4)),
        ("Date de mise en recouvrement : 31/07/2025", date(2025, 7, 31)),
        ("Fait à Saint-Étienne, le 1er mars 2026", date(2026, 3, 1)),
        ("Paris, le 3 mars 2026", date(2026, 3, 3)),
        ("Facture n° 0012345678 du 5 janvier 2026", date(2026, 1, 5)),
        ("Date d’établissement : 08/07/2025", date(2025, 7, 8)),
    ],
)
def test_issue_date_found_by_its_label(text, expected):
    # Given the labels real bills, tax notices and attestations print
    chosen = pick(find_dates(text), "issue")
    # Then the date after the label is the issue date
    assert chosen is not None and chosen.date == expected


def test_due_date_and_period_bounds_are_never_the_issue_date():
    # Given a bill with a period, a due date and a direct debit date before its issue date
    text = ("Période de consommation du 01/01/2026 au 31/01/2026\n"
            "Montant à payer avant le 28/02/2026\n"
            "Prélevé le 02/03/2026\n"
            "Facture du 10 février 2026\n")
    candidates = find_dates(text)
    # Then only the labelled issue date is used, and every date is kept for the reviewer
    assert pick(candidates, "issue").date == date(2026, 2, 10)
    assert [c.role for c in candidates] == ["period", "period", "due", "due", "issue"]


def test_a_bill_with_only_a_due_date_has_no_issue_date():
    assert pick(find_dates("Date limite de paiement : 15/09/2025\nÉchéance 20/09/2025")) is None


def test_a_period_without_label_is_not_taken():
    assert pick(find_dates("du 01/02/2026 au 28/02/2026")) is None


def test_numbers_that_look_like_dates_are_not_dates():
    # Given a phone number, a reference and an impossible day
    text = "Tél. 01.02.03.04.05  Réf. 12-03-2026-45  N° 31/02/2026  Contrat 2026/03/12"
    # Then no date is found
    assert find_dates(text) == []


def test_birth_date_is_told_apart():
    candidates = find_dates("Né(e) le 12/04/2005 à Lyon\nDélivrée le 3 mai 2024")
    assert pick(candidates, "birth").date == date(2005, 4, 12)
    assert pick(candidates, "issue").date == date(2024, 5, 3)


def test_candidates_keep_their_label_for_the_reviewer():
    (c,) = find_dates("Date d'émission : 12/03/2026")
    ev = c.to_evidence(used=True)
    assert ev == {"label": "date d'emission", "text": "12/03/2026", "date": "2026-03-12", "role": "issue", "used": True}


def test_label_on_the_line_above_the_date():
    # Given a table where the label is printed above its value
    chosen = pick(find_dates("Date de facture\n12/03/2026"))
    assert chosen is not None and chosen.date == date(2026, 3, 12)


@pytest.mark.parametrize("bad", ["", "hello", "31/02/2026", "12/03/2026 et 13/03/2026", "le 12/03/2026 à 14h"])
def test_parse_date_raises_its_documented_error(bad):
    with pytest.raises(DateParseError):
        parse_date(bad)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_find_dates_never_raises_on_any_text(text):
    candidates = find_dates(text)
    assert isinstance(candidates, list)
    for c in candidates:
        assert isinstance(c.date, date) and text[c.start:c.end] == c.text


date_like = st.builds(
    lambda d, m, y, sep, pre, post: f"{pre}{d}{sep}{m}{sep}{y}{post}",
    st.integers(-5, 40), st.integers(-2, 15), st.integers(0, 3000), st.sampled_from(["/", ".", "-", " ", ""]),
    st.text(max_size=8), st.text(max_size=8),
)


@settings(max_examples=300, deadline=None)
@given(date_like)
def test_parse_date_returns_a_date_or_its_documented_error(text):
    try:
        assert isinstance(parse_date(text), date)
    except DateParseError:
        pass


def test_a_labelled_date_whose_slashes_were_read_as_ones_is_still_the_date():
    # Given a tax notice line where OCR read "22/12/2025" as "2211212025", and a reference number
    # of the same shape with no date label
    text = ("Date de mise en recouvrement 2211212025\nDate limite de paiement 06/02/2026\n"
            "Référence 0311012024\nFacture du 03l09l2026")
    found = find_dates(text)
    # When the dates are found, Then the labelled ones are read, with their role
    assert [(c.date.isoformat(), c.role) for c in found] == [
        ("2025-12-22", "issue"), ("2026-02-06", "due"), ("2026-09-03", "issue")]
    # and the bare number is no date
    assert not any(c.text == "0311012024" for c in found)


@pytest.mark.parametrize("text,role,expected", [
    ("Le samedi 3 octobre 2026 à 12:33", "issue", date(2026, 10, 3)),
    ("Photo réalisée le sam. 3 oct. 2026", "photo", date(2026, 10, 3)),
    ("Prise de vue le 03/10/26 à 9h39", "photo", date(2026, 10, 3)),
    ("Date de prise de vue : 03-10-2026", "photo", date(2026, 10, 3)),
])
def test_a_weekday_or_a_short_year_keeps_the_label_of_the_date(text, role, expected):
    # Given an e-photo sheet's date line with a weekday, or a two-digit year and an hour
    # When its dates are found
    chosen = pick(find_dates(text), role)
    # Then the date is found with the role its label gives
    assert chosen is not None and chosen.date == expected


def test_an_issue_label_read_with_a_few_letters_wrong_still_labels_the_issue_date():
    from intake.extractors.dates import find_dates, pick

    # Given a tax notice photographed with a phone, whose labels tesseract read with letters wrong
    text = ("AVIS D'IMPOSITION 2025\nDate d'éiblisement 09/12/2025\n"
            "Date de intsy en recouvrement 09/12/2025\nDate limite de paiement 21/01/2026\n")
    # When its dates are found
    issue = pick(find_dates(text), "issue")
    # Then the date under the misread "Date d'établissement" is the issue date, the due date is not
    assert issue is not None and issue.date.isoformat() == "2025-12-09"


def test_an_emise_le_label_as_a_phone_photo_is_read_still_labels_the_issue_date():
    from intake.extractors.dates import find_dates

    # Given "Émise le" as tesseract reads it on phone photos: its É lost, "le" read "lo", a colon
    # for its e (family-2 seeds 120 and 125)
    for text in ("mise lo 19 août 2026", "Emise lo 19 août 2026", "Émis: Le 19 août 2026", "mise le 19 août 2026"):
        # When its date is found, Then it is an issue date under a label, not a bare "le"
        (found,) = find_dates(text)
        assert (found.role, found.date.isoformat()) == ("issue", "2026-08-19"), text
        assert found.label != "le" and found.priority > 3, text
    # And a debit's "prélevé le" keeps its role
    assert [c.role for c in find_dates("Montant prélevé le 19/08/2026")] == ["due"]


def test_juin_read_without_its_i_is_still_june():
    from intake.extractors.dates import find_dates

    # Given an ASSR photographed blurred, its "8 juin 2023" read "8 jun 2023" (family-2 seed 120)
    # When its dates are found, Then the date is the 8th of June
    assert [c.date.isoformat() for c in find_dates("a obtenu l'ASSR de second niveau le 8 jun 2023")] == ["2023-06-08"]


def test_labels_of_other_dates_are_not_taken_for_a_misread_issue_label():
    from intake.extractors.dates import find_dates

    # Given dates under labels that begin like an issue label but name another date
    text = ("Date d'effet 01/01/2026\nDate de mise en service 02/01/2026\nDate de naissunce 03/04/1990\n"
            "Date de début 04/01/2026\nDate de résiliation 05/01/2026\n")
    # When its dates are found, Then none of them is an issue date
    assert [c.role for c in find_dates(text)] == ["other"] * 5


def test_a_misread_label_gives_way_to_a_label_read_right():
    from intake.extractors.dates import find_dates, pick

    # Given a bill with its issue date under a label read right, and another under a misread one
    text = "Date d'envol 02/01/2026\nFacture du 15/01/2026\n"
    # Then the label read right decides
    assert pick(find_dates(text), "issue").date.isoformat() == "2026-01-15"


def test_a_date_read_before_its_label_takes_the_label_of_the_next_line():
    from intake.extractors.dates import find_dates, pick

    # Given a tilted photo of a bill whose "Votre facture du 16 juil. 2026" tesseract gave value
    # first, the label alone on the next line
    text = "16 juil. 2026\nvotre facture du\nRéf. 3727- 748324\nÀ régler avant le 2 août 2026\n"
    # When its dates are found, Then the first is the issue date, the due date keeps its role
    found = find_dates(text)
    assert pick(found, "issue").date.isoformat() == "2026-07-16"
    assert [c.role for c in found] == ["issue", "due"]


def test_a_date_alone_is_not_given_the_label_of_a_line_that_has_its_own_date():
    from intake.extractors.dates import find_dates

    # Given a date alone on its line, then a labelled line carrying its own date
    text = "12/03/2026\nFacture du 15/01/2026\n"
    # Then the lone date stays unlabelled
    assert [c.role for c in find_dates(text)] == ["other", "issue"]
