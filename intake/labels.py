"""The one French catalogue of intake's codes: what a person reads for each kind of piece, holder,
status, severity, finding code, declared value and field.

Every French label of a code is stated here once. A label used in several grammatical forms (alone
in a table cell, inside a sentence, with its article) has one row with a column per form, so that
the forms cannot drift apart. The pages (`intake.web.labels`), the check's messages
(`intake.validators.messages`), the requirements table, the PDF report and the export all read
from here; this module imports nothing from intake, so any layer may use it.

The 2D-Doc type codes are not here: they belong to the 2D-Doc reader (`intake.extractors`).
"""

from __future__ import annotations

from typing import NamedTuple
from zoneinfo import ZoneInfo

#: The time zone of every date and time shown to a person (stored times are UTC).
PARIS = ZoneInfo("Europe/Paris")


# --- kinds of piece ------------------------------------------------------------------------------


class KindLabel(NamedTuple):
    title: str  # alone: a table cell, a heading ("Carte d'identité")
    noun: str   # inside a sentence, without article ("carte d'identité")
    the: str    # with its article ("la carte d'identité")


KINDS: dict[str, KindLabel] = {
    "identity_card": KindLabel("Carte d'identité", "carte d'identité", "la carte d'identité"),
    "passport": KindLabel("Passeport", "passeport", "le passeport"),
    "residence_permit": KindLabel("Titre de séjour", "titre de séjour", "le titre de séjour"),
    "proof_of_address": KindLabel("Justificatif de domicile", "justificatif de domicile",
                                  "le justificatif de domicile"),
    "hosting_attestation": KindLabel("Attestation d'hébergement", "attestation d'hébergement",
                                     "l'attestation d'hébergement"),
    "photo_code": KindLabel("Code e-photo", "code e-photo", "le code e-photo"),
    "assr": KindLabel("ASSR / ASR", "ASSR / ASR", "l'ASSR"),
    "jdc": KindLabel("Certificat JDC", "certificat JDC", "le certificat JDC"),
    "medical_opinion": KindLabel("Avis médical", "avis médical", "l'avis médical"),
    "driving_licence": KindLabel("Permis de conduire", "permis de conduire", "le permis de conduire"),
    "training_certificate": KindLabel("Attestation de formation", "attestation de formation",
                                      "l'attestation de formation"),
    "exam_certificate": KindLabel("Certificat d'examen", "certificat d'examen (CEPC)", "le certificat d'examen"),
    "unknown": KindLabel("Document non reconnu", "document non reconnu", "le document"),
}
KIND = {kind: label.title for kind, label in KINDS.items()}


# --- holders of a piece (the persons a dossier declares) ----------------------------------------


class HolderLabel(NamedTuple):
    noun: str  # "candidat" ("pour le candidat", "aucun candidat")
    of: str    # "du candidat" ("au nom du candidat")


HOLDERS: dict[str, HolderLabel] = {
    "applicant": HolderLabel("candidat", "du candidat"),
    "host": HolderLabel("hébergeant", "de l'hébergeant"),
    "legal_representative": HolderLabel("représentant légal", "du représentant légal"),
    "unknown": HolderLabel("titulaire inconnu", "d'un titulaire inconnu"),
}
HOLDER = {holder: label.noun for holder, label in HOLDERS.items()}


# --- statuses ------------------------------------------------------------------------------------


class StatusLabel(NamedTuple):
    title: str  # alone: a badge, a list cell ("À vérifier")
    noun: str   # inside a sentence ("statut : à vérifier")
    help: str   # what it means for the school, and what to do (pages)
    verdict: str = ""  # the verdict line of `intake check` in a terminal (stored verdicts only)


#: A dossier's status, stored (pending ... failed) or shown (waiting, requested).
STATUSES: dict[str, StatusLabel] = {
    "pending": StatusLabel("Vérification en cours", "vérification en cours",
                           "Les pièces sont en cours de lecture ; cette page se met à jour toute seule."),
    "waiting": StatusLabel("En attente des pièces", "en attente des pièces",
                           "Aucune pièce déposée pour l'instant : déposez les pièces du dossier ci-dessous."),
    "requested": StatusLabel("Pièce demandée", "pièce demandée",
                             "Un vérificateur demande une nouvelle pièce : voir sa demande ci-dessus, puis déposer "
                             "la pièce."),
    "complete": StatusLabel("Complet", "complet", "Le dossier peut être déposé auprès de l'ANTS.",
                            "COMPLET : le dossier peut être déposé."),
    "incomplete": StatusLabel("Incomplet", "incomplet",
                              "Le dossier ne peut pas être déposé en l'état : voir les points bloquants ci-dessous.",
                              "INCOMPLET : le dossier ne peut pas être déposé en l'état."),
    "needs_review": StatusLabel("À vérifier", "à vérifier",
                                "Un vérificateur doit examiner les points ci-dessous avant le dépôt.",
                                "À VÉRIFIER : une personne doit examiner les points ci-dessous."),
    "failed": StatusLabel("Échec de la vérification", "échec de la vérification",
                          "La vérification automatique a échoué ; un vérificateur va examiner le dossier."),
}
STATUS = {status: label.title for status, label in STATUSES.items()}
STATUS_HELP = {status: label.help for status, label in STATUSES.items()}

#: An upload's state as the school sees it (stored states, and `unreadable`, `empty` shown).
UPLOAD_STATE = {"pending": "En lecture", "done": "Lue", "failed": "Illisible", "replaced": "Remplacée",
                "unreadable": "Illisible", "empty": "Aucun document reconnu"}
#: A finding's decision state.
FINDING_STATE = {"open": "Ouvert", "accepted": "Accepté", "resolved": "Résolu"}


# --- severities and finding codes ----------------------------------------------------------------


class SeverityLabel(NamedTuple):
    title: str  # a page, the report ("Bloquant")
    tag: str    # a line of the terminal ("BLOQUANT")


SEVERITIES: dict[str, SeverityLabel] = {
    "blocking": SeverityLabel("Bloquant", "BLOQUANT"),
    "review": SeverityLabel("À vérifier", "À VÉRIFIER"),
    "info": SeverityLabel("Information", "INFO"),
}
SEVERITY = {severity: label.title for severity, label in SEVERITIES.items()}

#: The short title of each finding code (the message itself says what to do).
CODE = {
    "missing_piece": "Pièce manquante",
    "unreadable_piece": "Pièce illisible",
    "unsupported_file": "Fichier non lisible",
    "unknown_piece": "Document non reconnu",
    "duplicate_piece": "Pièce en double",
    "mrz_invalid": "Bande MRZ invalide",
    "identity_expired": "Pièce d'identité expirée",
    "identity_expiry_unknown": "Fin de validité illisible",
    "identity_name_mismatch": "Nom différent sur la pièce d'identité",
    "identity_birth_date_mismatch": "Date de naissance différente",
    "identity_birth_date_unread": "Date de naissance illisible",
    "identity_sex_mismatch": "Sexe différent",
    "identity_nationality_mismatch": "Nationalité différente",
    "residence_permit_expired": "Titre de séjour expiré",
    "proof_of_address_too_old": "Justificatif de domicile trop ancien",
    "proof_of_address_date_missing": "Date du justificatif illisible",
    "proof_of_address_name_mismatch": "Justificatif au nom d'une autre personne",
    "proof_of_address_address_mismatch": "Adresse différente de l'adresse déclarée",
    "proof_of_address_signature_invalid": "Signature 2D-Doc invalide",
    "proof_of_address_print_differs": "Page imprimée lue autrement que le 2D-Doc",
    "photo_code_invalid": "Code e-photo invalide",
    "photo_code_expired": "Photo trop ancienne",
    "medical_opinion_too_old": "Avis médical trop ancien",
    "medical_opinion_date_missing": "Date de l'avis médical illisible",
    "medical_opinion_unfit": "Avis médical d'inaptitude",
    "holder_mismatch": "Pièce au nom d'une autre personne",
    "holder_ambiguous": "Titulaire incertain",
    "training_certificate_mismatch": "Formation différente",
    "birth_date_unusual": "Date de naissance improbable",
    "check_failed": "Vérification automatique impossible",
    "key_field_unread": "Information essentielle illisible",
    "person_not_declared": "Personne non déclarée",
}


# --- declared values -----------------------------------------------------------------------------


class TrainingLabel(NamedTuple):
    title: str  # alone ("Levée du code 78")
    noun: str   # inside a sentence ("la formation levée du code 78")


TRAININGS: dict[str, TrainingLabel] = {
    "AM": TrainingLabel("AM", "AM"),
    "A": TrainingLabel("A (passage de A2 à A)", "A (passage de A2 à A)"),
    "B96": TrainingLabel("B96", "B96"),
    "levee_78": TrainingLabel("Levée du code 78", "levée du code 78"),
}
TRAINING = {training: label.title for training, label in TRAININGS.items()}
PROCEDURE = {"inscription": "Inscription aux examens", "titre_reussite": "Titre après réussite à l'examen",
             "titre_formation": "Titre après formation"}
MOTIF = {"primo": "Premier permis", "extension": "Extension de catégorie", "retour": "Retour au permis"}
SEX = {"M": "Masculin", "F": "Féminin", "X": "Non précisé"}


# --- fields read on a piece, and their coded values ----------------------------------------------

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
    "mrz_format": "Format de la bande MRZ",
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
    "level": "Niveau",
    "hosted_name": "Personne hébergée",
}
#: The same fields named in a sentence, with their article ("lire à nouveau le code postal").
FIELD_THE = {
    "document_number": "le numéro du document",
    "surname": "le nom",
    "given_names": "les prénoms",
    "birth_date": "la date de naissance",
    "expiry_date": "la date d'expiration",
    "issue_date": "la date d'émission",
    "holder_name": "le nom du titulaire",
    "address_line": "l'adresse",
    "postcode": "le code postal",
    "code": "le code e-photo",
    "photo_date": "la date de la photo",
    "fit": "l'avis (apte ou inapte)",
    "licence_number": "le numéro du permis",
    "categories": "les catégories",
    "training": "la formation suivie",
    "city": "la commune",
    "level": "le niveau de l'attestation",
    "hosted_name": "le nom de la personne hébergée",
}
VALUES = {
    "document_subtype": {"bill": "Facture", "tax_notice": "Avis d'imposition", "rent_receipt": "Quittance de loyer"},
    "mrz_format": {"td1": "carte (3 lignes de 30)", "td2": "document (2 lignes de 36)",
                   "td3": "passeport (2 lignes de 44)", "fr_cni_2x36": "ancienne carte d'identité française"},
    "sex": SEX,
    "training": TRAINING,
}
