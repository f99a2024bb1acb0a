"""What the pages show a person: the page-only words (journal, user roles, form fields), dates,
sizes and values as a person reads them, and the reviewer's side-by-side comparison.

Nothing a person reads on a page is a code: every status, finding code, field name and field value
goes through this module (a code not listed shows as a generic French word, never raw). The labels
of kinds, holders, statuses, severities, finding codes, declared values and fields are those of the
one catalogue, `intake.labels`, imported here so that templates reach them as `labels.KIND`, ...;
this module states only the words the pages alone use. Dates are dd/mm/yyyy and times are Paris
time. Also the comparison of what was read on a piece with what the school declared, field by field,
with where each value was read (the field's box on the page).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from intake.icao import fold, name_tokens
from intake.labels import (  # noqa: F401  (re-exported: the templates read them through this module)
    CODE, FIELD, FINDING_STATE, HOLDER, KIND, MOTIF, PARIS, PROCEDURE, SEVERITY, SEX, STATUS, STATUS_HELP, TRAINING,
    UPLOAD_STATE, VALUES,
)

COUNTRIES_FILE = Path(__file__).resolve().parent.parent / "data" / "countries_fr.tsv"

# --- page-only words ------------------------------------------------------------------------------

#: Statuses a person can filter lists by (display statuses included).
FILTER_STATUSES = ("waiting", "pending", "requested", "incomplete", "needs_review", "complete", "failed")
#: File findings that mean the file itself could not be read.
UNREADABLE_CODES = ("unsupported_file", "unreadable_piece", "check_failed")

#: Accounts' roles.
ROLE = {"school": "auto-école", "reviewer": "vérificateur", "admin": "administrateur"}
ACTION = {
    "dossier_created": "Dossier créé",
    "declared_edited": "Données déclarées corrigées",
    "upload_added": "Pièce déposée",
    "upload_replaced": "Pièce remplacée",
    "upload_deleted": "Pièce supprimée",
    "upload_failed": "Échec de lecture d'une pièce",
    "dossier_checked": "Dossier vérifié",
    "check_failed": STATUS["failed"],
    "dossier_claimed": "Pris en charge",
    "dossier_released": "Rendu à la file",
    "finding_accepted": "Constat accepté (dérogation)",
    "finding_resolved": "Constat résolu",
    "piece_requested": "Nouvelle pièce demandée",
    "dossier_purged": "Données personnelles effacées",
}
SOURCE = {"web": "formulaire", "api": "logiciel de l'auto-école", "cli": "ligne de commande"}
TRIGGER = {"upload": "pièces déposées", "edit": "données corrigées", "delete": "pièce supprimée",
           "reprocess": "nouvelle version de l'analyse", "create": "création du dossier"}
#: Form fields of the declared data, for error messages naming the field in French.
DECLARED_FIELD = {
    "reference": "Référence", "reference_date": "Date de référence", "procedure": "Démarche", "motif": "Motif",
    "categories": "Catégories", "training": "Formation", "applicant.surname": "Nom",
    "applicant.usage_name": "Nom d'usage", "applicant.given_names": "Prénoms",
    "applicant.birth_date": "Date de naissance", "applicant.birth_place": "Lieu de naissance",
    "applicant.sex": "Sexe", "applicant.nationality": "Nationalité", "applicant.address.line": "Adresse",
    "applicant.address.postcode": "Code postal", "applicant.address.city": "Ville",
    "applicant.email": "Courriel", "applicant.phone": "Téléphone",
    "situation.hosted": "Candidat hébergé", "situation.under_guardianship": "Mineur ou sous tutelle",
    "situation.medical_condition": "Avis médical nécessaire",
    "host": "Hébergeant", "legal_representative": "Représentant légal",
    "host.surname": "Nom de l'hébergeant", "host.given_names": "Prénoms de l'hébergeant",
    "host.birth_date": "Date de naissance de l'hébergeant",
    "legal_representative.surname": "Nom du représentant légal",
    "legal_representative.given_names": "Prénoms du représentant légal",
    "legal_representative.birth_date": "Date de naissance du représentant légal",
}
#: Journal details, by key, as a person reads them.
DETAIL = {"source": "Origine", "status": "Statut", "previous": "Statut précédent", "trigger": "Pourquoi",
          "code": "Constat", "note": "Note", "message": "Message", "size": "Taille", "kinds": "Pièce",
          "fields": "Champs corrigés", "error": "Erreur", "file": "Fichier"}


def field_label(name: str) -> str:
    if name.startswith("categories["):
        return DECLARED_FIELD["categories"]
    if name in DECLARED_FIELD:
        return DECLARED_FIELD[name]
    return FIELD.get(name.rsplit(".", 1)[-1], "Champ")


def plain(message: str) -> str:
    """A validation message with the codes of the declared values in French ("titre_formation" ->
    "« Titre après formation »"): the schema's messages name codes, a person reads labels."""
    def label(match: re.Match) -> str:
        word = match.group(0)
        for table in (PROCEDURE, MOTIF, TRAINING):
            if word in table:
                return f"« {table[word]} »"
        return word

    codes = sorted({*PROCEDURE, *MOTIF, "levee_78"}, key=len, reverse=True)
    return re.sub(r"\b(" + "|".join(re.escape(c) for c in codes) + r")\b", label, message or "")


def code_label(code: str | None) -> str:
    return CODE.get(code or "", "Autre constat")


def status_label(status: str | None) -> str:
    return STATUS.get(status or "", "Statut inconnu")


@lru_cache(maxsize=1)
def countries() -> tuple[tuple[str, str], ...]:
    """(code, French name) of ISO 3166-1 alpha-3 and ICAO nationality codes, sorted by French name."""
    rows = []
    for line in COUNTRIES_FILE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, name = line.split("\t", 1)
            rows.append((code, name))
    return tuple(sorted(rows, key=lambda r: fold(r[1])))


@lru_cache(maxsize=1)
def country_names() -> dict[str, str]:
    return dict(countries())


def country(code: str | None) -> str:
    if not code:
        return "—"
    return country_names().get(str(code).upper(), str(code).upper())


# --- dates, times, sizes -------------------------------------------------------------------------

_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def day(value: Any) -> str:
    """A date as dd/mm/yyyy (ISO text, date or datetime; a datetime is taken in Paris time)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, datetime):
        return _paris(value).strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    text = str(value)
    match = _ISO_DAY.match(text)
    if match:
        return f"{match.group(3)}/{match.group(2)}/{match.group(1)}"
    parsed = _parse_datetime(text)
    return _paris(parsed).strftime("%d/%m/%Y") if parsed else text


def when(value: Any) -> str:
    """A moment as 'dd/mm/yyyy à HH:MM', Paris time (stored times are UTC)."""
    if value is None or value == "":
        return "—"
    moment = value if isinstance(value, datetime) else _parse_datetime(str(value))
    if moment is None:
        return str(value)
    return _paris(moment).strftime("%d/%m/%Y à %H:%M")


def _parse_datetime(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _paris(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(PARIS)


def today_paris() -> date:
    return datetime.now(PARIS).date()


def size(n: Any) -> str:
    """A byte count as a person reads it: 139 Ko, 2,4 Mo."""
    try:
        n = int(n)
    except (TypeError, ValueError):
        return "—"
    if n < 1024:
        return f"{n} octets"
    if n < 1024 * 1024:
        return f"{round(n / 1024)} Ko"
    megabytes = n / (1024 * 1024)
    return f"{megabytes:.0f} Mo" if megabytes == int(megabytes) else f"{megabytes:.1f} Mo".replace(".", ",")


# --- values --------------------------------------------------------------------------------------


def show(value: Any) -> str:
    """A value as a person reads it (dates dd/mm/yyyy, booleans oui/non, lists joined)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, (list, tuple)):
        return ", ".join(show(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(show(v) for v in value.values() if not isinstance(v, (dict, list)))
    text = str(value)
    if _ISO_DAY.match(text):
        return day(text)
    return text


def field_value(name: str, value: Any) -> str:
    """A read or declared field value in French: countries by name, codes of values spelled out."""
    if value is None or value == "":
        return "—"
    if name == "nationality":
        return country(str(value))
    if name == "two_d_doc" and isinstance(value, dict):
        signed = value.get("signature_valid")
        return "présent, signature vérifiée" if signed else "présent, signature non vérifiée"
    if name == "categories" and isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    table = VALUES.get(name)
    if table is not None and isinstance(value, str):
        return table.get(value, table.get(value.lower(), show(value)))
    return show(value)


def audit_details(action: str, details: dict[str, Any]) -> str:
    """The details of a journal line in French: 'Taille : 139 Ko · Pièce : Passeport'."""
    parts = []
    for key, value in (details or {}).items():
        if value in (None, "", []) or key not in DETAIL:
            continue
        if key in ("status", "previous"):
            text = status_label(value)
        elif key == "code":
            text = code_label(value)
        elif key == "size":
            text = size(value)
        elif key == "source":
            text = SOURCE.get(value, "autre")
        elif key == "trigger":
            text = TRIGGER.get(value, "autre")
        elif key == "kinds":
            text = ", ".join(KIND.get(k, "document") for k in value) if isinstance(value, list) else "document"
        elif key == "fields":
            text = ", ".join(field_label(f) for f in value) if isinstance(value, list) else "—"
        elif key == "error":
            text = "erreur technique (voir le journal du serveur)"
        else:
            text = show(value)
        parts.append(f"{DETAIL[key]} : {text}")
    return " · ".join(parts)


@dataclass
class FieldRow:
    """One line of the reviewer's side-by-side table, with where the value was read."""

    name: str
    label: str
    read: str
    declared: str | None
    differs: bool
    page: int | None = None
    box: list[float] | None = None
    confidence: float | None = None


def _person(declared: dict, holder: str) -> dict:
    if holder in ("host", "legal_representative") and isinstance(declared.get(holder), dict):
        return declared[holder]
    return declared.get("applicant") or {}


def _tokens(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    return name_tokens(str(value or ""))


def _where(evidence: dict[str, Any] | None, name: str) -> tuple[int | None, list[float] | None, float | None]:
    """Page, box and confidence of a field from a piece's evidence (None when it has no place)."""
    fields = (evidence or {}).get("fields")
    entry = fields.get(name) if isinstance(fields, dict) else None
    if not isinstance(entry, dict):
        return None, None, None
    box = entry.get("box")
    valid = (isinstance(box, (list, tuple)) and len(box) == 4 and all(isinstance(v, (int, float)) for v in box)
             and box[2] > 0 and box[3] > 0)
    page = entry.get("page")
    confidence = entry.get("confidence")
    return (page if isinstance(page, int) else None, [float(v) for v in box] if valid else None,
            float(confidence) if isinstance(confidence, (int, float)) else None)


def compare_fields(fields: dict[str, Any], declared: dict[str, Any], holder: str = "applicant",
                   evidence: dict[str, Any] | None = None) -> list[FieldRow]:
    """Read fields beside the declared values of the piece's holder; `differs` marks a mismatch."""
    person = _person(declared, holder)
    address = (declared.get("applicant") or {}).get("address") or {}
    rows = []
    for name, value in fields.items():
        label = FIELD.get(name, "Autre information")
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
        page, box, confidence = _where(evidence, name)
        rows.append(FieldRow(name, label, field_value(name, value),
                             None if want is None else field_value(name, want), differs, page, box, confidence))
    return rows


def frames(evidence: dict[str, Any] | None) -> dict[str, dict[str, int]]:
    """The upright frame of each page ({"1": {"width", "height", "rotation"}}) from a piece's evidence."""
    out = {}
    raw = (evidence or {}).get("frames")
    if isinstance(raw, dict):
        for page, frame in raw.items():
            if not isinstance(frame, dict):
                continue
            width, height, rotation = frame.get("width"), frame.get("height"), frame.get("rotation", 0)
            if frame.get("flattened"):
                continue  # boxes of a page straightened in perspective do not fall on the page as shown
            if isinstance(width, int) and isinstance(height, int) and width > 0 and height > 0 \
                    and rotation in (0, 90, 180, 270):
                out[str(page)] = {"width": width, "height": height, "rotation": rotation}
    return out
