"""Matching the names read on a document with a declared person (RULES.md, Matching people).

Names are compared the way an MRZ writes them (ICAO 9303 folding, `intake.icao.fold`): case,
accents, hyphens and apostrophes do not matter, tokens may be glued (JEANLUC = JEAN-LUC), and a
tail cut by the width of an MRZ name field is accepted only when the field is actually full.
A token of four letters or more that differs by one letter is a `near` result: worth a review,
never a match. Everything here is pure and never logs names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from intake.dossier import Person
from intake.icao import plain_name_tokens, name_tokens

MATCH = "match"
NEAR = "near"
NONE = "none"

#: Courtesy titles printed before a name on bills and certificates, ignored when matching.
TITLES = frozenset({"M", "MR", "MME", "MMES", "MLLE", "MM", "MONSIEUR", "MADAME", "MADEMOISELLE", "MRS", "MS"})
#: Words joining a birth name and a usage name ("DUPONT EPOUSE MARTIN").
CONNECTORS = frozenset({"EP", "EPSE", "EPOUSE", "EPX", "EPOUX", "VVE", "VEUVE", "NEE", "DIT", "DITE"})
#: Width of the name field(s) per MRZ format: one number for a shared SURNAME<<GIVEN field,
#: a (surname, given names) pair for the French laminated CNI, which has two separate fields.
MRZ_NAME_WIDTH: dict[str, int | tuple[int, int]] = {"td1": 30, "td2": 31, "td3": 39, "fr_cni_2x36": (25, 14)}
#: Shortest token where a one-letter difference is a `near` (RULES.md: four letters or more).
NEAR_MIN_LETTERS = 4


def _joined(tokens: Iterable[str]) -> str:
    return "".join(tokens)


def edit_distance_at_most_one(a: str, b: str) -> bool:
    """True when `a` and `b` differ by at most one substitution, insertion or deletion."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1:] == b[i + 1:]
    return a[i:] == b[i + 1:]


def _near_tokens(doc: Sequence[str], declared: Sequence[str]) -> bool:
    """One token of 4+ letters differs by one letter, all others equal (also on glued forms)."""
    if not doc or not declared:
        return False
    if len(doc) == len(declared):
        diffs = [(a, b) for a, b in zip(doc, declared) if a != b]
        if len(diffs) == 1:
            a, b = diffs[0]
            return min(len(a), len(b)) >= NEAR_MIN_LETTERS and edit_distance_at_most_one(a, b)
        return False
    a, b = _joined(doc), _joined(declared)
    if (len(doc) == 1 or len(declared) == 1) and a != b:
        return min(len(a), len(b)) >= NEAR_MIN_LETTERS and edit_distance_at_most_one(a, b)
    return False


def _flat_tokens(values: str | Sequence[str] | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    return [t for v in values for t in name_tokens(str(v))]


#: Stands, in a declared name, for a letter that French OCR cannot write and reads as anything:
#: the slashed O (Ø) is not in tesseract's `fra` alphabet and has been read G, O, D and 0. Any
#: one letter read there is that letter; the rest of the name must still be exact.
ANY_LETTER = "\u019f"
_UNWRITABLE = frozenset("Øø")


def unwritable_blind_tokens(text: str | None) -> list[str]:
    """Name tokens with the letters OCR cannot write as ANY_LETTER: 'Ødegaard' -> ['ƟDEGAARD']."""
    return name_tokens("".join(ANY_LETTER if c in _UNWRITABLE else c for c in text or ""))


def spelled_as(read: str, declared: str) -> bool:
    """The read form is the declared one, ANY_LETTER in the declared form matching any one letter."""
    if len(read) != len(declared):
        return False
    return read == declared or all(d == ANY_LETTER or r == d for r, d in zip(read, declared))


def _starts_as(read: str, declared: str) -> bool:
    return len(read) <= len(declared) and spelled_as(read, declared[:len(read)])


#: A declared name may be written the ICAO way (Ö -> OE, in every MRZ) or with the base letter
#: (Ö -> O: bills, certificates, and what the OCR gives for letters French does not use), or read
#: with anything in place of a letter the OCR does not know (Ø).
_spellings = (name_tokens, plain_name_tokens, unwritable_blind_tokens)


def surname_variants(person: Person) -> list[list[str]]:
    """The token lists a document may show as this person's surname: birth name, usage name, both."""
    variants = []
    for tokens in _spellings:
        birth = tokens(person.surname)
        variants.append(birth)
        if person.usage_name:
            usage = tokens(person.usage_name)
            variants += [usage, birth + usage, usage + birth]
    return _unique([v for v in variants if v])


def first_name_variants(person: Person) -> list[list[str]]:
    """The first given name as tokens; a first entry typed with a space ("Jean Pierre") may be
    two given names in one field, so its first word alone is accepted too (a hyphen is a
    compound name, JEAN-LUC, and must match whole)."""
    if not person.given_names:
        return []
    first = person.given_names[0]
    words = first.strip().split()
    variants = []
    for tokens in _spellings:
        variants.append(tokens(first))
        if len(words) > 1:
            variants.append(tokens(words[0]))
    return _unique([v for v in variants if v])


def _unique(variants: list[list[str]]) -> list[list[str]]:
    seen, out = set(), []
    for v in variants:
        if tuple(v) not in seen:
            seen.add(tuple(v))
            out.append(v)
    return out


def mrz_truncation(surname: str | None, given_names: str | Sequence[str] | None,
                   mrz_format: str | None) -> tuple[bool, bool]:
    """Whether the surname, and the given names, read from an MRZ may have lost their tail.

    Only a field filled to its width (give or take the filler cut at a token boundary) can be
    truncated; names read anywhere else are printed whole.
    """
    width = MRZ_NAME_WIDTH.get(mrz_format or "")
    if width is None:
        return False, False
    s = "<".join(_flat_tokens(surname))
    if isinstance(width, tuple):
        if isinstance(given_names, str):
            given_names = [given_names]
        g = "<<".join("<".join(name_tokens(str(v))) for v in (given_names or []))
        return len(s) >= width[0] - 1, len(g) >= width[1] - 1
    g = "<".join(_flat_tokens(given_names))
    total = len(s) + (2 + len(g) if g else 0)
    if not g:
        # The surname filled the field: it may be cut, and the given names had no room at all.
        full = len(s) >= width - 2
        return full, full
    return False, total >= width - 1


def strip_connectors(tokens: list[str]) -> list[str]:
    """'DUPONT EPOUSE MARTIN' -> DUPONT MARTIN (a connector never starts a surname)."""
    return tokens[:1] + [t for t in tokens[1:] if t not in CONNECTORS]


def compare_surname(doc_surname: str | Sequence[str] | None, person: Person, truncated: bool = False) -> str:
    """MATCH, NEAR or NONE for the surname read on a document against the declared person."""
    raw = _flat_tokens(doc_surname)
    if not raw:
        return NONE
    readings = [raw] + ([strip_connectors(raw)] if strip_connectors(raw) != raw else [])
    variants = surname_variants(person)
    for doc in readings:
        doc_joined = _joined(doc)
        for v in variants:
            decl = _joined(v)
            if spelled_as(doc_joined, decl):
                return MATCH
            if truncated and len(doc_joined) >= 2 and decl.startswith(doc_joined):
                return MATCH
    if any(_near_tokens(doc, v) for doc in readings for v in variants):
        return NEAR
    return NONE


def compare_given_names(doc_given: str | Sequence[str] | None, person: Person, truncated: bool = False) -> str:
    """MATCH when the document's given names start with the declared first given name."""
    doc = _flat_tokens(doc_given)
    if not doc:
        # An MRZ whose surname filled the whole name field has no room left for given names.
        return MATCH if truncated and person.given_names else NONE
    variants = first_name_variants(person)
    prefixes = [_joined(doc[:k]) for k in range(1, len(doc) + 1)]
    for v in variants:
        first = _joined(v)
        if any(spelled_as(prefix, first) for prefix in prefixes):
            return MATCH
        if truncated and len(prefixes[-1]) >= 1 and first.startswith(prefixes[-1]):
            return MATCH
    for v in variants:
        for k in range(1, len(doc) + 1):
            if _near_tokens(doc[:k], v):
                return NEAR
    return NONE


@dataclass(frozen=True)
class NameComparison:
    """How the names on a document compare with one declared person."""

    surname: str
    given: str

    @property
    def level(self) -> str:
        if NONE in (self.surname, self.given):
            return NONE
        if NEAR in (self.surname, self.given):
            return NEAR
        return MATCH

    @property
    def partial(self) -> bool:
        """Something is in common (a surname or a first name), though not enough to match."""
        return self.surname != NONE or self.given != NONE


def compare_names(doc_surname: str | Sequence[str] | None, doc_given: str | Sequence[str] | None,
                  person: Person, mrz_format: str | None = None) -> NameComparison:
    """Compare the structured names of an identity document with a declared person."""
    cut_surname, cut_given = mrz_truncation(
        doc_surname if isinstance(doc_surname, str) else " ".join(doc_surname or []), doc_given, mrz_format
    )
    return NameComparison(
        surname=compare_surname(doc_surname, person, cut_surname),
        given=compare_given_names(doc_given, person, cut_given),
    )


def _find_runs(tokens: Sequence[str], target: str, skip: frozenset[int] = frozenset()) -> list[tuple[int, int]]:
    """Every [i, j) run of tokens whose glued form is `target`, avoiding `skip`."""
    out: list[tuple[int, int]] = []
    if not target:
        return out
    for i in range(len(tokens)):
        acc = ""
        for j in range(i, len(tokens)):
            if j in skip:
                break
            acc += tokens[j]
            if spelled_as(acc, target):
                out.append((i, j + 1))
                break
            if not _starts_as(acc, target):
                break
    return out


@dataclass(frozen=True)
class HolderNameMatch:
    """How a free-form holder name ('MME DUPONT MARIE', 'Marie Dupont') relates to a person."""

    surname: bool
    given: bool
    other_words: int  # words left once titles, surname and first name are taken out

    @property
    def level(self) -> str:
        """MATCH: surname and first name (or surname alone when nothing else is written);
        NEAR: the surname and some other words, maybe another first name; NONE otherwise."""
        if self.surname and (self.given or self.other_words == 0):
            return MATCH
        if self.surname:
            return NEAR
        return NONE


def holder_tokens(holder_name: str | None, tokens=name_tokens) -> list[str]:
    """Name tokens of a free-form holder name, courtesy titles removed."""
    return [t for t in tokens(holder_name or "") if t not in TITLES]


def _holder_first_name_variants(person: Person) -> list[list[str]]:
    """First-name forms on a postal name line: whole, or its initial (the 38-character address line
    of NF Z10-011 abbreviates first names of long names: "MME C LE CLEZIO DE KERGUELEN")."""
    variants = first_name_variants(person)
    if variants and variants[0]:
        variants = variants + [[variants[0][0][0]]]
    return variants


#: Vowels carrying a mark. French OCR confuses them with each other (Ö read Ô or Ü, Ú read Ü).
_MARKED_VOWELS = frozenset("ÀÁÂÃÄÅÈÉÊËÌÍÎÏÒÓÔÕÖÙÚÛÜÝŸØàáâãäåèéêëìíîïòóôõöùúûüýÿø")


def marked_vowel_blind_tokens(text: str | None) -> list[str]:
    """Name tokens with every marked vowel written alike ('BJÜRN' and 'Björn' give the same
    tokens). Used only for the first name of a holder whose surname is already found: there, a
    vowel's mark read as another mark is an OCR slip, not another person."""
    return name_tokens("".join("Ø" if c in _MARKED_VOWELS else c for c in text or ""))


def match_holder_name(holder_name: str | None, person: Person) -> HolderNameMatch:
    """Match a free-form name in any order (bills write 'DUPONT JEAN' or 'M JEAN DUPONT'), in
    either spelling of the letters ICAO writes with two (the OCR may read Ö as Ô or Ü)."""
    best: HolderNameMatch | None = None
    blind = holder_tokens(holder_name, marked_vowel_blind_tokens)
    for spelling in _spellings:
        tokens = holder_tokens(holder_name, spelling)
        found = _match_holder_tokens(tokens, person, blind if len(blind) == len(tokens) else None)
        if found is not None and (best is None or (found.given, -found.other_words) > (best.given, -best.other_words)):
            best = found
    if best is None:
        return HolderNameMatch(surname=False, given=False, other_words=len(holder_tokens(holder_name)))
    return best


def _match_holder_tokens(tokens: list[str], person: Person, blind: list[str] | None = None) -> HolderNameMatch | None:
    best: HolderNameMatch | None = None
    blind_first = _joined(marked_vowel_blind_tokens(person.given_names[0])) if person.given_names else ""
    for sv in surname_variants(person):
        for run in _find_runs(tokens, _joined(sv)):
            used = set(range(*run))
            # Try every place of the first name too: a first name may repeat the surname (THOMAS THOMAS).
            placements = [set(range(*g)) for fv in _holder_first_name_variants(person)
                          for g in _find_runs(tokens, _joined(fv), frozenset(used))]
            if blind is not None and blind_first:
                placements += [set(range(*g)) for g in _find_runs(blind, blind_first, frozenset(used))]
            placements = placements or [set()]
            for extra in placements:
                given = bool(extra)
                taken = used | extra
                rest = [t for k, t in enumerate(tokens) if k not in taken and t not in CONNECTORS]
                # Once the first given name is there, the other declared given names are not "other words".
                others = {t for g in person.given_names for sp in _spellings for t in sp(g)} if given else set()
                cand = HolderNameMatch(surname=True, given=given,
                                       other_words=len([t for t in rest if t not in others]))
                if best is None or (cand.given, -cand.other_words) > (best.given, -best.other_words):
                    best = cand
    return best


#: AFNOR NF Z10-011: an address line holds 38 characters; issuers cut a longer name line there.
POSTAL_LINE = 38


def address_holder_near(holder_name: str | None, person: Person) -> bool:
    """Some words of the holder name spell the person's surname but for one letter (4 letters or
    more): an OCR slip ("N'DIAYE" read "NIDIAYE") as likely as another family, so a person looks.
    Likewise a name line cut at the postal width ("... DELACROIX MONTAIG" for DELACROIX MONTAIGNE):
    its last words begin the surname."""
    cut = len(" ".join((holder_name or "").split())) >= POSTAL_LINE - 3
    for spelling in _spellings:
        tokens = holder_tokens(holder_name, spelling)
        runs = {_joined(tokens[i:j]) for i in range(len(tokens)) for j in range(i + 1, len(tokens) + 1)}
        tails = {_joined(tokens[i:]) for i in range(len(tokens))} if cut else set()
        for variant in surname_variants(person):
            surname = _joined(variant)
            if any(min(len(r), len(surname)) >= NEAR_MIN_LETTERS and edit_distance_at_most_one(r, surname)
                   for r in runs):
                return True
            if any(len(t) >= NEAR_MIN_LETTERS and surname.startswith(t) for t in tails):
                return True
    return False


def address_holder_matches(holder_name: str | None, person: Person) -> bool:
    """RULES.md: a proof of address matches when its holder name contains the surname (or the
    usage name) of the person, whatever the order, titles ignored."""
    return match_holder_name(holder_name, person).surname
