"""The declared data of a dossier (`dossier.json`, CONTRACT.md §1), parsed and validated.

A bad document is refused with `DossierError`, whose message names the field at fault.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from intake.errors import InputError

PROCEDURES = ("inscription", "titre_reussite", "titre_formation")
MOTIFS = ("primo", "extension", "retour")
CATEGORIES = ("AM", "A1", "A2", "A", "B1", "B", "BE", "C1", "C1E", "C", "CE", "D1", "D1E", "D", "DE")
TRAININGS = ("AM", "A", "B96", "levee_78")
SEXES = ("M", "F", "X")
MAX_DOSSIER_JSON_BYTES = 1_000_000
_ICAO3 = re.compile(r"^[A-Z]{3}$")


class DossierError(InputError, ValueError):
    """`dossier.json` is missing, not JSON, or breaks the schema; `field` names the culprit."""

    def __init__(self, field_name: str, message: str):
        super().__init__(message)
        self.field = field_name

    def __str__(self) -> str:
        return f"dossier.json refusé : champ « {self.field} » : {self.message}"


@dataclass(frozen=True)
class Address:
    line: str = ""
    postcode: str = ""
    city: str = ""


@dataclass(frozen=True)
class Person:
    """A declared person: the applicant, the host or the legal representative."""

    surname: str
    given_names: tuple[str, ...]
    birth_date: date | None
    usage_name: str | None = None


@dataclass(frozen=True)
class Applicant(Person):
    birth_place: str = ""
    sex: str = ""
    nationality: str = ""
    address: Address = field(default_factory=Address)
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Situation:
    hosted: bool = False
    under_guardianship: bool = False
    medical_condition: bool = False


@dataclass(frozen=True)
class Declared:
    """Everything the driving school typed for one dossier."""

    reference: str
    reference_date: date | None
    procedure: str
    motif: str
    categories: tuple[str, ...]
    training: str | None
    applicant: Applicant
    situation: Situation
    host: Person | None
    legal_representative: Person | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def people(self) -> dict[str, Person]:
        """The declared people by role (CONTRACT.md `holder` names)."""
        out: dict[str, Person] = {"applicant": self.applicant}
        if self.host is not None:
            out["host"] = self.host
        if self.legal_representative is not None:
            out["legal_representative"] = self.legal_representative
        return out

    def to_json(self) -> dict[str, Any]:
        return self.raw or _plain(asdict(self))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "raw"}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _get(obj: dict, key: str, path: str, types: tuple, required: bool = True, default: Any = None):
    if key not in obj or obj[key] is None:
        if required and obj.get(key, ...) is ...:
            raise DossierError(f"{path}{key}", "champ obligatoire manquant")
        if required and key in obj and obj[key] is None and type(None) not in types:
            raise DossierError(f"{path}{key}", "ne peut pas être null")
        return default
    value = obj[key]
    if bool in types and not isinstance(value, bool):
        raise DossierError(f"{path}{key}", "doit être true ou false")
    if bool not in types and isinstance(value, bool):
        raise DossierError(f"{path}{key}", f"type incorrect (attendu {types[0].__name__})")
    if not isinstance(value, types):
        raise DossierError(f"{path}{key}", f"type incorrect (attendu {types[0].__name__})")
    return value


def _date(value: Any, name: str, required: bool = True) -> date | None:
    if value is None:
        if required:
            raise DossierError(name, "date obligatoire manquante")
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise DossierError(name, "date attendue au format AAAA-MM-JJ")
    y, m, d = (int(x) for x in value.split("-"))
    if m == 0 or d == 0:
        # Kept readable so that the rules can report birth_date_unusual; day/month 00 is a
        # known placeholder for unknown birth dates on foreign documents.
        return _UnusualDate(y, max(m, 1), max(d, 1), original=value)
    try:
        return date(y, m, d)
    except ValueError:
        raise DossierError(name, f"date impossible : {value}") from None


class _UnusualDate(date):
    """A date written with day or month 00: kept, and reported as `birth_date_unusual`."""

    original: str

    def __new__(cls, y: int, m: int, d: int, original: str):
        obj = super().__new__(cls, y, m, d)
        obj.original = original
        return obj

    def isoformat(self) -> str:  # type: ignore[override]
        return self.original


def is_placeholder_date(value: date | None) -> bool:
    """True for a declared date written with day or month 00."""
    return isinstance(value, _UnusualDate)


def _names(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise DossierError(name, "liste de prénoms non vide attendue")
    if any(len(v) > 200 for v in value):
        raise DossierError(name, "prénom trop long")
    return tuple(v.strip() for v in value)


def _text(obj: dict, key: str, path: str, required: bool = True, max_len: int = 200) -> str:
    value = _get(obj, key, path, (str,), required=required, default="")
    if required and not value.strip():
        raise DossierError(f"{path}{key}", "ne peut pas être vide")
    if len(value) > max_len:
        raise DossierError(f"{path}{key}", "trop long")
    return value.strip()


def _person(obj: Any, path: str) -> Person | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        raise DossierError(path.rstrip("."), "objet attendu ou null")
    return Person(
        surname=_text(obj, "surname", path),
        given_names=_names(obj.get("given_names"), f"{path}given_names"),
        birth_date=_date(obj.get("birth_date"), f"{path}birth_date", required=False),
        usage_name=_text(obj, "usage_name", path, required=False) or None,
    )


def parse_declared(data: Any) -> Declared:
    """Validate a decoded `dossier.json` and build `Declared`; raise `DossierError`."""
    if not isinstance(data, dict):
        raise DossierError("dossier.json", "un objet JSON est attendu")
    reference = _text(data, "reference", "")
    procedure = _get(data, "procedure", "", (str,))
    if procedure not in PROCEDURES:
        raise DossierError("procedure", f"valeur inconnue {procedure!r} (attendu : {', '.join(PROCEDURES)})")
    motif = _get(data, "motif", "", (str,))
    if motif not in MOTIFS:
        raise DossierError("motif", f"valeur inconnue {motif!r} (attendu : {', '.join(MOTIFS)})")
    categories = _get(data, "categories", "", (list,))
    if not categories:
        raise DossierError("categories", "au moins une catégorie est attendue")
    for i, cat in enumerate(categories):
        if cat not in CATEGORIES:
            raise DossierError(f"categories[{i}]", f"catégorie inconnue {cat!r}")
    training = _get(data, "training", "", (str,), required=False)
    if training is not None and training not in TRAININGS:
        raise DossierError("training", f"valeur inconnue {training!r} (attendu : {', '.join(TRAININGS)})")
    if procedure == "titre_formation" and training is None:
        raise DossierError("training", "obligatoire avec la procédure titre_formation")
    if procedure != "titre_formation" and training is not None:
        raise DossierError("training", "seulement avec la procédure titre_formation")

    a = _get(data, "applicant", "", (dict,))
    sex = _get(a, "sex", "applicant.", (str,))
    if sex not in SEXES:
        raise DossierError("applicant.sex", "M, F ou X attendu")
    nationality = _get(a, "nationality", "applicant.", (str,))
    if not _ICAO3.match(nationality):
        raise DossierError("applicant.nationality", "code OACI à 3 lettres attendu (FRA, DEU, ...)")
    addr = _get(a, "address", "applicant.", (dict,), required=False, default={})
    address = Address(
        line=_text(addr, "line", "applicant.address.", required=False),
        postcode=_text(addr, "postcode", "applicant.address.", required=False, max_len=20),
        city=_text(addr, "city", "applicant.address.", required=False),
    )
    applicant = Applicant(
        surname=_text(a, "surname", "applicant."),
        usage_name=_text(a, "usage_name", "applicant.", required=False) or None,
        given_names=_names(a.get("given_names"), "applicant.given_names"),
        birth_date=_date(a.get("birth_date"), "applicant.birth_date"),
        birth_place=_text(a, "birth_place", "applicant.", required=False),
        sex=sex,
        nationality=nationality,
        address=address,
        email=_text(a, "email", "applicant.", required=False),
        phone=_text(a, "phone", "applicant.", required=False, max_len=40),
    )
    s = _get(data, "situation", "", (dict,), required=False, default={})
    situation = Situation(
        hosted=_get(s, "hosted", "situation.", (bool,), required=False, default=False),
        under_guardianship=_get(s, "under_guardianship", "situation.", (bool,), required=False, default=False),
        medical_condition=_get(s, "medical_condition", "situation.", (bool,), required=False, default=False),
    )
    return Declared(
        reference=reference,
        reference_date=_date(data.get("reference_date"), "reference_date", required=False),
        procedure=procedure,
        motif=motif,
        categories=tuple(categories),
        training=training,
        applicant=applicant,
        situation=situation,
        host=_person(data.get("host"), "host."),
        legal_representative=_person(data.get("legal_representative"), "legal_representative."),
        raw=data,
    )


def load_declared(folder: Path) -> Declared:
    """Read and validate `folder/dossier.json`."""
    path = Path(folder) / "dossier.json"
    if not path.is_file():
        raise DossierError("dossier.json", f"fichier absent dans {folder}")
    if path.stat().st_size > MAX_DOSSIER_JSON_BYTES:
        raise DossierError("dossier.json", "fichier trop volumineux")
    try:
        data = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise DossierError("dossier.json", "le fichier n'est pas en UTF-8") from None
    except json.JSONDecodeError as exc:
        raise DossierError("dossier.json", f"JSON invalide (ligne {exc.lineno}, colonne {exc.colno})") from None
    except RecursionError:
        raise DossierError("dossier.json", "JSON trop imbriqué") from None
    return parse_declared(data)
