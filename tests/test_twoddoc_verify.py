"""2D-Doc signatures: trust store folders (PEM, DER, any names), unknown authority, tampering."""

from __future__ import annotations

import os
import shutil
import time
from datetime import date
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from fixtures.twoddoc_writer import CERTS_DIR, make_2ddoc_message, sign_2ddoc
from intake.extractors.twoddoc.decode import parse_2ddoc
from intake.extractors.twoddoc.verify import TrustStore, verify_2ddoc
from intake.settings import SHIPPED_CERTS, reset_settings

FIELDS = {"10": "M/NGUYEN/VAN AN", "22": "8 AVENUE FOCH", "24": "67000", "25": "STRASBOURG"}


def _signed(authority="FX01", certificate="0001", tamper=False, version=3):
    message = make_2ddoc_message("01", FIELDS, date(2026, 8, 3), authority=authority,
                                 certificate=certificate, version=version)
    return parse_2ddoc(sign_2ddoc(message, tamper=tamper))


def _fx01_cert() -> x509.Certificate:
    return x509.load_pem_x509_certificate((CERTS_DIR / "FX01-0001.pem").read_bytes())


@pytest.mark.parametrize("version", [2, 3, 4])
def test_given_a_fixture_signed_2ddoc_when_verified_with_the_fixture_certs_then_true(version):
    assert verify_2ddoc(_signed(version=version), CERTS_DIR) is True


def test_given_a_tampered_signature_when_verified_then_false():
    assert verify_2ddoc(_signed(tamper=True), CERTS_DIR) is False


def test_given_an_unknown_authority_when_verified_then_none_never_false():
    assert verify_2ddoc(_signed(authority="FX99"), CERTS_DIR) is None
    assert verify_2ddoc(_signed(authority="FX99", tamper=True), CERTS_DIR) is None


def test_given_a_known_authority_but_unknown_certificate_id_when_verified_then_none():
    assert verify_2ddoc(_signed(certificate="0002"), CERTS_DIR) is None


def test_given_the_shipped_store_when_a_fixture_2ddoc_is_verified_then_not_checked():
    # The shipped trust store holds the ANTS test certificate only, never the fixtures' FX01.
    assert TrustStore.for_folder(SHIPPED_CERTS).lookup("FR00", "0001") is not None
    assert verify_2ddoc(_signed(), SHIPPED_CERTS) is None


def test_given_a_2ddoc_without_signature_from_a_known_authority_when_verified_then_false():
    doc = parse_2ddoc(make_2ddoc_message("01", FIELDS, date(2026, 8, 3)))
    assert doc.signature is None
    assert verify_2ddoc(doc, CERTS_DIR) is False


def test_given_der_and_pem_files_with_any_names_and_junk_when_loaded_then_both_certs_found(tmp_path):
    # DER under a meaningless name, the ANTS PEM renamed, a key file and junk beside them.
    (tmp_path / "signer.bin").write_bytes(_fx01_cert().public_bytes(serialization.Encoding.DER))
    shutil.copy(SHIPPED_CERTS / "FR00-0001.pem", tmp_path / "autorite test.crt")
    shutil.copy(CERTS_DIR / "FX01-0001.key", tmp_path / "FX01-0001.key")
    (tmp_path / "notes.txt").write_text("not a certificate")
    (tmp_path / "empty.der").write_bytes(b"")
    store = TrustStore(tmp_path)
    assert store.lookup("FX01", "0001") is not None
    assert store.lookup("fr00", "0001") is not None  # ids compared upper-case
    assert store.lookup("FX01", "0009") is None
    assert verify_2ddoc(_signed(), tmp_path) is True


def test_given_a_pem_bundle_when_loaded_then_every_certificate_is_indexed(tmp_path):
    bundle = (SHIPPED_CERTS / "FR00-0001.pem").read_bytes() + (CERTS_DIR / "FX01-0001.pem").read_bytes()
    (tmp_path / "tsl.pem").write_bytes(bundle)
    assert len(TrustStore(tmp_path)) == 2


def test_given_a_folder_that_changes_when_asked_again_then_the_store_is_reloaded(tmp_path):
    store = TrustStore.for_folder(tmp_path)
    assert TrustStore.for_folder(tmp_path) is store  # loaded once
    assert verify_2ddoc(_signed(), tmp_path) is None
    time.sleep(0.01)
    shutil.copy(CERTS_DIR / "FX01-0001.pem", tmp_path / "new.pem")
    assert verify_2ddoc(_signed(), tmp_path) is True


def test_given_a_missing_folder_when_verified_then_none(tmp_path):
    assert verify_2ddoc(_signed(), tmp_path / "absent") is None


def test_given_intake_2ddoc_certs_set_when_no_folder_is_passed_then_settings_folder_is_used(monkeypatch):
    monkeypatch.setenv("INTAKE_2DDOC_CERTS", str(CERTS_DIR))
    reset_settings()
    try:
        assert verify_2ddoc(_signed()) is True
    finally:
        monkeypatch.delenv("INTAKE_2DDOC_CERTS")
        reset_settings()
    assert verify_2ddoc(_signed()) is None  # back to the shipped store


def test_given_the_fixture_certs_folder_then_it_also_holds_the_ants_test_certificate():
    store = TrustStore.for_folder(CERTS_DIR)
    assert store.lookup("FR00", "0001") is not None and store.lookup("FX01", "0001") is not None
    assert os.path.exists(CERTS_DIR / "FX01-0001.key")
