"""The declared data as an HTML form: form fields to `dossier.json` and back.

The form only gathers values; `intake.dossier.parse_declared` judges the shape of `dossier.json`,
and `check_contact` adds what a person typing can get wrong and the schema lets through (a postcode
of four digits, an e-mail without @, a birth date in the future, a nationality that is no country).
Both doors (pages and API) call both, so the browser's checks are a convenience, never the guard.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Mapping

from intake.dossier import DossierError

PEOPLE = ("host", "legal_representative")


def _text(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _names(value: str | None) -> list[str]:
    """Given names separated by commas ("Marie Claire, Anne"), or by spaces when there is no comma."""
    value = value or ""
    parts = re.split(r"[,;]", value) if re.search(r"[,;]", value) else value.split()
    return [v.strip() for v in parts if v.strip()]


def declared_from_form(form: Mapping[str, Any], categories: list[str]) -> dict[str, Any]:
    """A `dossier.json` object from the posted form (given names are separated by spaces or commas)."""
    data: dict[str, Any] = {
        "reference": _text(form, "reference") or "",
        "procedure": _text(form, "procedure") or "",
        "motif": _text(form, "motif") or "",
        "categories": categories,
        "training": _text(form, "training"),
        "applicant": {
            "surname": _text(form, "surname") or "",
            "usage_name": _text(form, "usage_name"),
            "given_names": _names(_text(form, "given_names")),
            "birth_date": _text(form, "birth_date"),
            "birth_place": _text(form, "birth_place") or "",
            "sex": _text(form, "sex") or "",
            "nationality": (_text(form, "nationality") or "").upper(),
            "address": {"line": _text(form, "address_line") or "", "postcode": _text(form, "postcode") or "",
                        "city": _text(form, "city") or ""},
            "email": _text(form, "email") or "",
            "phone": _text(form, "phone") or "",
        },
        "situation": {"hosted": form.get("hosted") == "on",
                      "under_guardianship": form.get("under_guardianship") == "on",
                      "medical_condition": form.get("medical_condition") == "on"},
        "host": None,
        "legal_representative": None,
    }
    reference_date = _text(form, "reference_date")
    if reference_date:
        data["reference_date"] = reference_date
    for role in PEOPLE:
        surname = _text(form, f"{role}_surname")
        given = _text(form, f"{role}_given_names")
        birth = _text(form, f"{role}_birth_date")
        if surname or given or birth:
            data[role] = {"surname": surname or "", "given_names": _names(given), "birth_date": birth}
    return data


def form_from_declared(data: Mapping[str, Any]) -> dict[str, Any]:
    """The form values that show a `dossier.json` object again (after an error)."""
    applicant = data.get("applicant") or {}
    address = applicant.get("address") or {}
    values = {
        "reference": data.get("reference"), "reference_date": data.get("reference_date"),
        "procedure": data.get("procedure"), "motif": data.get("motif"), "training": data.get("training"),
        "categories": list(data.get("categories") or []),
        "surname": applicant.get("surname"), "usage_name": applicant.get("usage_name"),
        "given_names": _join_names(applicant.get("given_names")), "birth_date": applicant.get("birth_date"),
        "birth_place": applicant.get("birth_place"), "sex": applicant.get("sex"),
        "nationality": applicant.get("nationality"), "address_line": address.get("line"),
        "postcode": address.get("postcode"), "city": address.get("city"), "email": applicant.get("email"),
        "phone": applicant.get("phone"),
    }
    situation = data.get("situation") or {}
    for key in ("hosted", "under_guardianship", "medical_condition"):
        values[key] = bool(situation.get(key))
    for role in PEOPLE:
        person = data.get(role) or {}
        values[f"{role}_surname"] = person.get("surname")
        values[f"{role}_given_names"] = _join_names(person.get("given_names"))
        values[f"{role}_birth_date"] = person.get("birth_date")
    return {k: ("" if v is None else v) for k, v in values.items()}


def _join_names(names: Any) -> str:
    names = [str(n) for n in names or []]
    return (", " if any(" " in n for n in names) else " ").join(names)


POSTCODE = re.compile(r"^[0-9]{5}$")
#: Deliberately simple (what a browser's type=email accepts): something@domain.tld, no spaces.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


def check_contact(data: Mapping[str, Any], today: date) -> None:
    """Raise DossierError for a value a person mistyped (after parse_declared accepted the shape)."""
    from intake.web.labels import country_names

    applicant = data.get("applicant") or {}
    address = applicant.get("address") or {}
    postcode = (address.get("postcode") or "").replace(" ", "")
    if postcode and not POSTCODE.match(postcode):
        raise DossierError("applicant.address.postcode", "le code postal compte 5 chiffres (par exemple 75011)")
    email = (applicant.get("email") or "").strip()
    if email and not EMAIL.match(email):
        raise DossierError("applicant.email", "adresse de courriel invalide (attendu : nom@domaine.fr)")
    nationality = (applicant.get("nationality") or "").upper()
    if nationality not in country_names():
        raise DossierError("applicant.nationality", "choisir la nationalité dans la liste des pays")
    for path, person in (("applicant", applicant), ("host", data.get("host")),
                         ("legal_representative", data.get("legal_representative"))):
        birth = (person or {}).get("birth_date") if isinstance(person, dict) else None
        if isinstance(birth, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", birth) and "-00" not in birth:
            if date.fromisoformat(birth) > today:
                raise DossierError(f"{path}.birth_date", "la date de naissance ne peut pas être dans le futur")


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Paths of the declared values that differ ("applicant.address.postcode"): names only, no values,
    so that the journal says what was corrected without holding personal data."""
    out = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        path = f"{prefix}{key}"
        if isinstance(old, dict) and isinstance(new, dict):
            out.extend(changed_fields(old, new, path + "."))
        elif old != new and not (old in (None, "", []) and new in (None, "", [])):
            out.append(path)
    return out
