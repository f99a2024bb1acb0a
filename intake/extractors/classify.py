"""Which kind of piece a page is, from the words printed on it and cheap layout signals.

Each kind has phrases that real documents print (ANTS attestations, Cerfa 14880, bills, tax
notices, e-photo sheets). A strong phrase names the document ("attestation d'hébergement"); a weak
one only hints ("kWh"). Matching is done on folded text (lower case, no accents, single spaces) and
tolerates one OCR error in long words. The score of a kind is the sum of its matched weights; the
confidence grows with the score and with the margin over the runner-up.
"""

from __future__ import annotations

import re
from functools import lru_cache
from dataclasses import dataclass, field

from intake.extractors.dates import fold_text

# (phrase, weight). Phrases are folded: lower case, no accents, straight apostrophes.
KEYWORDS: dict[str, list[tuple[str, float]]] = {
    "identity_card": [
        ("carte nationale d'identite", 6), ("identity card", 5), ("carte d'identite", 4),
        ("national identity card", 5), ("personalausweis", 5), ("documento nacional de identidad", 5),
        ("carta d'identita", 5), ("date de naiss", 1), ("lieu de naissance", 1), ("nationalite", 1),
        ("prenom", 1), ("sexe", 1), ("republique francaise", 1), ("valable jusqu", 1), ("nom d'usage", 1),
        ("taille", 0.5), ("signature du titulaire", 1), ("carte valable jusqu'au", 4), ("delivree le", 1),
        ("signature de l'autorite", 1),
    ],
    "passport": [
        ("passeport", 6), ("passport", 6), ("pasaporte", 5), ("reisepass", 5), ("autorite", 0.5),
    ],
    "residence_permit": [
        ("titre de sejour", 7), ("carte de resident", 7), ("residence permit", 7), ("carte de sejour", 7),
        ("autorisation provisoire de sejour", 6), ("recepisse", 3),
    ],
    "proof_of_address": [
        ("facture", 3), ("avis d'impot", 6), ("impot sur le revenu", 5), ("taxe d'habitation", 5),
        ("taxe fonciere", 4), ("quittance de loyer", 7), ("quittance", 3), ("loyer", 2),
        ("revenu fiscal de reference", 4), ("finances publiques", 3), ("electricite", 2), ("gaz naturel", 2),
        ("consommation", 1.5), ("kwh", 2), ("abonnement", 1.5), ("montant ttc", 2), ("total ttc", 2),
        ("tva", 1), ("prelevement", 1), ("reference client", 2), ("numero client", 2), ("n° client", 2),
        ("titulaire du contrat", 2), ("adresse de facturation", 2), ("lieu de consommation", 2),
        ("point de livraison", 2), ("eau potable", 2), ("assainissement", 1.5), ("m3", 0.5),
        ("box", 1), ("internet", 1), ("telephone", 0.5), ("forfait", 1.5), ("mobile", 0.5),
        ("date limite de paiement", 2), ("a payer", 1.5), ("montant a payer", 2), ("echeancier", 1.5),
        ("charges", 1), ("bailleur", 2), ("locataire", 2), ("proprietaire", 1),
        # wording of bills and notices of any issuer (not only the family-1 fixtures' issuers)
        ("avis d'imposition", 6), ("votre facture", 2), ("montant a regler", 2), ("a regler avant", 1.5),
        ("date d'emission", 1.5), ("avis d'echeance", 3), ("releve de compte", 1.5), ("eaux usees", 2),
        ("redevance", 1),
        ("edf", 2), ("engie", 2), ("totalenergies", 2), ("veolia", 2), ("suez", 2), ("orange", 1),
        ("sfr", 1.5), ("bouygues telecom", 2), ("free mobile", 2), ("freebox", 2), ("eau de paris", 2),
    ],
    "hosting_attestation": [
        ("attestation d'hebergement", 8), ("certificat d'hebergement", 8), ("heberge a mon domicile", 5),
        ("hebergeant", 4), ("atteste sur l'honneur heberger", 5), ("heberger", 2), ("heberge", 2),
        ("depuis le", 0.5), ("sur l'honneur", 1),
    ],
    "photo_code": [
        ("code e-photo", 7), ("code ephoto", 7), ("e-photo", 4), ("ephoto", 4),
        ("photo signature numerique", 7), ("photo-signature", 5), ("signature numerique", 3),
        ("code photo", 4), ("ants", 1), ("photomaton", 3), ("photographe agree", 3), ("cabine", 1),
        ("planche", 1), ("photo d'identite", 2), ("identifiant photo", 3),
        # other vendors' wording: the code as a signature number, the shot's date, the ISO norm of photos
        ("n° de signature", 5), ("numero de signature", 5), ("prise de vue", 3), ("photos d'identite", 2),
        ("19794-5", 3),
    ],
    "assr": [
        ("attestation scolaire de securite routiere", 8), ("attestation de securite routiere", 7),
        ("assr", 5), ("asr", 3), ("securite routiere", 1.5), ("premier niveau", 2), ("second niveau", 2),
        ("deuxieme niveau", 2), ("niveau 1", 1), ("niveau 2", 1), ("college", 1), ("declaration sur l'honneur", 1),
    ],
    "jdc": [
        ("journee defense et citoyennete", 8), ("journee d'appel de preparation a la defense", 7),
        ("jdc", 5), ("japd", 4), ("certificat individuel de participation", 6),
        ("attestation de recensement", 7), ("recensement", 3), ("service national", 3),
        ("exemption", 1.5), ("exempte", 1.5), ("defense", 1),
    ],
    "medical_opinion": [
        ("avis medical", 6), ("14880", 6), ("cerfa", 1), ("medecin agree", 4), ("commission medicale", 4),
        ("aptitude a la conduite", 4), ("aptitude medicale", 4), ("apte", 1), ("inapte", 2),
        ("restrictions", 1), ("visite medicale", 3), ("controle medical", 3), ("medecin", 1.5),
    ],
    "driving_licence": [
        ("permis de conduire", 2.5), ("driving licence", 5), ("driving license", 5), ("fuhrerschein", 5),
        ("permiso de conduccion", 5), ("4a.", 1), ("4b.", 1), ("4c.", 1), ("4d.", 0.5), ("5.", 0.3),
        ("9.", 0.3), ("prefecture", 1),
    ],
    "training_certificate": [
        ("attestation de suivi de formation", 7), ("attestation de formation", 6), ("attestation de fin de formation", 7),
        ("formation pratique", 3), ("b96", 4), ("formation de 7 heures", 4), ("formation de sept heures", 4),
        ("formation passerelle", 4), ("acces progressif", 3), ("categorie am", 2), ("cyclomoteur", 2),
        ("code 78", 4), ("boite automatique", 2), ("levee de la restriction", 4), ("formateur", 1.5),
        ("etablissement d'enseignement", 2), ("ecole de conduite", 1.5), ("auto-ecole", 1),
        ("nombre d'heures", 1.5), ("heures de formation", 2),
    ],
    "exam_certificate": [
        ("certificat d'examen du permis de conduire", 8), ("cepc", 6), ("certificat d'examen", 6),
        ("examen pratique", 3), ("epreuve pratique", 3), ("favorable", 2), ("inspecteur", 2),
        ("expert", 0.5), ("resultat", 1), ("reussite", 1.5),
    ],
}

#: Phrases whose presence strongly suggests a card face, used to tell front from back.
CARD_FRONT = ("carte nationale d'identite", "identity card", "nom", "prenom", "date de naiss", "sexe",
              "nationalite", "passeport", "titre de sejour", "residence permit")
CARD_BACK = ("adresse", "delivree le", "delivre le", "par", "taille", "autorite", "date de delivrance",
             "valable jusqu", "carte valable jusqu'au")
#: Categories of the table on the back of the European driving licence.
LICENCE_TABLE = ("am", "a1", "a2", "b1", "be", "c1", "c1e", "ce", "d1", "d1e", "de")


def licence_table_rows(text: str) -> int:
    """How many category rows of the licence's back table the text shows (AM, A1, ... D1E)."""
    norm = normalise(text)
    words = set(norm.split())
    return sum(1 for c in LICENCE_TABLE if c in words)

#: Lines only the licence's front prints, which survive when OCR drops its field numbers: the
#: birth date with dots and the place with its department ("26.01.1995 MARSEILLE (13)", where
#: certificates write "né(e) le 26/01/1995 à Marseille"), and the 12-digit licence number alone.
_LICENCE_FRONT_LINES = (
    re.compile(r"^\s*(?:3\.?\s*)?\d{2}\.\d{2}\.\d{4}\s+[A-ZÀ-Þ][A-ZÀ-Þ' \-]*\(\d{2,3}\)\s*$"),
    re.compile(r"^\s*(?:5\.?\s*)?\d{12}\s*$"),
)


def licence_front_lines(text: str) -> int:
    """How many of the licence front's own line shapes the text shows (0 to 2)."""
    lines = (text or "").splitlines()
    return sum(1 for shape in _LICENCE_FRONT_LINES if any(shape.match(line) for line in lines))


#: The machine-readable line at the foot of the French licence since 2013 (ISO 18013 model:
#: "D1FRA", the number, dates, the surname, fillers), with its 1 often read as I or l.
_LICENCE_MACHINE_LINE = re.compile(r"(?<![A-Z0-9])D[1Il]FRA[0-9A-Z<«]{12,}")
#: The sub-fields of field 4 (4a issue, 4b expiry, 4c authority, 4d personal number), which only
#: the European licence numbers so; their dot is often lost ("4b 31.12.2015").
_LICENCE_SUBFIELD = re.compile(r"(?m)^\W{0,2}4\s?([abcd])(?![a-z])")


def licence_machine_line(text: str) -> bool:
    """The French licence's machine-readable line is in the text."""
    return bool(_LICENCE_MACHINE_LINE.search((text or "").replace(" ", "")))


def licence_subfields(text: str) -> int:
    """How many of the sub-fields 4a to 4d start a line of the text."""
    return len(set(_LICENCE_SUBFIELD.findall(text or "")))


_NON_WORD = re.compile(r"[^a-z0-9'°.\-]+")


def normalise(text: str) -> str:
    """Folded text with single spaces, for phrase matching."""
    return " " + " ".join(_NON_WORD.sub(" ", fold_text(text or "")).split()) + " "


def _close(a: str, b: str) -> bool:
    """Equal, or one edit apart when both are long enough for an OCR slip to be unambiguous."""
    if a == b:
        return True
    if len(b) < 6 or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b)) <= 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(long_)):
        if long_[:i] + long_[i + 1:] == short:
            return True
    return False


@lru_cache(maxsize=1024)
def _bounded(phrase: str) -> re.Pattern:
    """The phrase not glued to a letter or digit on either side (punctuation may touch it)."""
    return re.compile(r"(?<![a-z0-9])" + re.escape(phrase) + r"(?![a-z0-9])")


class Words(list):
    """The words of a normalised text, indexed by length: the fuzzy phrase search only tries the
    places where the phrase's first word could be (same length, or one letter more or less)."""

    def __init__(self, words):
        super().__init__(words)
        self.by_length: dict[int, list[int]] = {}
        for i, w in enumerate(self):
            self.by_length.setdefault(len(w), []).append(i)

    def starts(self, token: str) -> list[int]:
        n = len(token)
        if n < 6:  # short words must match exactly
            return [i for i in self.by_length.get(n, ()) if self[i] == token]
        return [i for m in (n - 1, n, n + 1) for i in self.by_length.get(m, ())]


def has_phrase(norm: str, phrase: str, words: list[str] | None = None) -> bool:
    """Exact phrase on word boundaries, else token by token with one slip allowed per long word."""
    p = " ".join(_NON_WORD.sub(" ", phrase).split())
    if f" {p} " in norm or (len(p) > 8 and _bounded(p).search(norm)):
        return True
    tokens = p.split()
    if not any(len(t) >= 6 for t in tokens):
        return False
    if not isinstance(words, Words):
        words = Words(words if words is not None else norm.split())
    n = len(tokens)
    last = len(words) - n
    for i in words.starts(tokens[0]):
        if i <= last and all(_close(words[i + j], tokens[j]) for j in range(n)):
            return True
    return False


@dataclass
class Classification:
    kind: str
    confidence: float
    scores: dict[str, float] = field(default_factory=dict)
    matched: dict[str, list[str]] = field(default_factory=dict)


def scores_of(text: str) -> tuple[dict[str, float], dict[str, list[str]]]:
    norm = normalise(text)
    words = Words(norm.split())
    scores: dict[str, float] = {}
    matched: dict[str, list[str]] = {}
    for kind, phrases in KEYWORDS.items():
        total = 0.0
        for phrase, weight in phrases:
            if has_phrase(norm, phrase, words):
                total += weight
                matched.setdefault(kind, []).append(phrase)
        scores[kind] = total
    return scores, matched


def classify_text(text: str, card_shaped: bool = False, address_2ddoc: bool = False) -> Classification:
    """Kind and confidence from OCR text plus layout signals; `unknown` when nothing is convincing."""
    scores, matched = scores_of(text)
    if address_2ddoc:
        scores["proof_of_address"] += 10
    if scores["driving_licence"]:
        scores["driving_licence"] += 2 * licence_front_lines(text) + 0.5 * licence_subfields(text)
    if licence_machine_line(text):
        scores["driving_licence"] += 5
    if card_shaped:
        for kind in ("identity_card", "passport", "residence_permit", "driving_licence"):
            if scores[kind] > 0:
                scores[kind] += 2
        if licence_table_rows(text) >= 6:
            scores["driving_licence"] += 6
    else:
        # On a full page, a mention of the driving licence is the subject of most certificates.
        scores["driving_licence"] = min(scores["driving_licence"], 2.0) if scores["driving_licence"] < 5 else \
            scores["driving_licence"]
    # A certificate naming its own kind outranks the generic words it shares with others.
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, top), (_, second) = ranked[0], ranked[1]
    if top < 3.5:
        return Classification("unknown", round(min(0.5, top / 7), 3), scores, matched)
    margin = top - second
    confidence = min(0.99, 0.5 + 0.05 * top + 0.06 * margin)
    if margin < 1.5:
        confidence = min(confidence, 0.6)
    return Classification(best, round(confidence, 3), scores, matched)


def card_side(text: str, has_mrz: bool) -> str:
    """Front or back of a card: the MRZ is on the back of the French laminated CNI and of the 2021
    CNI; the front shows the name labels."""
    if has_mrz:
        return "back"
    norm = normalise(text)
    words = Words(norm.split())
    front = sum(has_phrase(norm, p, words) for p in CARD_FRONT)
    back = sum(has_phrase(norm, p, words) for p in CARD_BACK)
    return "back" if back > front else "front"
