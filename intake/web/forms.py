"""The declared data as an HTML form: form fields to `dossier.json` and back.

The form only gathers values; `intake.dossier.parse_declared` stays the one judge of what is valid.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

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
