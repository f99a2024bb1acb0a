"""Parse the text of an ANTS 2D-Doc (the French signed DataMatrix of bills and tax notices).

Layout (ANTS 2D-Doc specification, perimeter 01): a header `DC` + version (2) + authority (4) +
certificate (4) + emission date (4 hex) + signature date (4 hex) + document type (2), then
perimeter (2) from v03 and issuing country (2) from v04; the message, a run of fields each made of
a two-character id and a value; then US (0x1F) and the Base32 signature (ECDSA r||s) of everything
before the US. Dates are days since 2000-01-01 in hex, `FFFF` meaning none. A fixed-length field
has no terminator; a variable one ends with GS (0x1D), or RS (0x1E) when it was truncated, or not at
all when it reached its maximum length.

This module only reads text: no image, no cryptography. Any text gives a `TwoDDoc` or raises
`TwoDDocError`, nothing else (fuzzed in tests).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from intake.icao import name_tokens
from intake.twoddoc_types import ADDRESS_TYPES
from intake.twoddoc_types import label as type_label

GS = "\x1d"  # ends a variable field
RS = "\x1e"  # ends a variable field that the issuer truncated
US = "\x1f"  # starts the signature

EPOCH = date(2000, 1, 1)
NO_DATE = "FFFF"

#: Header length by version (v01 and v02 share the layout).
HEADER_LENGTH = {1: 22, 2: 22, 3: 24, 4: 26}

#: Fixed lengths of the fields of perimeter 01 (ANTS spec tables); any other id is variable.
FIXED_LENGTH: dict[str, int] = {
    "06": 4, "07": 6, "08": 4, "09": 4, "0A": 9, "0B": 9, "0D": 36,
    "1C": 8, "1G": 1, "1H": 1,
    "24": 5, "26": 2, "2B": 5, "2D": 2,
    "34": 2, "36": 4, "37": 4,
    "40": 13, "44": 13, "45": 4, "47": 13, "49": 13, "4A": 8, "4B": 8, "4C": 8, "4F": 15,
    "4P": 5, "4S": 4,
    "50": 14, "51": 6, "52": 7, "53": 4, "54": 4, "55": 8, "56": 8, "57": 8, "5H": 5, "5J": 2,
    "5N": 21, "5T": 1,
    # 65, type of identity document: one letter (the ANTS test code of type 07 reads "65P66...")
    "65": 1, "67": 2, "68": 1, "69": 8, "6B": 3, "6C": 2, "6I": 2, "6J": 1, "6K": 19, "6L": 8,
    "6N": 8, "6O": 8, "6R": 12, "6W": 5, "6Y": 2,
}

#: Maximum lengths of variable fields (a value of that length needs no GS).
MAX_LENGTH: dict[str, int] = {
    **{k: 38 for k in ("10", "11", "12", "13", "14", "15", "16", "17", "1I", "1J", "1K", "1L",
                       "1M", "1N", "1O", "1P", "20", "21", "22", "23", "27", "28", "29", "2A",
                       "46", "48", "4N", "4O")},
    "25": 32, "2C": 32, "4Q": 32,
    "1D": 16, "1E": 30, "1F": 30,
    "41": 12, "43": 5,
}

#: Other variable-length ids of perimeter 01 (no maximum given or not needed here).
OTHER_KNOWN_IDS = frozenset({
    "01", "02", "03", "04", "05", "0C", "18", "19", "1A", "1B", "30", "31", "32", "33", "35",
    "38", "39", "42", "4D", "4E", "4G", "4H", "4I", "4J", "4K", "4L", "4M", "4R", "4T", "4U",
    "60", "61", "62", "63", "64", "66", "6A", "6D", "6E", "6F", "6G", "6H",
})
KNOWN_IDS = frozenset(FIXED_LENGTH) | frozenset(MAX_LENGTH) | OTHER_KNOWN_IDS

TITLES = frozenset({"M", "MR", "MME", "MLLE", "MM", "MONSIEUR", "MADAME", "MADEMOISELLE", "DR", "ME"})

_ID = re.compile(r"[0-9A-Z]{2}")
_ALNUM = re.compile(r"[0-9A-Z]+")
_HEX4 = re.compile(r"[0-9A-F]{4}")
_BASE32 = re.compile(r"[A-Z2-7]*")


class TwoDDocError(ValueError):
    """The text is not a 2D-Doc this reader understands (the one documented parse error)."""


@dataclass
class TwoDDoc:
    version: int
    authority: str
    certificate: str
    emission_date: date | None
    signature_date: date | None
    doc_type: str
    perimeter: str | None
    country: str | None
    fields: dict[str, str]
    signature_valid: bool | None
    message: str
    #: Raw signature bytes (r||s) decoded from Base32; None when absent or not Base32.
    signature: bytes | None = field(default=None, repr=False)
    #: Where the code was found, [x, y, w, h] in pixels of the image read (None: not from an image).
    box: list[int] | None = field(default=None, repr=False)

    # -- names -------------------------------------------------------------------------------
    def _beneficiary_parts(self) -> tuple[str | None, str | None, list[str]]:
        """(title, surname, given names) from field 10, written `TITLE/SURNAME/GIVEN NAMES`."""
        line = _clean(self.fields.get("10"))
        if not line:
            return None, None, []
        parts = [p.strip() for p in line.split("/")]
        if len(parts) >= 3:
            return parts[0] or None, parts[1] or None, " ".join(parts[2:]).split()
        if len(parts) == 2:
            if parts[0].upper().rstrip(".") in TITLES:
                return parts[0], parts[1] or None, []
            return None, parts[0] or None, parts[1].split()
        return None, None, []

    def surname(self) -> str | None:
        if _clean(self.fields.get("10")):
            return self._beneficiary_parts()[1]
        return _clean(self.fields.get("13"))

    def given_names(self) -> list[str]:
        if _clean(self.fields.get("10")):
            return self._beneficiary_parts()[2]
        return (_clean(self.fields.get("12")) or "").split()

    def holder_name(self) -> str | None:
        """Beneficiary (field 10) else first name + surname (12, 13), titles left out; else the
        first declarant of a tax notice (46)."""
        line = _clean(self.fields.get("10"))
        if line:
            _, surname, given = self._beneficiary_parts()
            if surname is None and not given:
                return " ".join(line.replace("/", " ").split())
            return " ".join([*given, surname or ""]).strip() or None
        name = " ".join(x for x in (_clean(self.fields.get("12")), _clean(self.fields.get("13"))) if x)
        if name:
            return name
        return _clean(self.fields.get("46"))

    # -- address -----------------------------------------------------------------------------
    def address_line(self) -> str | None:
        lines = [_clean(self.fields.get(k)) for k in ("20", "21", "22", "23")]
        joined = " ".join(x for x in lines if x)
        return joined or _clean(self.fields.get("4O"))

    def postcode(self) -> str | None:
        return _clean(self.fields.get("24")) or _clean(self.fields.get("4P"))

    def city(self) -> str | None:
        return _clean(self.fields.get("25")) or _clean(self.fields.get("4Q"))

    def issue_date(self) -> date | None:
        """The document's date: the emission date of the header."""
        return self.emission_date

    def to_contract(self) -> dict:
        """The `two_d_doc` object of CONTRACT.md (fields absent when not read)."""
        issued = self.issue_date()
        values = {
            "holder_name": self.holder_name(),
            "surname": self.surname(),
            "given_names": self.given_names() or None,
            "address_line": self.address_line(),
            "postcode": self.postcode(),
            "city": self.city(),
            "country": _clean(self.fields.get("26")),
            "issue_date": issued.isoformat() if issued else None,
        }
        if self.doc_type not in ADDRESS_TYPES:
            values.update(self._identity_values())
        return {
            "type": self.doc_type,
            "signature_valid": self.signature_valid,
            "fields": {k: v for k, v in values.items() if v},
        }

    def label(self) -> str:
        """What the document type is, in French (the type code when the table lacks it)."""
        return type_label(self.doc_type)

    def _identity_values(self) -> dict:
        """Identity fields of the identity types: 07 (titre d'identité: 60 given names, 62
        surname, 66 document number, 68 sex) and 08 (the document's MRZ in field 6F)."""
        out: dict = {}
        if self.fields.get("62") or self.fields.get("60"):
            out["surname"] = _clean(self.fields.get("62"))
            out["given_names"] = (_clean(self.fields.get("60")) or "").split() or None
            out["holder_name"] = " ".join(x for x in (_clean(self.fields.get("60")), _clean(self.fields.get("62"))) if x)
        out["document_number"] = _clean(self.fields.get("66"))
        if self.fields.get("68") in ("M", "F", "X"):
            out["sex"] = self.fields["68"]
        mrz = self.fields.get("6F")
        if mrz:
            out.update(_mrz_values(mrz))
        return out


def _mrz_values(text: str) -> dict:
    """The fields of an MRZ carried in a 2D-Doc (fillers written as spaces, lines run together)."""
    from intake.extractors.mrz.parse import MrzParseError, parse_mrz

    flat = text.replace(" ", "<").strip()
    size = len(flat)
    widths = {88: 44, 90: 30, 72: 36}
    width = widths.get(size)
    if width is None:
        return {}
    try:
        result = parse_mrz([flat[i:i + width] for i in range(0, size, width)])
    except MrzParseError:
        return {}
    keep = ("document_number", "surname", "given_names", "birth_date", "sex", "nationality", "expiry_date")
    out = {k: result.fields[k] for k in keep if result.fields.get(k)}
    out["mrz_valid"] = bool(result.valid)
    if out.get("surname") or out.get("given_names"):
        out["holder_name"] = " ".join([*(out.get("given_names") or []), out.get("surname") or ""]).strip()
    return out


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())
    return value or None


def decode_date(text: str) -> date | None:
    """4 hex digits, days since 2000-01-01; `FFFF` is no date."""
    if not _HEX4.fullmatch(text):
        raise TwoDDocError("date is not 4 hex digits")
    if text == NO_DATE:
        return None
    return EPOCH + timedelta(days=int(text, 16))


def encode_date(d: date | None) -> str:
    if d is None:
        return NO_DATE
    days = (d - EPOCH).days
    if not 0 <= days < 0xFFFF:
        raise ValueError("2D-Doc dates run from 2000-01-01 for 65535 days")
    return f"{days:04X}"


def decode_signature(text: str) -> bytes | None:
    """Base32 without padding (103 characters for P-256), None when it is not Base32."""
    if not text or not _BASE32.fullmatch(text):
        return None
    try:
        return base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError):
        return None


def normalise_text(text: str) -> str:
    """Control characters as read: zxing's human-readable `<GS>`/`<US>`/`<RS>` become the bytes."""
    return text.replace("<GS>", GS).replace("<US>", US).replace("<RS>", RS)


def _parse_header(text: str) -> tuple[dict, int]:
    if not text.startswith("DC"):
        raise TwoDDocError("not a 2D-Doc: no DC marker")
    version_text = text[2:4]
    if not version_text.isascii() or not version_text.isdigit():
        raise TwoDDocError("version is not two digits")
    version = int(version_text)
    if version not in HEADER_LENGTH:
        raise TwoDDocError(f"unsupported 2D-Doc version {version_text}")
    length = HEADER_LENGTH[version]
    header = text[:length]
    if len(header) < length or any(c in header for c in (GS, RS, US)):
        raise TwoDDocError("header is truncated")
    authority, certificate = header[4:8], header[8:12]
    doc_type = header[20:22]
    for part in (authority, certificate, doc_type):
        if not _ALNUM.fullmatch(part):
            raise TwoDDocError("header id is not upper-case alphanumeric")
    perimeter = header[22:24] if version >= 3 else None
    country = header[24:26] if version >= 4 else None
    for part in (perimeter, country):
        if part is not None and not _ALNUM.fullmatch(part):
            raise TwoDDocError("perimeter or country is not upper-case alphanumeric")
    return {
        "version": version,
        "authority": authority,
        "certificate": certificate,
        "emission_date": decode_date(header[12:16]),
        "signature_date": decode_date(header[16:20]),
        "doc_type": doc_type,
        "perimeter": perimeter,
        "country": country,
    }, length


def _parse_fields(body: str, *, honour_max: bool = True) -> dict[str, str]:
    """Split the message into fields. With `honour_max`, a variable field stops at its maximum
    length (the spec: no GS needed then); without, it runs to the next separator (issuers that
    overrun the maximum and still write GS)."""
    fields: dict[str, str] = {}
    i, n = 0, len(body)
    while i < n:
        if body[i] in (GS, RS):  # a stray separator (empty field end): tolerated
            i += 1
            continue
        field_id = body[i:i + 2]
        if not _ID.fullmatch(field_id):
            raise TwoDDocError("field id is not two upper-case alphanumerics")
        i += 2
        if field_id in FIXED_LENGTH:
            size = FIXED_LENGTH[field_id]
            value = body[i:i + size]
            if len(value) < size or any(c in value for c in (GS, RS)):
                raise TwoDDocError(f"fixed-length field {field_id} is truncated")
            i += size
            if i < n and body[i] == GS:  # some issuers terminate fixed fields too
                i += 1
        else:
            limit = MAX_LENGTH.get(field_id) if honour_max else None
            start = i
            while i < n and body[i] not in (GS, RS) and (limit is None or i - start < limit):
                i += 1
            value = body[start:i]
            if i < n and body[i] in (GS, RS):
                i += 1
        if any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise TwoDDocError(f"field {field_id} holds control characters")
        fields[field_id] = value
    return fields


def _split_fields(body: str) -> dict[str, str]:
    """Fields by the spec (maximum lengths honoured); when that fails or yields ids the spec
    does not know while reading to the separators does not, the latter (issuers that overrun)."""
    try:
        strict = _parse_fields(body)
    except TwoDDocError:
        return _parse_fields(body, honour_max=False)  # raises the documented error again
    unknown = sum(k not in KNOWN_IDS for k in strict)
    if unknown:
        try:
            lenient = _parse_fields(body, honour_max=False)
        except TwoDDocError:
            return strict
        if sum(k not in KNOWN_IDS for k in lenient) < unknown:
            return lenient
    return strict


def parse_2ddoc(text: str) -> TwoDDoc:
    """Parse a 2D-Doc's text (no signature check: `signature_valid` is None).

    Raises `TwoDDocError` when the text is not a 2D-Doc of versions 01 to 04 or is malformed.
    """
    if not isinstance(text, str):
        raise TwoDDocError("2D-Doc text must be a string")
    text = normalise_text(text)
    header, length = _parse_header(text)
    message, sep, tail = text.partition(US)
    signature = None
    if sep:
        sig_text = re.match(r"[A-Z2-7]*", tail).group(0)  # an annex may follow the signature
        signature = decode_signature(sig_text)
    fields = _split_fields(message[length:])
    return TwoDDoc(
        fields=fields,
        signature_valid=None,
        message=message,
        signature=signature,
        **header,
    )


def _close(a: str, b: str) -> bool:
    """Equal, or (four letters or more) one substitution, insertion or deletion apart."""
    if a == b:
        return True
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:k] + long_[k + 1:] == short for k in range(len(long_)))


def _name_tokens(text: str | None) -> list[str]:
    """Folded name tokens without titles, and without particles (DE, LA, LE...) when a longer
    token is there to compare."""
    tokens = [t for t in name_tokens(text or "") if t not in TITLES]
    long_tokens = [t for t in tokens if len(t) > 2]
    return long_tokens or tokens


def contradictions(doc: TwoDDoc, ocr_fields: dict) -> list[str]:
    """Fields (holder_name, postcode, issue_date) where the printed page clearly contradicts the
    2D-Doc. Tolerant of OCR noise: names are compared token by token after ICAO folding, one
    letter off in a long token still agrees, tokens glued by OCR agree; a missing value on either
    side never contradicts."""
    found: list[str] = []

    ocr_name = ocr_fields.get("holder_name")
    doc_surname = _name_tokens(doc.surname()) or _name_tokens(doc.holder_name())
    ocr_tokens = _name_tokens(ocr_name if isinstance(ocr_name, str) else None)
    if doc_surname and ocr_tokens:
        glued = "".join(ocr_tokens)
        agrees = any(_close(d, o) for d in doc_surname for o in ocr_tokens) or any(
            len(d) >= 3 and d in glued for d in doc_surname
        )
        if not agrees:
            found.append("holder_name")

    ocr_postcode = re.sub(r"\s", "", str(ocr_fields.get("postcode") or ""))
    doc_postcode = doc.postcode()
    if ocr_postcode and doc_postcode and ocr_postcode != doc_postcode:
        found.append("postcode")

    ocr_date = ocr_fields.get("issue_date")
    if isinstance(ocr_date, str) and ocr_date:
        try:
            ocr_date = date.fromisoformat(ocr_date)
        except ValueError:
            ocr_date = None
    doc_date = doc.issue_date()
    if isinstance(ocr_date, date) and doc_date and ocr_date != doc_date:
        found.append("issue_date")
    return found
