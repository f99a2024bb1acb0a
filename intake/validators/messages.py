"""French messages for the driving school: what to do first, then the facts that say why.

"Fournir un justificatif de domicile de moins de 6 mois : le document fourni est daté du
12 mars 2026." Every function returns one sentence (or two); none logs anything.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Sequence

from intake.labels import HOLDERS, KINDS, TRAININGS
from intake.validators.dates import french_date, french_month
from intake.validators.rules import DECIDED

#: What to provide, with its article, per requirement.
REQUIREMENT_PHRASES = {
    "identity": "une pièce d'identité du candidat en cours de validité (carte d'identité, passeport ou "
                "titre de séjour)",
    "proof_of_address": f"un justificatif de domicile au nom du candidat de moins de "
                        f"{DECIDED.proof_of_address_months} mois",
    "photo_code": "le code photo-signature numérique (e-photo)",
    "residence_permit": "le titre de séjour du candidat en cours de validité",
    "jdc": "le certificat de participation à la JDC (ou l'attestation de recensement)",
    "assr": "l'ASSR 2 ou l'ASR (ou l'attestation sur l'honneur qui la remplace)",
    "medical_opinion": f"un avis médical (Cerfa 14880) de moins de {DECIDED.medical_opinion_years} ans",
    "driving_licence": "la copie du permis de conduire du candidat",
    "training_certificate": "l'attestation de suivi de la formation",
    "legal_representative_identity": "une pièce d'identité du représentant légal en cours de validité",
    "hosting_attestation": "l'attestation d'hébergement signée par l'hébergeant",
    "host_identity": "une pièce d'identité de l'hébergeant en cours de validité",
    "host_proof_of_address": f"un justificatif de domicile au nom de l'hébergeant de moins de "
                             f"{DECIDED.proof_of_address_months} mois",
}

def _who(role: str) -> str:
    """The person, inside a sentence: "candidat" ("pour le candidat")."""
    return HOLDERS[role].noun


def _of(role: str) -> str:
    """Whose: "du candidat" ("au nom du candidat")."""
    return HOLDERS[role].of


def _training(code: str) -> str:
    return TRAININGS[code].noun if code in TRAININGS else code


def the_kind(kind: str) -> str:
    """The kind with its article, inside a sentence: "la carte d'identité"."""
    return KINDS[kind].the if kind in KINDS else KINDS["unknown"].the


def quoted(text: Any) -> str:
    return f"« {text} »"


def person_name(surname: str | None, given: Sequence[str] | str | None) -> str:
    if isinstance(given, str):
        given = [given]
    return " ".join(x for x in [surname or "", *(given or [])] if x).strip()


def missing_piece(requirement: str, why: str, hint: str | None = None, training: str | None = None) -> str:
    phrase = REQUIREMENT_PHRASES[requirement]
    if requirement == "training_certificate" and training:
        phrase = f"l'attestation de suivi de la formation {_training(training)}"
    reason = hint or "ce document est absent du dossier"
    return f"Fournir {phrase} : {reason} ({_required_because(why)})."


def _required_because(why: str) -> str:
    """"toujours exigé" reads as it is; a condition reads after "exigé :"."""
    return why if why.startswith(("toujours", "exigé")) else f"exigé : {why}"


def person_not_declared(requirement: str, role: str, why: str) -> str:
    who = _who(role)
    return (f"Déclarer le {who} dans le dossier (nom, prénoms, date de naissance), puis fournir "
            f"{REQUIREMENT_PHRASES[requirement]} : aucun {who} n'est déclaré ({_required_because(why)}).")


def hint_other_holder(kinds: Sequence[str], roles: Sequence[str]) -> str:
    pieces = ", ".join(sorted({KINDS[k].noun for k in kinds}))
    whose = ", ".join(sorted({_who(r) for r in roles}))
    return f"le ou les documents fournis ({pieces}) appartiennent à une autre personne ({whose})"


def identity_expired(kind: str, v: Any, role: str = "applicant") -> str:
    """`v` is a validity.IdentityValidity."""
    what = the_kind(kind)
    if v.basis == "card_number" and v.issued is not None:
        own = (f"{what} plastifiée émise en {french_month(v.issued)} "
               f"était valable {v.years} ans, jusqu'au {french_date(v.expiry)}")
    else:
        own = f"{what} fournie a expiré le {french_date(v.expiry)}"
    if v.french and v.limit != v.expiry:
        own += f", et la tolérance de {DECIDED.french_identity_tolerance_years} ans a pris fin le {french_date(v.limit)}"
    return f"Fournir une pièce d'identité {_of(role)} en cours de validité : {own}."


def residence_permit_expired(expiry: date) -> str:
    return f"Fournir un titre de séjour en cours de validité : celui fourni a expiré le {french_date(expiry)}."


def identity_expiry_unknown(kind: str) -> str:
    return (f"Vérifier la date de fin de validité sur {the_kind(kind)} : elle n'a pas pu être lue "
            "ni déduite du numéro de la carte.")


def identity_name_mismatch(kind: str, read: str, declared: str, role: str, protected: bool, near: bool) -> str:
    if not (read or "").strip():
        return (f"Vérifier le nom sur {the_kind(kind)} : il n'a pas pu être lu (le dossier déclare "
                f"{quoted(declared)} pour le {_who(role)}).")
    facts = f"{the_kind(kind)} porte {quoted(read)}, le dossier déclare {quoted(declared)} pour le {_who(role)}"
    if protected:
        return (f"Corriger le nom déclaré ou fournir la bonne pièce : {facts} ; la bande MRZ, contrôlée par ses "
                "chiffres de contrôle, confirme la lecture.")
    if near:
        return f"Vérifier l'orthographe du nom : {facts} (une lettre diffère)."
    return f"Vérifier le nom ou fournir la bonne pièce : {facts}."


def identity_birth_date_mismatch(kind: str, read: Any, declared: Any, role: str) -> str:
    return (f"Corriger la date de naissance déclarée ou fournir la bonne pièce : {the_kind(kind)} indique le "
            f"{french_date(read)}, le dossier déclare le {french_date(declared)} pour le {_who(role)}.")


def identity_birth_date_unread(kind: str) -> str:
    return f"Vérifier la date de naissance sur {the_kind(kind)} : elle n'a pas pu être lue."


def identity_sex_mismatch(kind: str, read: str, declared: str) -> str:
    return (f"Vérifier le sexe déclaré : {the_kind(kind)} indique {quoted(read)}, "
            f"le dossier déclare {quoted(declared)}.")


def identity_nationality_mismatch(kind: str, read: str, declared: str) -> str:
    return (f"Vérifier la nationalité déclarée : {the_kind(kind)} indique {quoted(read)}, le dossier déclare "
            f"{quoted(declared)}. La nationalité décide des pièces exigées (titre de séjour hors Union "
            "européenne, certificat JDC pour un Français) : la corriger si besoin avant le dépôt.")


def proof_of_address_too_old(issued: date, months: int, tax_notice: bool) -> str:
    what = "un avis d'imposition" if tax_notice else "un justificatif de domicile"
    return f"Fournir {what} de moins de {months} mois : le document fourni est daté du {french_date(issued)}."


def proof_of_address_date_missing(months: int) -> str:
    return (f"Vérifier la date du justificatif de domicile : elle n'a pas pu être lue (il doit dater de moins "
            f"de {months} mois).")


def proof_of_address_name_mismatch(holder_name: str | None, role: str, expected: str) -> str:
    if not holder_name:
        return (f"Vérifier le nom du titulaire du justificatif de domicile : il n'a pas pu être lu "
                f"(il doit être au nom {_of(role)}, {expected}).")
    return (f"Fournir un justificatif de domicile au nom {_of(role)} ({expected}) : le document fourni "
            f"est au nom de {quoted(holder_name)}.")


def proof_of_address_name_near(holder_name: str, role: str, expected: str) -> str:
    return (f"Vérifier le nom du titulaire du justificatif de domicile : {quoted(holder_name)} diffère d'une lettre "
            f"du nom {_of(role)} ({expected}). Si c'est une erreur de lecture, le justificatif convient ; "
            "sinon, fournir un justificatif à son nom.")


def proof_of_address_relative(holder_name: str, role: str, expected: str) -> str:
    return (f"Vérifier le justificatif de domicile : il est au nom de {quoted(holder_name)}, qui porte le même nom "
            f"mais un autre prénom que le {_who(role)} ({expected}) ; fournir un justificatif à son nom, "
            "ou une attestation d'hébergement si c'est celui d'un proche.")


def proof_of_address_address_mismatch(read: str, declared: str) -> str:
    return (f"Vérifier l'adresse déclarée : le justificatif de domicile indique {quoted(read)}, "
            f"le dossier déclare {quoted(declared)}.")


def photo_code_expired(taken: date) -> str:
    return (f"Faire une nouvelle photo d'identité numérique (e-photo) de moins de {DECIDED.photo_months} mois : "
            f"la photo fournie date du {french_date(taken)}.")


def medical_opinion_too_old(issued: date) -> str:
    return (f"Fournir un avis médical de moins de {DECIDED.medical_opinion_years} ans : celui fourni est daté "
            f"du {french_date(issued)}.")


def medical_opinion_date_missing() -> str:
    return (f"Vérifier la date de l'avis médical : elle n'a pas pu être lue (il doit dater de moins de "
            f"{DECIDED.medical_opinion_years} ans).")


def medical_opinion_unfit() -> str:
    return "L'avis médical fourni conclut à l'inaptitude : le dossier ne peut pas être déposé en l'état."


def holder_mismatch(kind: str, holder_name: str | None, read_birth: Any = None) -> str:
    facts = f"il est au nom de {quoted(holder_name)}" if holder_name else "il ne porte pas le nom du candidat"
    if read_birth:
        facts += f", né(e) le {french_date(read_birth)}"
    return f"Vérifier {the_kind(kind)} : {facts}, qui ne correspond pas au candidat déclaré."


def holder_ambiguous(kind: str, roles: Sequence[str]) -> str:
    whose = " ou ".join(_who(r) for r in roles)
    return (f"Vérifier à qui appartient {the_kind(kind)} : les noms lus correspondent à plusieurs personnes "
            f"déclarées ({whose}).")


def training_mismatch(read: str | None, declared: str) -> str:
    want = _training(declared)
    if not read:
        return (f"Vérifier l'attestation de formation : la formation suivie n'a pas pu être lue "
                f"(formation {want} déclarée).")
    return (f"Fournir l'attestation de la formation {want} : celle fournie concerne la formation "
            f"{_training(read)}.")


_UNUSUAL = {
    "zero": "jour ou mois à 00",
    "future": "date postérieure à la date de référence",
    "too_old": f"âge de plus de {DECIDED.max_age} ans",
}


def birth_date_unusual_declared(role: str, value: Any, reason: str) -> str:
    return (f"Vérifier la date de naissance déclarée du {_who(role)} : {quoted(_iso(value))} "
            f"({_UNUSUAL[reason]}).")


def birth_date_unusual_read(kind: str, value: Any, reason: str) -> str:
    return (f"Vérifier la date de naissance lue sur {the_kind(kind)} : {quoted(_iso(value))} "
            f"({_UNUSUAL[reason]}).")


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def _listed(labels: Sequence[str]) -> str:
    labels = list(labels)
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " et " + labels[-1]


def key_fields_unread(kind: str, missing: Sequence[str], doubtful: Sequence[str],
                      impossible: Sequence[tuple[str, object]] = ()) -> str:
    """A piece that proves nothing until a person has read what the reader could not (`impossible`:
    (field, value) of dates no document checked on the reference date can carry, surely misread)."""
    from intake.validators.key_fields import field_label

    parts = []
    if missing:
        parts.append(("valeur non lue : " if len(missing) == 1 else "valeurs non lues : ")
                     + _listed([field_label(n) for n in missing]))
    if doubtful:
        parts.append(("valeur lue avec un doute : " if len(doubtful) == 1 else "valeurs lues avec un doute : ")
                     + _listed([field_label(n) for n in doubtful]))
    for name, value in impossible:
        if name == "expiry_date":
            parts.append(f"{field_label(name)} lue ({french_date(value)}) est à plus de 10 ans de la date du "
                         "contrôle, ce qu'aucune pièce ne permet, donc sans doute mal lue")
        else:
            parts.append(f"{field_label(name)} lue ({french_date(value)}) est postérieure à la date du contrôle, "
                         "donc sans doute mal lue")
    what = the_kind(kind)
    return (f"Vérifier {what} à l'œil ou en fournir une numérisation nette (à plat, entière, sans doigt, "
            f"pli ni correcteur sur les mentions) : sur {what}, " + " ; ".join(parts) + ".")


def doubtful_refusal(names: Sequence[str]) -> str:
    """Appended to a refusal that rests on a value read once, or with doubt: a person confirms it."""
    from intake.validators.key_fields import field_label

    return (" À vérifier sur la pièce avant de la remplacer : lecture non confirmée par une seconde lecture "
            f"({_listed([field_label(n) for n in names])}).")


def maybe_unrecognised(files: Sequence[str]) -> str:
    """Appended to a missing piece when a page of the dossier could not be recognised or read."""
    where = ", ".join(quoted(f) for f in files[:3])
    return (f" Une page non reconnue ou illisible ({where}) est peut-être cette pièce : la vérifier "
            "avant de demander un nouveau document.")
