"""French words for the pages: statuses, kinds, severities, audit actions, field names.

Also the comparison of what was read on a piece with what the school declared, field by field,
so that the reviewer sees differences at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from intake.icao import fold, name_tokens

STATUS = {
    "pending": "Vérification en cours",
    "checking": "Vérification en cours",
    "complete": "Complet",
    "incomplete": "Incomplet",
    "needs_review": "À vérifier",
    "failed": "Échec de la vérification",
}
STATUS_HELP = {
    "pending": "Les pièces sont en cours de lecture ; cette page se met à jour toute seule.",
    "checking": "Les pièces sont en cours de lecture ; cette page se met à jour toute seule.",
    "complete": "Le dossier peut être déposé auprès de l'ANTS.",
    "incomplete": "Le dossier ne peut pas être déposé en l'état : voir les points bloquants ci-dessous.",
    "needs_review": "Un vérificateur doit examiner les points ci-dessous avant le dépôt.",
    "failed": "La vérification automatique a échoué ; un vérificateur va examiner le dossier.",
}
SEVERITY = {"blocking": "Bloquant", "review": "À vérifier", "info": "Information"}
FINDING_STATE = {"open": "Ouvert", "accepted": "Accepté par un vérificateur", "resolved": "Résolu"}
UPLOAD_STATE = {"pending": "en lecture", "done": "lue", "failed": "échec de lecture", "replaced": "remplacée"}
KIND = {
    "identity_card": "Carte d'identité",
    "passport": "Passeport",
    "residence_permit": "Titre de séjour",
    "proof_of_address": "Justificatif de domicile",
    "hosting_attestation": "Attestation d'hébergement",
    "photo_code": "Code e-photo",
    "assr": "ASSR / ASR",
    "jdc": "Certificat JDC",
    "medical_opinion": "Avis médical",
    "driving_licence": "Permis de conduire",
    "training_certificate": "Attestation de formation",
    "exam_certificate": "Certificat d'examen",
    "unknown": "Document non reconnu",
}
HOLDER = {"applicant": "candidat", "host": "hébergeant", "legal_representative": "représentant légal",
          "unknown": "titulaire inconnu"}
ROLE = {"school": "auto-école", "reviewer": "vérificateur", "admin": "administrateur"}
ACTION = {
    "dossier_created": "Dossier créé",
    "upload_added": "Pièce déposée",
    "upload_replaced": "Pièce remplacée",
    "upload_failed": "Échec de lecture d'une pièce",
    "dossier_checked": "Dossier vérifié",
    "check_failed": "Échec de la vérification",
    "dossier_claimed": "Pris en charge",
    "dossier_released": "Rendu à la file",
    "finding_accepted": "Constat accepté (dérogation)",
    "finding_resolved": "Constat résolu",
    "piece_requested": "Nouvelle pièce demandée",
}
PROCEDURE = {"inscription": "Inscription aux examens", "titre_reussite": "Titre après réussite à l'examen",
             "titre_formation": "Titre après formation"}
MOTIF = {"primo": "Premier permis", "extension": "Extension de catégorie", "retour": "Retour au permis"}
TRAINING = {"AM": "AM", "A": "A (passage de A2 à A)", "B96": "B96", "levee_78": "Levée du code 78"}
FIELD = {
    "document_number": "Numéro du document",
    "surname": "Nom",
    "given_names": "Prénoms",
    "birth_date": "Date de naissance",
    "sex": "Sexe",
    "nationality": "Nationalité",
    "expiry_date": "Fin de validité",
    "issue_date": "Date d'émission",
    "mrz_valid": "Bande MRZ valide",
    "mrz_format": "Format MRZ",
    "holder_name": "Titulaire",
    "address_line": "Adresse",
    "postcode": "Code postal",
    "city": "Ville",
    "issuer": "Émetteur",
    "document_subtype": "Type de justificatif",
    "two_d_doc": "2D-Doc",
    "code": "Code e-photo",
    "photo_date": "Date de la photo",
    "training": "Formation",
    "categories": "Catégories",
    "fit": "Apte",
    "licence_number": "Numéro de permis",
}
#: Form fields of the declared data, for error messages naming the field in French.
DECLARED_FIELD = {
    "reference": "Référence", "reference_date": "Date de référence", "procedure": "Démarche", "motif": "Motif",
    "categories": "Catégories", "training": "Formation", "applicant.surname": "Nom",
    "applicant.usage_name": "Nom d'usage", "applicant.given_names": "Prénoms",
    "applicant.birth_date": "Date de naissance", "applicant.birth_place": "Lieu de naissance",
    "applicant.sex": "Sexe", "applicant.nationality": "Nationalité", "applicant.address.line": "Adresse",
    "applicant.address.postcode": "Code postal", "applicant.address.city": "Ville",
    "applicant.email": "Courriel", "applicant.phone": "Téléphone",
    "host.surname": "Nom de l'hébergeant", "host.given_names": "Prénoms de l'hébergeant",
    "host.birth_date": "Date de naissance de l'hébergeant",
    "legal_representative.surname": "Nom du représentant légal",
    "legal_representative.given_names": "Prénoms du représentant légal",
    "legal_representative.birth_date": "Date de naissance du représentant légal",
}


def field_label(name: str) -> str:
    if name.startswith("categories["):
        return DECLARED_FIELD["categories"]
    return DECLARED_FIELD.get(name, name)


def show(value: Any) -> str:
    """A field value as a person reads it."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} : {show(v)}" for k, v in value.items() if not isinstance(v, dict))
    text = str(value)
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and text[:4].isdigit():
        return f"{text[8:10]}/{text[5:7]}/{text[:4]}"
    return text


@dataclass
class FieldRow:
    """One line of the reviewer's side-by-side table."""

    name: str
    label: str
    read: str
    declared: str | None
    differs: bool


def _person(declared: dict, holder: str) -> dict:
    if holder in ("host", "legal_representative") and isinstance(declared.get(holder), dict):
        return declared[holder]
    return declared.get("applicant") or {}


def _tokens(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    return name_tokens(str(value or ""))


def compare_fields(fields: dict[str, Any], declared: dict[str, Any], holder: str = "applicant") -> list[FieldRow]:
    """Read fields beside the declared values of the piece's holder; `differs` marks a mismatch."""
    person = _person(declared, holder)
    address = (declared.get("applicant") or {}).get("address") or {}
    rows = []
    for name, value in fields.items():
        label = FIELD.get(name, name)
        want: Any = None
        differs = False
        if name == "surname":
            names = [person.get("surname"), person.get("usage_name")]
            want = " / ".join(n for n in names if n)
            differs = all(_tokens(value) != _tokens(n) for n in names if n)
        elif name == "given_names":
            want = person.get("given_names")
            declared_tokens = _tokens(want)
            read_tokens = _tokens(value)
            differs = bool(read_tokens) and read_tokens[:1] != declared_tokens[:1]
        elif name == "holder_name":
            want = " ".join([person.get("surname") or ""] + list(person.get("given_names") or []))
            read_tokens = set(_tokens(value))
            surnames = [set(_tokens(person.get(k))) for k in ("surname", "usage_name") if person.get(k)]
            differs = bool(read_tokens) and not any(s and s <= read_tokens for s in surnames)
        elif name == "birth_date":
            want = person.get("birth_date")
            differs = bool(want) and str(value) != str(want)
        elif name in ("sex", "nationality") and holder in ("applicant", "unknown"):
            want = person.get(name)
            differs = bool(want) and str(value).upper() != str(want).upper()
        elif name == "postcode":
            want = address.get("postcode")
            differs = bool(want) and str(value).replace(" ", "") != str(want).replace(" ", "")
        elif name == "city":
            want = address.get("city")
            differs = bool(want) and fold(str(value)) != fold(str(want))
        elif name == "address_line":
            want = address.get("line")
            differs = bool(want) and set(_tokens(want)) - set(_tokens(value)) != set()
        elif name == "mrz_valid":
            differs = value is False
        rows.append(FieldRow(name, label, show(value), None if want is None else show(want), differs))
    return rows
