"""ICAO 9303 facts shared by the MRZ reader, the name matcher and the specimen generator.

Check digits (weights 7-3-1), name transliteration (RULES.md, Matching people) and the composition
of machine-readable zones, including the French laminated CNI (2x36, which is not TD2).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

FILLER = "<"

#: ICAO 9303 part 3 codes of states and organisations (ISO 3166-1 alpha-3 and the ICAO additions).
ICAO_STATES: frozenset[str] = frozenset("""
AFG ALB DZA ASM AND AGO AIA ATA ATG ARG ARM ABW AUS AUT AZE BHS BHR BGD BRB BLR BEL BLZ BEN BMU BTN BOL BES BIH
BWA BVT BRA IOT BRN BGR BFA BDI CPV KHM CMR CAN CYM CAF TCD CHL CHN CXR CCK COL COM COG COD COK CRI CIV HRV CUB
CUW CYP CZE DNK DJI DMA DOM ECU EGY SLV GNQ ERI EST SWZ ETH FLK FRO FJI FIN FRA GUF PYF ATF GAB GMB GEO DEU GHA
GIB GRC GRL GRD GLP GUM GTM GGY GIN GNB GUY HTI HMD VAT HND HKG HUN ISL IND IDN IRN IRQ IRL IMN ISR ITA JAM JPN
JEY JOR KAZ KEN KIR PRK KOR KWT KGZ LAO LVA LBN LSO LBR LBY LIE LTU LUX MAC MDG MWI MYS MDV MLI MLT MHL MTQ MRT
MUS MYT MEX FSM MDA MCO MNG MNE MSR MAR MOZ MMR NAM NRU NPL NLD NCL NZL NIC NER NGA NIU NFK MKD MNP NOR OMN PAK
PLW PSE PAN PNG PRY PER PHL PCN POL PRT PRI QAT REU ROU RUS RWA BLM SHN KNA LCA MAF SPM VCT WSM SMR STP SAU SEN
SRB SYC SLE SGP SXM SVK SVN SLB SOM ZAF SGS SSD ESP LKA SDN SUR SJM SWE CHE SYR TWN TJK TZA THA TLS TGO TKL TON
TTO TUN TUR TKM TCA TUV UGA UKR ARE GBR USA UMI URY UZB VUT VEN VNM VGB VIR WLF ESH YEM ZMB ZWE ALA
D<< GBD GBN GBO GBP GBS UNO UNA UNK XOM XXA XXB XXC XXX EUE RKS XBA XIM XCC XCE XCO XEC XPO XES XMP XDC ANT NTZ
""".split())


def state_code(value) -> str | None:
    """A nationality as its ICAO 3-letter code ("D<<" and "D" are Germany's, DEU), or None when it
    names no state."""
    text = str(value or "").strip().upper()
    if text.replace(FILLER, "") == "D":
        return "DEU"
    return text if len(text) == 3 and is_state_code(text) else None


def is_state_code(field: str) -> bool:
    """A 3-character MRZ state field names a state or organisation (Germany is 'D<<')."""
    return field in ICAO_STATES or field.replace(FILLER, "") in ("D",)

_TRANSLIT = {
    "Ä": "AE", "Ö": "OE", "Ü": "UE", "Å": "AA", "Æ": "AE", "Ø": "OE", "ß": "SS", "Œ": "OE",
    "ä": "AE", "ö": "OE", "ü": "UE", "å": "AA", "æ": "AE", "ø": "OE", "œ": "OE",
    "Þ": "TH", "þ": "TH", "Ð": "D", "ð": "D", "Ł": "L", "ł": "L", "Đ": "D", "đ": "D", "ı": "I",
}
_SEPARATORS = set("-'’‘ `´<,.")


#: Values of the MRZ characters for check digits: digits, A=10..Z=35, filler 0.
_VALUES = {**{str(d): d for d in range(10)}, **{chr(65 + i): 10 + i for i in range(26)}, FILLER: 0}


def char_value(ch: str) -> int:
    """Value of one MRZ character for check digits: digits, A=10..Z=35, filler 0."""
    try:
        return _VALUES[ch]
    except KeyError:
        raise ValueError(f"not an MRZ character: {ch!r}") from None


def check_digit(data: str) -> str:
    """ICAO 9303 check digit of `data`, as one character."""
    weights = (7, 3, 1)
    try:
        return str(sum(_VALUES[c] * weights[i % 3] for i, c in enumerate(data)) % 10)
    except KeyError as exc:
        raise ValueError(f"not an MRZ character: {exc.args[0]!r}") from None


def fold(text: str) -> str:
    """Upper case, ICAO transliteration, accents removed; separators kept as spaces."""
    out = []
    for ch in text or "":
        if ch in _TRANSLIT:
            out.append(_TRANSLIT[ch])
            continue
        if ch in _SEPARATORS:
            out.append(" ")
            continue
        decomposed = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        out.append(base.upper())
    return " ".join("".join(out).split())


#: The other common spelling of letters that ICAO writes with two: the base letter, as French
#: printers, issuers without those glyphs, and OCR models without them (tesseract's `fra`
#: reads Ö as Ô, Å as Â) give it.
_PLAIN = {"Ä": "A", "Ö": "O", "Ü": "U", "Å": "A", "Ø": "O", "ä": "A", "ö": "O", "ü": "U", "å": "A", "ø": "O"}


def plain_name_tokens(text: str) -> list[str]:
    """Name tokens with umlauts, rings and slashes reduced to the base letter: 'Ødegaard' -> ['ODEGAARD']."""
    return name_tokens("".join(_PLAIN.get(c, c) for c in text or ""))


def name_tokens(text: str) -> list[str]:
    """Name tokens after folding: 'Le Gall-Dupré' -> ['LE', 'GALL', 'DUPRE']."""
    return [t for t in "".join(c if c.isalnum() else " " for c in fold(text)).split() if t]


def mrz_name_field(surname: str, given_names: list[str] | str, width: int) -> str:
    """The ICAO name field: SURNAME<<GIVEN<NAMES, cut and padded to `width`."""
    if isinstance(given_names, str):
        given_names = [given_names]
    primary = FILLER.join(name_tokens(surname))
    secondary = FILLER.join(t for g in given_names for t in name_tokens(g))
    value = primary + (FILLER * 2 + secondary if secondary else "")
    return value[:width].ljust(width, FILLER)


def yymmdd(d: date | None) -> str:
    return d.strftime("%y%m%d") if d else FILLER * 6


def _field(value: str, width: int) -> str:
    value = "".join(c if c.isalnum() else FILLER for c in fold(value).replace(" ", FILLER))
    return value[:width].ljust(width, FILLER)


@dataclass(frozen=True)
class MrzData:
    """What an identity document's MRZ says, for composing one."""

    document_code: str  # "P", "ID", "I", "IR", "AR", ...
    issuing_state: str
    document_number: str
    surname: str
    given_names: tuple[str, ...]
    nationality: str
    birth_date: date
    sex: str  # M, F or X ('<' in the MRZ)
    expiry_date: date | None
    optional: str = ""
    optional2: str = ""


def _sex(sex: str) -> str:
    return sex if sex in ("M", "F") else FILLER


def compose_td3(d: MrzData) -> list[str]:
    """Passport data page, 2 lines of 44."""
    code = _field(d.document_code, 2)
    line1 = code + _field(d.issuing_state, 3) + mrz_name_field(d.surname, list(d.given_names), 39)
    num = _field(d.document_number, 9)
    opt = _field(d.optional, 14)
    birth, expiry = yymmdd(d.birth_date), yymmdd(d.expiry_date)
    opt_cd = check_digit(opt) if d.optional else FILLER
    line2 = (
        num + check_digit(num) + _field(d.nationality, 3) + birth + check_digit(birth)
        + _sex(d.sex) + expiry + check_digit(expiry) + opt + opt_cd
    )
    composite = line2[0:10] + line2[13:20] + line2[21:43]
    return [line1, line2 + check_digit(composite)]


def compose_td1(d: MrzData) -> list[str]:
    """Card, 3 lines of 30 (French CNI since 2021, residence permits, many ID cards)."""
    num = _field(d.document_number, 9)
    line1 = _field(d.document_code, 2) + _field(d.issuing_state, 3) + num + check_digit(num)
    line1 += _field(d.optional, 15)
    birth, expiry = yymmdd(d.birth_date), yymmdd(d.expiry_date)
    line2 = birth + check_digit(birth) + _sex(d.sex) + expiry + check_digit(expiry)
    line2 += _field(d.nationality, 3) + _field(d.optional2, 11)
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += check_digit(composite)
    line3 = mrz_name_field(d.surname, list(d.given_names), 30)
    return [line1, line2, line3]


def compose_td2(d: MrzData) -> list[str]:
    """Card, 2 lines of 36 (ICAO TD2; not the French laminated CNI)."""
    line1 = _field(d.document_code, 2) + _field(d.issuing_state, 3)
    line1 += mrz_name_field(d.surname, list(d.given_names), 31)
    num = _field(d.document_number, 9)
    birth, expiry = yymmdd(d.birth_date), yymmdd(d.expiry_date)
    line2 = (
        num + check_digit(num) + _field(d.nationality, 3) + birth + check_digit(birth)
        + _sex(d.sex) + expiry + check_digit(expiry) + _field(d.optional, 7)
    )
    composite = line2[0:10] + line2[13:20] + line2[21:35]
    return [line1, line2 + check_digit(composite)]


def compose_fr_cni(
    surname: str,
    given_names: list[str],
    card_number: str,
    birth_date: date,
    sex: str,
    department: str = "",
    office: str = "",
) -> list[str]:
    """French laminated CNI (1988-2021), 2 lines of 36 (RULES.md, MRZ formats).

    line 1: IDFRA + surname (25) + department (3) + office (3)
    line 2: card number (12) + cd + given names (14, separated by <<) + birth YYMMDD + cd + sex + cd
    The last check digit covers line 1 and the first 35 characters of line 2, names included.
    """
    line1 = "IDFRA" + _field(surname, 25) + _field(department, 3) + _field(office, 3)
    num = _field(card_number, 12)
    given = (FILLER * 2).join(FILLER.join(name_tokens(g)) for g in given_names)
    given = given[:14].ljust(14, FILLER)
    birth = yymmdd(birth_date)
    line2 = num + check_digit(num) + given + birth + check_digit(birth) + _sex(sex)
    return [line1, line2 + check_digit(line1 + line2)]
