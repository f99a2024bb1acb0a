"""2D-Doc text: ANTS specimens, headers v02-v04, field layout, names and contradictions, fuzz.

Given / When / Then in the test names; the specimens are the published ones of the ANTS
specification, signed by the ANTS test authority FR00/0001 that the project ships.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.twoddoc_writer import make_2ddoc_message, sign_2ddoc
from intake.extractors.twoddoc.decode import (
    TwoDDoc,
    TwoDDocError,
    contradictions,
    parse_2ddoc,
)
from intake.extractors.twoddoc.verify import verify_2ddoc
from intake.settings import SHIPPED_CERTS

GS, RS, US = "\x1d", "\x1e", "\x1f"

# Published specimens of the ANTS 2D-Doc specification (header DC0x FR00 0001).
SPECIMEN_V02_BILL = (
    "DC02FR000001125E125B0126FR247500010MME/SPECIMEN/NATACHA\x1d22145 AVENUE DES SPECIMENS\x1d"
    "\x1f54LDD5F7JD4JEFPR6WZYVZVB2JZXPZB73SP7WUTN5N44P3GESXW75JZUZD5FM3G4URAJ6IKDSSUB66Y3OWQIEH22G46"
    "QOAGWH7YHJWQ"
)
SPECIMEN_V02_ADDRESS = (
    "DC02FR000001125E125C0026FR245700010MLLE/SAMPLE/ANGELA\x1d20\x1d21BAT 2 ETG 3\x1d23\x1d25METZ\x1d"
    "227 PLACE DES SPECIMENS\x1d\x1fZ2HSK7UZM6KPL7UL6OK7NR77GSPGPNNUYYEE4ZV75L5OCIWKVOXTV3I5AJLRSUDOIR"
    "76F75QY5Z7KLH3FACKHVF7JH3DYMRI5EIAZMI"
)
SPECIMEN_V03_ADDRESS = (
    "DC03FR000001123F1636000126FR245700010MLLE/SAMPLE/ANGELA\x1d20\x1d21BAT 2 ETG 3\x1d227 PLACE DES "
    "SPECIMENS\x1d23\x1d25METZ\x1d\x1f3HJIYP3OAJ4LIZNQXCTZMNQPTT5C2XICTEF4UGJ3NDE2CWM7HJOEEK4ACIY4CZOO5Z"
    "OFG35APDZMZQFEAEBWRZTW4CBPG35JE2FJ4EY"
)
SPECIMEN_V03_BILL = (
    "DC03FR000001123F1636010126FR247500010MME/SPECIMEN/NATACHA\x1d22145 AVENUE DES SPECIMENS\x1d"
    "\x1fFEDMPW5SO5BNZFYP7FIQUYZFV5H3OF6QERDMOBN7BZ4CC4KVJ4XWUH6EW3CSWILAGLN4XQE6AKHX6RNOI3OXVW6X3IK"
    "JASZGL62FBUQ"
)
SPECIMENS = [SPECIMEN_V02_BILL, SPECIMEN_V02_ADDRESS, SPECIMEN_V03_ADDRESS, SPECIMEN_V03_BILL]


@pytest.mark.parametrize("text", SPECIMENS)
def test_given_an_ants_specimen_when_verified_with_the_shipped_store_then_signature_is_valid(text):
    doc = parse_2ddoc(text)
    assert (doc.authority, doc.certificate) == ("FR00", "0001")
    assert verify_2ddoc(doc, SHIPPED_CERTS) is True


def test_given_a_specimen_with_one_signature_letter_changed_when_verified_then_false():
    sig_at = SPECIMEN_V02_ADDRESS.index(US) + 1
    flipped = SPECIMEN_V02_ADDRESS[: sig_at + 70] + (
        "A" if SPECIMEN_V02_ADDRESS[sig_at + 70] != "A" else "B") + SPECIMEN_V02_ADDRESS[sig_at + 71:]
    assert verify_2ddoc(parse_2ddoc(flipped), SHIPPED_CERTS) is False


def test_given_a_specimen_with_its_postcode_changed_when_verified_then_false():
    forged = SPECIMEN_V02_BILL.replace("2475000", "2475011")
    doc = parse_2ddoc(forged)
    assert doc.postcode() == "75011"
    assert verify_2ddoc(doc, SHIPPED_CERTS) is False


def test_given_the_v02_bill_specimen_when_parsed_then_header_and_fields_are_read():
    doc = parse_2ddoc(SPECIMEN_V02_BILL)
    assert doc.version == 2
    assert doc.emission_date == date(2012, 11, 15)  # 0x125E days after 2000-01-01
    assert doc.signature_date == date(2012, 11, 12)
    assert doc.doc_type == "01"
    assert doc.perimeter is None and doc.country is None
    assert doc.fields["26"] == "FR" and doc.fields["24"] == "75000"
    assert doc.holder_name() == "NATACHA SPECIMEN"
    assert doc.surname() == "SPECIMEN" and doc.given_names() == ["NATACHA"]
    assert doc.address_line() == "145 AVENUE DES SPECIMENS"
    assert doc.message == SPECIMEN_V02_BILL.split(US)[0]


def test_given_the_v03_address_specimen_when_parsed_then_empty_lines_are_skipped_in_the_address():
    doc = parse_2ddoc(SPECIMEN_V03_ADDRESS)
    assert (doc.version, doc.perimeter, doc.doc_type) == (3, "01", "00")
    assert doc.signature_date == date(2015, 7, 27)
    assert doc.address_line() == "BAT 2 ETG 3 7 PLACE DES SPECIMENS"
    assert (doc.postcode(), doc.city()) == ("57000", "METZ")
    assert doc.to_contract() == {
        "type": "00",
        "signature_valid": None,
        "fields": {
            "holder_name": "ANGELA SAMPLE", "surname": "SAMPLE", "given_names": ["ANGELA"],
            "address_line": "BAT 2 ETG 3 7 PLACE DES SPECIMENS", "postcode": "57000",
            "city": "METZ", "country": "FR", "issue_date": "2012-10-15",
        },
    }


def test_given_zxing_human_readable_separators_when_parsed_then_same_as_control_characters():
    readable = SPECIMEN_V02_BILL.replace(GS, "<GS>").replace(US, "<US>")
    assert parse_2ddoc(readable).fields == parse_2ddoc(SPECIMEN_V02_BILL).fields
    assert verify_2ddoc(parse_2ddoc(readable), SHIPPED_CERTS) is True


@pytest.mark.parametrize("version,header_length", [(2, 22), (3, 24), (4, 26)])
def test_given_written_headers_of_each_version_when_parsed_then_every_header_field_comes_back(
    version, header_length
):
    message = make_2ddoc_message("02", {"13": "MARTIN", "24": "69003"}, date(2026, 3, 2),
                                 version=version, signature_date=date(2026, 3, 5))
    doc = parse_2ddoc(sign_2ddoc(message))
    assert doc.version == version
    assert (doc.authority, doc.certificate, doc.doc_type) == ("FX01", "0001", "02")
    assert (doc.emission_date, doc.signature_date) == (date(2026, 3, 2), date(2026, 3, 5))
    assert doc.perimeter == ("01" if version >= 3 else None)
    assert doc.country == ("FR" if version == 4 else None)
    assert doc.message[header_length:].startswith("13MARTIN")
    assert doc.issue_date() == date(2026, 3, 2)


def test_given_ffff_dates_when_parsed_then_dates_are_none():
    doc = parse_2ddoc("DC03FX010001FFFFFFFF0101" + "24" + "75011")
    assert doc.emission_date is None and doc.signature_date is None and doc.issue_date() is None
    assert doc.signature is None


def test_given_fixed_fields_without_separators_and_a_full_length_line_when_parsed_then_split_right():
    full = "A" * 38  # field 10 at its maximum length needs no GS
    text = "DC02FX01000123452345" + "01" + "2475011" + "26FR" + "10" + full + "25PARIS" + GS
    doc = parse_2ddoc(text)
    assert doc.fields == {"24": "75011", "26": "FR", "10": full, "25": "PARIS"}


def test_given_an_overlong_value_when_written_then_truncated_with_rs_and_read_back():
    long_street = "RESIDENCE DES GRANDS CHENES BATIMENT C ESCALIER 4"
    message = make_2ddoc_message("01", {"22": long_street, "25": "LYON"}, date(2026, 1, 5))
    assert RS in message
    doc = parse_2ddoc(message)
    assert doc.fields["22"] == long_street[:38] and doc.city() == "LYON"


def test_given_first_name_and_surname_fields_when_named_then_first_name_comes_first():
    doc = parse_2ddoc(make_2ddoc_message("01", {"11": "MME", "12": "Anne Sophie", "13": "Lefèvre"},
                                         date(2026, 1, 5)))
    assert doc.holder_name() == "ANNE SOPHIE LEFEVRE"
    assert doc.surname() == "LEFEVRE" and doc.given_names() == ["ANNE", "SOPHIE"]


@pytest.mark.parametrize(
    "text",
    [
        "", "DC", "XX02FR000001125E125B01", "DC09FR000001125E125B01", "DC0AFR000001125E125B01",
        "DC02FR000001125E125B0",  # header cut short
        "DC02FR000001125G125B01",  # date not hex
        "DC02fr000001125E125B01",  # lower-case authority
        "DC02FR000001125E125B01" + "24750",  # fixed field truncated
        "DC02FR000001125E125B01" + "a1X",  # bad field id
        "DC02FR000001125E125B01" + "10AB\x07CD",  # control character in a value
    ],
)
def test_given_malformed_text_when_parsed_then_twoddocerror(text):
    with pytest.raises(TwoDDocError):
        parse_2ddoc(text)


def test_given_the_parse_error_then_it_is_a_valueerror():
    assert issubclass(TwoDDocError, ValueError)


# -- contradictions between the print and the 2D-Doc ------------------------------------------

def _bill(**fields) -> TwoDDoc:
    base = {"10": "M/DUBOIS-MARTIN/JEAN LUC", "22": "4 RUE DU PORT", "24": "13002", "25": "MARSEILLE"}
    base.update(fields)
    return parse_2ddoc(make_2ddoc_message("01", base, date(2026, 10, 1)))


def test_given_matching_print_with_ocr_noise_when_compared_then_no_contradiction():
    doc = _bill()
    ocr = {"holder_name": "M. Jean-Luc DUB0IS MARTlN", "postcode": "13 002", "issue_date": "2026-10-01"}
    assert contradictions(doc, ocr) == []


def test_given_glued_ocr_name_when_compared_then_no_contradiction():
    assert contradictions(_bill(), {"holder_name": "MONSIEUR JEANLUC DUBOISMARTIN"}) == []


def test_given_another_person_another_postcode_and_date_when_compared_then_all_three_reported():
    ocr = {"holder_name": "MME CLAIRE PETIT", "postcode": "13008", "issue_date": date(2026, 9, 1)}
    assert contradictions(_bill(), ocr) == ["holder_name", "postcode", "issue_date"]


def test_given_missing_ocr_values_when_compared_then_nothing_contradicts():
    assert contradictions(_bill(), {}) == []
    assert contradictions(_bill(), {"holder_name": None, "postcode": "", "issue_date": None}) == []


# -- fuzz: nothing but TwoDDoc or TwoDDocError ------------------------------------------------

_VALID = sign_2ddoc(make_2ddoc_message(
    "01", {"10": "MME/DUPONT/MARIE", "20": "APT 3", "22": "12 RUE DES LILAS", "24": "75011",
           "25": "PARIS", "26": "FR", "1D": "84.20"}, date(2026, 6, 30), version=4))
_ALPHABET = st.sampled_from(list("DC0123456789ABCDEFXYZ/ =-" + GS + RS + US + "\x00é<>"))


def _parse_or_documented_error(text: str) -> None:
    try:
        doc = parse_2ddoc(text)
    except TwoDDocError:
        return
    assert isinstance(doc, TwoDDoc)
    # Every accessor a caller uses must work on whatever parsed.
    doc.to_contract()
    doc.holder_name(), doc.surname(), doc.given_names(), doc.address_line()
    contradictions(doc, {"holder_name": "MARIE DUPONT", "postcode": "75011", "issue_date": "2026-06-30"})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_fuzz_given_arbitrary_text_when_parsed_then_twoddoc_or_twoddocerror(text):
    _parse_or_documented_error(text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=120))
def test_fuzz_given_2ddoc_like_text_when_parsed_then_twoddoc_or_twoddocerror(tail):
    _parse_or_documented_error("DC0" + tail)


@settings(max_examples=600, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["replace", "insert", "delete"]),
                  st.integers(min_value=0, max_value=len(_VALID)), _ALPHABET),
        min_size=1, max_size=6,
    ),
    st.integers(min_value=0, max_value=len(_VALID)),
)
def test_fuzz_given_mutations_of_a_valid_message_when_parsed_then_twoddoc_or_twoddocerror(edits, cut):
    text = _VALID
    for op, at, ch in edits:
        at = min(at, len(text))
        if op == "replace" and at < len(text):
            text = text[:at] + ch + text[at + 1:]
        elif op == "insert":
            text = text[:at] + ch + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + 1:]
    _parse_or_documented_error(text)
    _parse_or_documented_error(text[:cut])


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2000, 1, 1) + timedelta(days=0xFFFE)))
def test_property_given_any_representable_date_when_written_then_read_back(d):
    doc = parse_2ddoc(make_2ddoc_message("01", {"24": "75011"}, d))
    assert doc.emission_date == d


def test_given_an_issuer_overrunning_the_38_character_line_with_a_gs_when_parsed_then_kept_whole():
    overlong = "M/DE LA FONTAINE-DUPONT/JEAN CHRISTOPHE ANDRE"  # 45 > 38, still GS-terminated
    text = "DC02FX01000123452345" + "01" + "10" + overlong + GS + "2475011" + "25PARIS" + GS
    doc = parse_2ddoc(text)
    assert doc.fields["10"] == overlong
    assert (doc.postcode(), doc.city(), doc.surname()) == ("75011", "PARIS", "DE LA FONTAINE-DUPONT")


def test_given_a_shared_particle_only_when_compared_then_the_names_contradict():
    doc = parse_2ddoc(make_2ddoc_message("01", {"10": "M/DE LA FONTAINE/ANTOINE"}, date(2026, 1, 5)))
    assert contradictions(doc, {"holder_name": "MME ALICE DE LUCA"}) == ["holder_name"]
    assert contradictions(doc, {"holder_name": "ANTOINE DE LA F0NTAINE"}) == []


# --- issue 16: types no requirement uses are still decoded and reported ----------------------------
# The ANTS specification's test code of type 08 (the MRZ of a passport), signed by FR00/0001.
SPECIMEN_V03_MRZ = (
    "DC03FR000001092D163608016FP FRASPECIMEN  NATACHA                      07CD123044FRA7307122F1603062"
    "              04\x1d\x1fTYXD5GHXKAQ52NCB4IZGXJFYIYTX7UR5SIG7DPDJOS3KOW67ESGECFXFTZFE3MO263SYM7KY2GTNO"
    "R4Z5RROT7XDCOCTW3I7OREONIY"
)


def test_given_the_ants_mrz_specimen_when_parsed_then_its_type_signature_and_mrz_fields_are_reported():
    # Given the ANTS test code of type 08, which carries a passport's MRZ (fillers written as spaces)
    doc = parse_2ddoc(SPECIMEN_V03_MRZ)
    doc.signature_valid = verify_2ddoc(doc, SHIPPED_CERTS)
    # When it is given as the contract's object
    out = doc.to_contract()
    # Then its type, label and verified signature are there, with the MRZ's key fields
    assert out["type"] == "08" and doc.label() == "MRZ d'un titre d'identité" and out["signature_valid"] is True
    assert out["fields"]["document_number"] == "07CD12304" and out["fields"]["mrz_valid"] is True
    assert out["fields"]["birth_date"] == "1973-07-12" and out["fields"]["expiry_date"] == "2016-03-06"
    assert out["fields"]["surname"] == "SPECIMEN"


def test_given_a_titre_d_identite_code_when_parsed_then_its_one_letter_document_kind_does_not_eat_the_number():
    # Given a type 07 message laid out as the ANTS test code is (65 = one letter, then 66 the number)
    message = make_2ddoc_message("07", {"60": "NATACHA", "62": "SPECIMEN", "65": "P", "66": "07CD12304",
                                        "67": "FR", "68": "F"}, date(2015, 7, 27))
    # When it is parsed
    doc = parse_2ddoc(message)
    # Then every field keeps its value and the identity fields are reported
    assert doc.fields["65"] == "P" and doc.fields["66"] == "07CD12304" and doc.fields["60"] == "NATACHA"
    fields = doc.to_contract()["fields"]
    assert fields["surname"] == "SPECIMEN" and fields["given_names"] == ["NATACHA"]
    assert fields["document_number"] == "07CD12304" and fields["sex"] == "F"


def test_given_an_address_code_when_reported_then_its_fields_are_only_the_address_ones():
    # Given the ANTS bill specimen (type 01)
    doc = parse_2ddoc(SPECIMEN_V02_BILL)
    out = doc.to_contract()
    # Then its label is the bill's, and no identity field is invented for it
    assert out["type"] == "01" and doc.label() == "facture"
    assert "document_number" not in out["fields"] and out["fields"]["postcode"] == "75000"
