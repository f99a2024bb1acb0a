"""Fields of the non-MRZ kinds, read from page text: names, addresses, subtypes, certificates.

Everything here works on OCR text lines (no image): what a French bill, tax notice, rent receipt,
ANTS attestation or Cerfa prints, and where. Names are returned upper case with titles removed.
"""

from __future__ import annotations

import re

from intake.extractors.classify import Words, has_phrase, normalise
from intake.extractors.dates import DateCandidate, find_dates, fold_text, pick

TITLES = ("MONSIEUR", "MADAME", "MADEMOISELLE", "MLLE", "MME", "MMES", "MR", "MRS", "MM", "M", "MELLE", "DR")
# (a title's dot may touch the name: "M.JOËL NGUYEN" as a narrow face prints it, or as read; a phone
# photo's OCR may read the dot as a comma: "M, RÉMI LE GOFF")
_TITLE_RE = re.compile(
    r"^(?:(?:" + "|".join(TITLES) + r")(?:[.,]\s*|\s+)(?:(?:ET|OU|&)\s+(?:" + "|".join(TITLES) + r")(?:[.,]\s*|\s+))?)",
    re.I,
)
_NAME_CHARS = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-ZÀ-ÖØ-Þa-zß-öø-ÿ'’\- ]{1,60}$")
STREET_WORDS = ("rue", "avenue", "av", "bd", "boulevard", "chemin", "allee", "place", "impasse", "route", "quai",
                "cours", "lotissement", "residence", "square", "passage", "voie", "hameau", "lieu-dit", "lieu dit",
                "chaussee", "faubourg", "fg", "rte", "che", "all", "imp", "pl", "sentier", "cite", "villa",
                "esplanade", "promenade", "parvis", "mail", "rond-point", "traverse", "montee", "bat", "batiment",
                "appartement", "apt", "escalier", "domaine", "clos", "parc")
# (a stray mark read after the city, "67000 STRASBOURG:" or "TOURS.", is not part of it)
_POSTCODE_CITY = re.compile(r"(?<!\d)((?:0[1-9]|[1-8]\d|9[0-8])\d{3})\s+([A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’\- ]{1,40}?)\s*(?:CEDEX\s*\d*)?\s*[.,:;]?\s*$")
_CEDEX = re.compile(r"\bcedex\b|\btsa\b|\bcs\s*\d|\bbp\s*\d", re.I)

ISSUERS = (
    ("EDF", ("edf", "electricite de france")), ("ENGIE", ("engie",)), ("TotalEnergies", ("totalenergies", "total energies")),
    ("Orange", ("orange",)), ("Sosh", ("sosh",)), ("SFR", ("sfr",)), ("RED by SFR", ("red by sfr",)),
    ("Bouygues Telecom", ("bouygues telecom",)), ("Free", ("freebox", "free mobile", "free")),
    ("Veolia", ("veolia",)), ("Suez", ("suez",)), ("Eau de Paris", ("eau de paris",)), ("Saur", ("saur",)),
    ("GRDF", ("grdf",)), ("Enedis", ("enedis",)), ("ekWateur", ("ekwateur",)), ("Vattenfall", ("vattenfall",)),
    ("Mint Energie", ("mint energie",)), ("OHM Energie", ("ohm energie",)), ("Eni", ("eni gas", "eni plenitude")),
    ("DGFiP", ("finances publiques", "dgfip", "impots.gouv")),
)


def lines_of(text: str) -> list[str]:
    return [" ".join(line.split()) for line in (text or "").splitlines() if line.strip()]


def strip_title(name: str) -> str:
    """'M. Jean DUPONT' -> 'JEAN DUPONT'; titles, commas and extra spaces removed, upper case."""
    name = " ".join(name.replace(",", " ").split())
    prev = None
    while prev != name:
        prev = name
        name = _TITLE_RE.sub("", name).strip()
    return name.upper()


def _is_title_line(line: str) -> bool:
    m = _TITLE_RE.match(line)
    if not m or not m.group(0).strip():
        return False
    rest = line[m.end():].strip()
    return bool(rest) and bool(_NAME_CHARS.match(rest)) and len(rest.split()) <= 6 and not any(ch.isdigit() for ch in rest)


def _is_street(line: str) -> bool:
    folded = fold_text(line)
    words = re.findall(r"[a-z\-]+", folded)
    has_word = any(w in STREET_WORDS for w in words)
    return has_word and (any(ch.isdigit() for ch in line) or folded.startswith(("lieu", "residence", "hameau")))


def _postcode_city(line: str) -> tuple[str, str] | None:
    if _CEDEX.search(line):
        return None
    m = _POSTCODE_CITY.search(line)
    if not m:
        return None
    city = " ".join(m.group(2).split()).upper()
    if len(city) < 2:
        return None
    return m.group(1), city


def address_block(lines: list[str]) -> dict[str, str]:
    """Holder name, street line, postcode and city of the addressee block (the one with a title)."""
    best: dict[str, str] = {}
    for i, line in enumerate(lines):
        if not _is_title_line(line):
            continue
        block = {"holder_name": strip_title(line)}
        for j in range(i + 1, min(i + 6, len(lines))):
            pc = _postcode_city(lines[j])
            if pc:
                block["postcode"], block["city"] = pc
                streets = [ln for ln in lines[i + 1:j] if _is_street(ln)] or \
                    [ln for ln in lines[i + 1:j] if any(c.isdigit() for c in ln)]
                if streets:
                    block["address_line"] = streets[-1].upper() if streets[-1].isupper() else streets[-1]
                    block["address_line"] = street_part(block["address_line"])
                break
        if len(block) > len(best):
            best = block
        if len(best) == 4:
            break
    if "holder_name" not in best:
        best.update(_untitled_block(lines))
    if "holder_name" not in best:
        name = labelled_value(lines, ("titulaire du contrat", "nom du titulaire", "titulaire", "locataire",
                                      "nom du client", "client"))
        if name and _NAME_CHARS.match(name) and not is_label_word(name):
            best["holder_name"] = strip_title(name)
    if "postcode" not in best:
        for i, line in enumerate(lines):
            pc = _postcode_city(line)
            if pc and i > 0 and _is_street(lines[i - 1]):
                best["postcode"], best["city"] = pc
                best["address_line"] = street_part(lines[i - 1])
                break
    return best


#: Words that label a party on a page, never a person's name ("BAILLEUR" read as the holder).
PARTY_LABELS = ("bailleur", "proprietaire", "locataire", "titulaire", "client", "gestionnaire", "mandataire",
                "destinataire", "expediteur", "adresse", "nom", "prenom", "agence", "syndic")
#: Labels of the party who is not the holder on a two-party page (the landlord of a rent receipt).
OTHER_PARTY = ("bailleur", "proprietaire", "gestionnaire", "mandataire", "agence", "syndic")


def is_label_word(name: str) -> bool:
    """True when `name` is only label words ("Bailleur", "LOCATAIRE :"), not a person's name."""
    words = re.findall(r"[a-z]+", fold_text(name or ""))
    return bool(words) and all(w in PARTY_LABELS or len(w) <= 2 for w in words)


def _column_gap(ws: list) -> float:
    heights = sorted(w.height for w in ws)
    return 3.0 * heights[len(heights) // 2]


def side_by_side_columns(words) -> list[list[list[str]]]:
    """The side-by-side parts of a page (tenant and landlord, sender and addressee), top down, each
    as its [left lines, right lines], from OCR words with boxes; [] when no two rows in a row are
    cut by a wide gap.

    Tesseract, or the printed-line rebuild, joins the two columns into one line ("MME GUERIN
    Gestion Carnot Habitat"); here each row is cut where the gap between two words is wider than
    three word heights (the first such gap when there are more), and the words of consecutive cut
    rows are given to the left or the right column (with the row above and the row below: a label
    alone over a column, a last line)."""
    rows = _rows(words)
    cuts: list[tuple[int, float]] = []  # (row index, x of the right column's first word)
    for i, (_, _, ws) in enumerate(rows):
        ws.sort(key=lambda w: w.left)
        gaps = [(b.left - (a.left + a.width), b.left) for a, b in zip(ws, ws[1:])]
        wide = [x for gap, x in gaps if gap > _column_gap(ws)]
        if wide:
            # the first gap: a header table puts its labels and its values in two more columns
            # right of the addressee block ("29200 BREST | Date de mise en recouvrement | 16/04/2026")
            cuts.append((i, wide[0]))
    runs: list[list[tuple[int, float]]] = []  # consecutive cut rows, cut at about the same x
    for i, x in cuts:
        if runs and i == runs[-1][-1][0] + 1 and abs(x - runs[-1][0][1]) < 0.1 * max(x, runs[-1][0][1]):
            runs[-1].append((i, x))
        else:
            runs.append([(i, x)])
    parts = []
    for run in (r for r in runs if len(r) >= 2):
        split = min(x for _, x in run)
        lo, hi = max(0, run[0][0] - 1), min(len(rows) - 1, run[-1][0] + 1)
        left, right = [], []
        for _, _, ws in rows[lo:hi + 1]:
            l_ws = [w for w in ws if w.left < split - 2]
            r_ws = [w for w in ws if w.left >= split - 2]
            if l_ws:
                left.append(" ".join(w.text for w in l_ws))
            if r_ws:
                right.append(" ".join(w.text for w in r_ws))
        parts.append([left, right])
    return parts


def _rows(words) -> list[list]:
    """OCR words put in printed rows by their vertical centres: [top, bottom, words] top down."""
    rows: list[list] = []
    for w in sorted(words, key=lambda w: (w.top + w.height / 2, w.left)):
        if not (w.text or "").strip():
            continue
        centre = w.top + w.height / 2
        if rows and rows[-1][0] <= centre <= rows[-1][1]:
            rows[-1][2].append(w)
            rows[-1][0], rows[-1][1] = min(rows[-1][0], w.top), max(rows[-1][1], w.top + w.height)
        else:
            rows.append([w.top, w.top + w.height, [w]])
    return rows


def segment_lines(words) -> list[str]:
    """The printed rows cut at every wide gap (three word heights), each part a line of its own,
    top down and left to right: "21000 DIJON | Date de mise en recouvrement | 04/01/2026" gives
    three lines. An addressee block beside a header table whose rows do not line up with the
    block's (so that no two rows in a row are cut alike, see `side_by_side_columns`) is read
    whole this way."""
    out: list[str] = []
    for _, _, ws in _rows(words):
        ws = sorted(ws, key=lambda w: w.left)
        gap = _column_gap(ws)
        part = [ws[0].text]
        for a, b in zip(ws, ws[1:]):
            if b.left - (a.left + a.width) > gap:
                out.append(" ".join(part))
                part = []
            part.append(b.text)
        out.append(" ".join(part))
    return out


def holder_block_of_columns(parts: list[list[list[str]]]) -> dict[str, str]:
    """The addressee block of a page's side-by-side parts: the one column of a part that is not
    labelled as the other party (bailleur, propriétaire...) and reads as a complete address block
    (holder, postcode); {} when no part has exactly one such column."""
    for columns in parts:
        block = _holder_column(columns)
        if block:
            return block
    return {}


def _holder_column(columns: list[list[str]]) -> dict[str, str]:
    found = []
    for lines in columns:
        folded = fold_text(" ".join(lines))
        other = any(re.search(r"\b" + label + r"\b", folded) for label in OTHER_PARTY)
        block = address_block(lines)
        if block.get("holder_name") and is_label_word(block["holder_name"]):
            block.pop("holder_name")
        if "holder_name" in block and "postcode" in block:
            found.append((other, block))
    mine = [b for other, b in found if not other]
    return mine[0] if len(mine) == 1 else {}


_NUMBER_START = re.compile(r"(?<!\S)\d{1,4}(?:\s?(?:bis|ter|[A-Da-d]))?\s+[A-Za-zÀ-ÿ]")


def street_part(line: str) -> str:
    """The street of a line that the OCR joined to the name above it ("M YACINE HADDAD 9 ALLEE
    DES CERISIERS" -> "9 ALLEE DES CERISIERS") or to specks of it ("me ED 24 RUE EMILE ZOLA"):
    cut at the house number when what follows it is a street and what precedes it is a title,
    or at most four words with no digit and no street word (not "BAT A", "RESIDENCE LES PINS")."""
    m = _NUMBER_START.search(line or "")
    if not m or m.start() == 0 or not _is_street(line[m.start():]):
        return line
    prefix = line[:m.start()]
    words = re.findall(r"[a-z\-]+", fold_text(prefix))
    plain = not any(ch.isdigit() for ch in prefix) and len(prefix.split()) <= 4 and \
        not any(w in STREET_WORDS for w in words)
    if _TITLE_RE.match(line) or plain:
        return line[m.start():].strip()
    return line


def _person_like(name: str) -> bool:
    """A name as bills print it: after a title, or in capitals ("ci-dessus la somme" is prose)."""
    if _TITLE_RE.match(name or ""):
        return True
    letters = [c for c in name or "" if c.isalpha()]
    return len(letters) >= 4 and sum(c.isupper() for c in letters) >= 0.9 * len(letters)


def _untitled_block(lines: list[str]) -> dict[str, str]:
    """An addressee block with no title: a name line in capitals, a street line, a postcode and
    city line, one under the other. A long name leaves no room for the title in the 38
    characters of a postal line (NF Z10-011), so the issuer drops it."""
    for i in range(len(lines) - 2):
        name, street = lines[i], lines[i + 1]
        pc = _postcode_city(lines[i + 2])
        if not pc or not _is_street(street) or any(ch.isdigit() for ch in name):
            continue
        letters = [c for c in name if c.isalpha()]
        if not _NAME_CHARS.match(name) or len(letters) < 4 or sum(c.isupper() for c in letters) < 0.9 * len(letters):
            continue
        return {"holder_name": strip_title(name), "address_line": street, "postcode": pc[0], "city": pc[1]}
    return {}


def labelled_value(lines: list[str], labels: tuple[str, ...]) -> str | None:
    """The text after 'label :' on its line, or the next line when the label ends its line."""
    for i, line in enumerate(lines):
        folded = fold_text(line)
        for label in labels:
            k = folded.find(label)
            if k < 0:
                continue
            rest = line[k + len(label):].lstrip(" :.-")
            if rest.startswith("(s)") or rest.startswith("(e)"):
                rest = rest[3:].lstrip(" :.-")
            if rest:
                return rest.strip()
            if i + 1 < len(lines):
                return lines[i + 1].strip()
    return None


def subtype_of(text: str) -> str:
    norm = normalise(text)
    words = Words(norm.split())
    if any(has_phrase(norm, p, words) for p in ("avis d'impot", "avis d'imposition", "impot sur le revenu",
                                                 "taxe d'habitation",
                                                 "taxe fonciere", "revenu fiscal de reference",
                                                 "avis de situation declarative")):
        return "tax_notice"
    if any(has_phrase(norm, p, words) for p in ("quittance de loyer", "quittance")):
        return "rent_receipt"
    return "bill"


def issuer_of(text: str) -> str | None:
    norm = normalise(text)
    for name, needles in ISSUERS:
        for needle in needles:
            if f" {needle} " in norm:
                return name
    return None


def proof_of_address_fields(text: str, candidates: list[DateCandidate] | None = None) -> dict:
    lines = lines_of(text)
    fields: dict = {"document_subtype": subtype_of(text)}
    issuer = issuer_of(text) or (_first_line_name(lines) if lines else None)
    if issuer:
        fields["issuer"] = issuer
    fields.update(address_block(lines))
    if fields["document_subtype"] == "rent_receipt" and "holder_name" not in fields:
        tenant = _after(text, (r"re[cç]u de", r"locataire\s*:?"))
        if tenant and not is_label_word(tenant) and _person_like(tenant):
            fields["holder_name"] = strip_title(tenant)
    chosen = pick(candidates if candidates is not None else find_dates(text), "issue")
    if chosen:
        fields["issue_date"] = chosen.date.isoformat()
    return fields


def _first_line_name(lines: list[str]) -> str | None:
    """The issuer's name as printed at the top left (its logo text), when it reads as a name."""
    for line in lines[:3]:
        words = re.findall(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’\-]*", line)
        if 1 <= len(words) <= 5 and not any(ch.isdigit() for ch in line) and not _is_title_line(line):
            folded = fold_text(line)
            if any(k in folded for k in ("facture", "avis", "quittance", "date", "page", "numero", "reference")):
                continue
            return " ".join(words)
    return None


def _after(text: str, patterns: tuple[str, ...]) -> str | None:
    """Upper-case name words following one of the patterns (e.g. 'reçu de M. Jean DUPONT')."""
    for pat in patterns:
        m = re.search(pat + r"\s*((?:(?:M\.|MME|MLLE|Monsieur|Madame)\s+)?[A-ZÀ-Þ][\wÀ-ÿ'\-]+(?:\s+[A-ZÀ-Þ][\wÀ-ÿ'\-]+){0,4})",
                      text, re.I)
        if m:
            return m.group(1)
    return None


# --- certificates ----------------------------------------------------------------------------

_SURNAME_LABELS = ("nom de naissance", "nom d'usage", "nom patronymique", "nom de famille", "nom")
_GIVEN_LABELS = ("prenom(s)", "prenoms", "prenom")


def _clean_name(value: str | None) -> str | None:
    if not value:
        return None
    value = re.split(r"\s{2,}|\s(?:ne|nee|né|née|prenom|prénom|date)\b", value, flags=re.I)[0]
    value = re.sub(r"[^A-Za-zÀ-ÿ'’\- ]", " ", value)
    value = " ".join(value.split())
    return strip_title(value) or None


_TITLED = re.compile(r"(?:\bM\.|\bMme\b|\bMlle\b|\bMonsieur\b|\bMadame\b)\s+([A-ZÀ-Þ][A-ZÀ-Þ'’\-]+(?:\s+[A-ZÀ-Þ][\wÀ-ÿ'’\-]+){0,4})")


def _hosted(text: str) -> str | None:
    """The person hosted: the first titled name after the verb 'héberger'."""
    m = re.search(r"h[ée]berger?\b", text, re.I)
    if not m:
        return None
    t = _TITLED.search(text, m.end())
    return t.group(1) if t else None


def licence_fields(text: str) -> dict:
    """The European licence's front, by its numbered fields (1. surname, 2. given names, 3. birth
    date and place, 4a/4b dates, 5. number, 9. categories) or, when OCR drops the numbers, by the
    order of its lines under the title."""
    out: dict = {}
    lines = lines_of(text)
    body = [ln for ln in lines if not any(k in fold_text(ln) for k in ("permis", "republique", "francaise",
                                                                       "driving", "licence", "union"))]
    names: list[str] = []
    for line in body:
        if re.fullmatch(r"\s*\d{1,2}[a-d]?\.?\s*", line):
            continue  # a field's number alone on its line ("1", "2."), its value on the next
        # The field number may lose its dot ("1 DUPRÉ").
        m = re.match(r"^\s*(?:[12]\.?\s+|[12]\.)?([A-ZÀ-Þ][A-ZÀ-Þ'’\- ]{1,40})$", line) or \
            re.match(r"^\s*[12](?:\.\s*|\s+)([A-ZÀ-Þ][A-Za-zß-ÿ'’\- ]{1,40})$", line)  # "2. Marie": its number says it
        if m and not CATEGORY_RE.fullmatch(m.group(1).strip()) and len(m.group(1).strip()) > 2:
            names.append(m.group(1).strip())
        if len(names) == 2 or re.search(r"\d", re.sub(r"^\s*[12]\.?\s", "", line)) and names:
            break
    numbered = _numbered_names(body)
    if len(numbered) == 2:
        names = numbered  # both name fields under their numbers: the lines above them are no name
    if names:
        out["holder_name"] = " ".join(names)
    for line in body:
        # under its number the date may stand alone or touch its place ("3. 14.07.1981(Utopia)")
        m = re.match(r"^\s*(?:3\.\s*)?(\d{2}[./-]\d{2}[./-]\d{4})\s+\D", line) or \
            re.match(r"^\s*3\.\s*(\d{2}[./-]\d{2}[./-]\d{4})(?:\s*\(|\s*$)", line)
        if m:
            try:
                from intake.extractors.dates import parse_date
                out["birth_date"] = parse_date(m.group(1)).isoformat()
            except ValueError:
                pass
            break
    for i, line in enumerate(body):
        m = re.match(r"^\s*(?:5\.\s*)?([0-9A-Z]{9,15})\s*$", line.replace(" ", ""))
        if m and (sum(c.isdigit() for c in m.group(1)) >= 8 or _LICENCE_NUMBER_2013.fullmatch(m.group(1))):
            out["licence_number"] = m.group(1)
            for nxt in [ln for ln in body[i + 1:i + 4] if not re.fullmatch(r"\s*9\.?\s*", ln)][:2]:
                value = licence_categories_line(re.sub(r"^\s*9(?:\.\s*|\s+)", "", nxt))
                # Categories only: a field's number misread ("9." read "D :") is no category.
                if not _CATEGORIES_ONLY.fullmatch(value):
                    value = _b_read_as_8(value)
                if _CATEGORIES_ONLY.fullmatch(value):
                    out["categories"] = categories_in(value)
                    break
            break
    if "categories" not in out:
        # field 9 under its number, the number line (field 5) above it not read
        for line in body:
            m = re.match(r"^\s*9\.\s*(\S.*)$", line)
            value = licence_categories_line(m.group(1)) if m else ""
            if m and _CATEGORIES_ONLY.fullmatch(value):
                out["categories"] = categories_in(value)
                break
    return out


def _numbered_names(body: list[str]) -> list[str]:
    """Fields 1 (surname) and 2 (given names) read with their numbers, in that order, or []."""
    found: dict[str, str] = {}
    for line in body:
        m = re.match(r"^\s*([12])(?:\.\s*|\s+)([A-ZÀ-Þ][A-Za-zß-ÿÀ-Þ'’\- ]{1,40})$", line)
        if m and m.group(1) not in found and len(m.group(2).strip()) > 2 \
                and not CATEGORY_RE.fullmatch(m.group(2).strip()):
            found[m.group(1)] = m.group(2).strip()
    return [found["1"], found["2"]] if len(found) == 2 else []


#: The machine-readable line at the foot of the French licence (2013 model): "D1FRA", the number (9),
#: a check digit, the expiry YYMMDD, the surname cut to 8 characters and padded with "<", a digit.
_LICENCE_MACHINE = re.compile(r"(?<![A-Z0-9])D[1Il]FRA[0-9A-Z]{9}[0-9A-Z][0-9OIl]{6}([A-Z]{2}[A-Z<«]{6})[0-9]?(?![A-Z0-9<])")


def licence_machine_surname(text: str) -> str | None:
    """The surname the licence's machine-readable line carries (its first 8 letters), or None."""
    m = _LICENCE_MACHINE.search((text or "").replace(" ", ""))
    if not m:
        return None
    name = re.split(r"[<«]", m.group(1))[0]
    return name if len(name) >= 2 else None


#: The licence number since 2013: the year of issue, two letters, five digits ("13AA00001"); before,
#: twelve digits.
_LICENCE_NUMBER_2013 = re.compile(r"\d{2}[A-Z]{2}\d{5}")


#: The rows of the categories table on the back of the European licence, top to bottom.
LICENCE_BACK_ROWS = ("AM", "A1", "A2", "A", "B1", "B", "C1", "C", "D1", "D", "BE", "C1E", "CE", "D1E", "DE")
_ROW_DATE = re.compile(r"\d{2}[./,-]?\w{2}[./,-]?\d{4}")


def licence_back_categories(words) -> list[str]:
    """Categories held, from the table on the back of the European licence: the rows that carry
    a date (column 10, obtained; column 11, valid until).

    `words` are OCR words with boxes (text, left, top, width, height). A date is put in its row by
    its height on the page, against the rows whose labels were read: small print in a column is
    often read with one label wrong or two rows run together, so rows are not taken from lines."""
    found = []  # (row index, centre y, left, height)
    for w in words:
        label = re.sub(r"[^A-Z0-9]", "", w.text.upper())
        if label in LICENCE_BACK_ROWS:
            found.append((LICENCE_BACK_ROWS.index(label), w.top + w.height / 2, w.left, w.height))
    if len(found) < 4:
        return []
    column = sorted(f[2] for f in found)[len(found) // 2]  # the labels' column, not a stray "B"
    size = max(1, sorted(f[3] for f in found)[len(found) // 2])
    labels = [(i, y) for i, y, x, _ in found if abs(x - column) < 3 * size]
    if len(labels) < 4:
        return []
    rows = sorted(labels)
    pitches = [(b[1] - a[1]) / (b[0] - a[0]) for a, b in zip(rows, rows[1:]) if b[0] > a[0]]
    if not pitches:
        return []
    pitch = sorted(pitches)[len(pitches) // 2]
    if pitch <= 0:
        return []
    origin = sorted(y - i * pitch for i, y in labels)[len(labels) // 2]  # where row 0 sits
    held: list[str] = []
    for w in words:
        if not _ROW_DATE.search(w.text) or w.left <= column:
            continue
        row = round((w.top + w.height / 2 - origin) / pitch)
        if 0 <= row < len(LICENCE_BACK_ROWS) and LICENCE_BACK_ROWS[row] not in held:
            held.append(LICENCE_BACK_ROWS[row])
    return [c for c in LICENCE_BACK_ROWS if c in held]


def person_name(text: str) -> str | None:
    """'SURNAME GIVEN NAMES' from 'Nom : … / Prénom(s) : …' labels, or from a titled line or 'Je
    soussigné(e) …' / 'certifie que …' phrasing."""
    lines = lines_of(text)
    surname = given = None
    for i, line in enumerate(lines):
        folded = fold_text(line)
        # (the label's words may be misread: "Nom de nalsaance" is still the birth name's label)
        m = re.match(r"^\s*(?:1\.\s*)?(nom(?: de naiss?\w*| de na\w*ance| d'usage| de famille| patronymique)?)"
                     r"\s*:?\s*(.*)$", folded)
        if m and surname is None and not folded.startswith(("nom et", "nom, ")):
            value = line[len(line) - len(m.group(2)):] if m.group(2) else (lines[i + 1] if i + 1 < len(lines) else "")
            # "Nom : DUPONT Prénom : JEAN" on one line
            parts = re.split(r"(?i)pr[ée]noms?(?:\(s\))?\s*:?", value, maxsplit=1)
            surname = _clean_name(parts[0])
            if len(parts) > 1 and given is None:
                given = _clean_name(parts[1])
            continue
        # "Prénom(s)", also with a letter the OCR slipped in before its "(s)" ("Prénomt(s)")
        m = re.match(r"^\s*(?:2\.\s*)?(prenoms?(?:[a-z]?\([a-z]\))?)\s*:?\s*(.*)$", folded)
        if m and given is None:
            value = line[len(line) - len(m.group(2)):] if m.group(2) else (lines[i + 1] if i + 1 < len(lines) else "")
            given = _clean_name(value)
    if surname:
        return f"{surname} {given}".strip() if given else surname
    named = _after(text, (r"je soussign[ée]e?(?:\(e\))?", r"certifie que", r"atteste que", r"d[ée]livr[ée]e? [àa]"))
    if named:
        return _clean_name(named)
    for line in lines:
        if _is_title_line(line):
            return strip_title(line)
    return None


def _dates_fields(text: str, fields: dict, candidates: list[DateCandidate]) -> None:
    birth = pick(candidates, "birth")
    if birth:
        fields["birth_date"] = birth.date.isoformat()
    issue = pick(candidates, "issue") or pick(candidates, "exam")
    if issue:
        fields["issue_date"] = issue.date.isoformat()


#: A licence category, the longer codes before their prefixes (C1E before C1 before C).
_CATEGORY = r"(?:C1E|D1E|AM|A1|A2|B1|BE|C1|CE|D1|DE|A|B|C|D)"
CATEGORY_RE = re.compile(rf"(?<![A-Za-z0-9])({_CATEGORY})(?![A-Za-z0-9])")
#: A field 9 that holds categories and nothing else ("AM/B1/B", "B, BE").
_CATEGORIES_ONLY = re.compile(rf"\s*{_CATEGORY}(?:(?:\s*[/,]\s*|\s+){_CATEGORY})*\s*")
_CATEGORY_RUN = re.compile(rf"{_CATEGORY}(?:[/|Il]{_CATEGORY})+")


def licence_categories_line(value: str) -> str:
    """Field 9 of a licence ('AM/B1/B') with its slashes restored where OCR read them as I, l or |
    ('AMIB' -> 'AM/B'), when the whole value is categories so joined; else unchanged."""
    compact = value.replace(" ", "")
    if not _CATEGORY_RUN.fullmatch(compact):
        return value
    return " ".join(re.split(r"[/|Il]", compact))


def _b_read_as_8(value: str) -> str:
    """Field 9 with a bold B read as 8 ("8", "AM/8", "8E") given back its B: no category is a
    digit, so a lone 8 there can only be a B; anything else is left as read."""
    fixed = licence_categories_line(re.sub(r"(?<![0-9A-Z])8(?=[1E]?(?![0-9A-Z]))", "B", value))
    return fixed if _CATEGORIES_ONLY.fullmatch(fixed) else value


def categories_in(value: str) -> list[str]:
    seen: list[str] = []
    for m in CATEGORY_RE.finditer(value):
        if m.group(1) not in seen:
            seen.append(m.group(1))
    return seen


def training_of(text: str) -> str | None:
    norm = normalise(text)
    words = Words(norm.split())
    if has_phrase(norm, "b96", words) or has_phrase(norm, "be de 7 heures", words) or \
            has_phrase(norm, "formation de 7 heures", words) and has_phrase(norm, "remorque", words):
        return "B96"
    if any(has_phrase(norm, p, words) for p in ("code 78", "levee de la restriction", "boite automatique",
                                                 "boite de vitesses automatique")):
        return "levee_78"
    if any(has_phrase(norm, p, words) for p in ("categorie am", "cyclomoteur", "permis am", "bsr", "formation am")):
        return "AM"
    if any(has_phrase(norm, p, words) for p in ("a2 vers a", "acces progressif", "formation passerelle",
                                                 "categorie a ", "formation a la categorie a")):
        return "A"
    return None


def assr_level(text: str) -> str | None:
    norm = normalise(text)
    words = Words(norm.split())
    if any(has_phrase(norm, p, words) for p in ("second niveau", "deuxieme niveau", "assr 2", "assr2",
                                                 "niveau 2")):
        return "ASSR2"
    if any(has_phrase(norm, p, words) for p in ("premier niveau", "assr 1", "assr1", "niveau 1")):
        return "ASSR1"
    if " asr " in norm or "attestation de securite routiere" in norm:
        return "ASR"
    return None


_OPTION = re.compile(r"^\s*(\S{0,6}?)\s*(apte|inapte|favorable|defavorable)\b")
_TICK = re.compile(r"[x×☒☑✔✓]")


def medical_fit(text: str) -> bool | None:
    """Fit or not from the ticked option of the form (a box read as [X], [IX], X, ☒ before
    'Apte' / 'Inapte'), else from the wording when only one of the two is printed."""
    folded = fold_text(text)
    for line in folded.splitlines():
        m = _OPTION.match(line)
        if m and _TICK.search(m.group(1)):
            return m.group(2) in ("apte", "favorable")
    has_unfit = re.search(r"\b(inapte|defavorable)\b", folded) is not None
    has_fit = re.search(r"(?<![a-z])(apte|favorable)\b", folded) is not None
    if has_unfit and not has_fit:
        return False
    if has_fit and not has_unfit:
        return True
    return None


def certificate_fields(kind: str, text: str, candidates: list[DateCandidate] | None = None) -> dict:
    """Fields of assr, jdc, medical_opinion, driving_licence, training_certificate, exam_certificate,
    hosting_attestation."""
    candidates = candidates if candidates is not None else find_dates(text)
    lines = lines_of(text)
    fields: dict = {}
    if kind == "hosting_attestation":
        host = _after(text, (r"je soussign[ée]e?(?:\(e\))?",))
        hosted = _hosted(text)
        if host:
            fields["host_name"] = _clean_name(host)
            fields["holder_name"] = fields["host_name"]
        if hosted:
            fields["hosted_name"] = _clean_name(hosted)
    elif kind == "driving_licence":
        fields.update(licence_fields(text))
    else:
        name = person_name(text)
        if name:
            fields["holder_name"] = name
    if kind == "medical_opinion":
        cats = labelled_value(lines, ("categories", "categorie", "categorie(s)"))
        if cats:
            found = categories_in(cats.replace("©", "C"))  # a bold C alone is read as ©
            if found:
                fields["categories"] = found
        fit = medical_fit(text)
        if fit is not None:
            fields["fit"] = fit
    if kind == "training_certificate":
        training = training_of(text)
        if training:
            fields["training"] = training
    if kind == "assr":
        level = assr_level(text)
        if level:
            fields["level"] = level
    if kind != "driving_licence":
        _dates_fields(text, fields, candidates)
    return fields
