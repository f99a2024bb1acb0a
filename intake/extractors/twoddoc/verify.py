"""Check the signature of a 2D-Doc against a folder of certificates (the trust store).

A certificate is found by its issuer's CN (the authority id, e.g. FR00) and its subject's CN
(the certificate id, e.g. 0001), as ANTS issues them (CONTRACT.md §4). Files may be PEM (one or
several certificates) or DER, with any names; other files are ignored. Certificates are used for
their key whatever their validity dates: 2D-Docs outlive their signing certificates.

`verify_2ddoc` answers None when no certificate is at hand for the authority: "not checked",
never False for that.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from intake.extractors.twoddoc.parse import TwoDDoc
from intake.settings import get_settings

log = logging.getLogger(__name__)

_MAX_CERT_FILE_BYTES = 1_000_000
_HASH_FOR_CURVE = {256: hashes.SHA256, 384: hashes.SHA384, 521: hashes.SHA512}


def _common_name(name: x509.Name) -> str | None:
    values = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not values:
        return None
    value = values[0].value
    return value.strip().upper() if isinstance(value, str) else None


def _certificates_in(data: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN CERTIFICATE-----" in data:
        try:
            return list(x509.load_pem_x509_certificates(data))
        except ValueError:
            return []
    try:
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        return []


class TrustStore:
    """The certificates of one folder, indexed by (authority, certificate id).

    `TrustStore.for_folder(path)` loads a folder once and reloads it when its content changes
    (folder path + modification times and sizes of its files)."""

    _cache: dict[Path, tuple[tuple, "TrustStore"]] = {}
    _lock = threading.Lock()

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._keys: dict[tuple[str, str], list[ec.EllipticCurvePublicKey]] = {}
        for path in sorted(_files(self.folder)):
            try:
                if path.stat().st_size > _MAX_CERT_FILE_BYTES:
                    continue
                data = path.read_bytes()
            except OSError:
                continue
            for cert in _certificates_in(data):
                self._add(cert, path)
        log.debug("trust store %s: %d certificate ids", self.folder, len(self._keys))

    def _add(self, cert: x509.Certificate, path: Path) -> None:
        authority, cert_id = _common_name(cert.issuer), _common_name(cert.subject)
        try:
            key = cert.public_key()
        except (ValueError, TypeError):  # unsupported key algorithm
            return
        if not authority or not cert_id or not isinstance(key, ec.EllipticCurvePublicKey):
            log.debug("skipped certificate %s: no CN pair or not an EC key", path.name)
            return
        keys = self._keys.setdefault((authority, cert_id), [])
        if all(k.public_numbers() != key.public_numbers() for k in keys):
            keys.append(key)

    @classmethod
    def for_folder(cls, folder: Path | str) -> "TrustStore":
        folder = Path(folder).expanduser().resolve()
        stamp = _stamp(folder)
        with cls._lock:
            cached = cls._cache.get(folder)
            if cached and cached[0] == stamp:
                return cached[1]
        store = cls(folder)
        with cls._lock:
            cls._cache[folder] = (stamp, store)
        return store

    def lookup(self, authority: str, cert_id: str) -> ec.EllipticCurvePublicKey | None:
        keys = self.lookup_all(authority, cert_id)
        return keys[0] if keys else None

    def lookup_all(self, authority: str, cert_id: str) -> list[ec.EllipticCurvePublicKey]:
        return list(self._keys.get((authority.upper(), cert_id.upper()), []))

    def __len__(self) -> int:
        return len(self._keys)


def _files(folder: Path) -> list[Path]:
    try:
        return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]
    except OSError:
        return []


def _stamp(folder: Path) -> tuple:
    try:
        own = folder.stat().st_mtime_ns
    except OSError:
        return ("missing",)
    entries = []
    for p in _files(folder):
        try:
            st = p.stat()
        except OSError:
            continue
        entries.append((str(p), st.st_mtime_ns, st.st_size))
    return (own, tuple(sorted(entries)))


def signature_matches(key: ec.EllipticCurvePublicKey, message: str, signature: bytes) -> bool:
    """ECDSA over the message bytes with r||s signature, hash by curve size (P-256: SHA-256)."""
    size = key.curve.key_size
    half = (size + 7) // 8
    if len(signature) != 2 * half:
        return False
    r = int.from_bytes(signature[:half], "big")
    s = int.from_bytes(signature[half:], "big")
    if r == 0 or s == 0:
        return False
    algorithm = _HASH_FOR_CURVE.get(size, hashes.SHA256)()
    try:
        data = message.encode("latin-1")
    except UnicodeEncodeError:
        return False
    try:
        key.verify(encode_dss_signature(r, s), data, ec.ECDSA(algorithm))
        return True
    except (InvalidSignature, ValueError):
        return False


def verify_2ddoc(doc: TwoDDoc, certs_dir: Path | None = None) -> bool | None:
    """True: the signature verifies; False: it is missing or does not verify; None: no
    certificate at hand for the authority/certificate id (not checked).

    Sets nothing on `doc`: the caller stores the answer in `doc.signature_valid`."""
    store = TrustStore.for_folder(certs_dir if certs_dir is not None else get_settings().certs_dir)
    keys = store.lookup_all(doc.authority, doc.certificate)
    if not keys:
        return None
    if not doc.signature:
        return False
    return any(signature_matches(key, doc.message, doc.signature) for key in keys)
