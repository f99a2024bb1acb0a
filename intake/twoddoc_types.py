"""The document types of the ANTS 2D-Doc (perimeter 01), in one table: what each is called, whether
it proves an address (RULES.md §2D-Doc) and which subtype of proof of address it is.

Facts from the ANTS 2D-Doc specification; the extractors (decoding, the proof-of-address reader)
and the validators (the verdict reads a code's type) both read this table, so it lives beside
`icao.py`, in neither.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DocumentType:
    #: what a school is told the code is (French)
    label: str
    #: a signed code of this type is a proof of address on its own
    proves_address: bool = False
    #: the proof of address's subtype it makes ("bill", "tax_notice"), when it says
    subtype: str | None = None


#: Codes missing here are reported by their code alone.
DOCUMENT_TYPES: dict[str, DocumentType] = {
    "00": DocumentType("justificatif de domicile", proves_address=True),
    "01": DocumentType("facture", proves_address=True, subtype="bill"),
    "02": DocumentType("avis de taxe d'habitation", proves_address=True, subtype="tax_notice"),
    "03": DocumentType("relevé d'identité bancaire"),
    "04": DocumentType("avis d'impôt sur le revenu", proves_address=True, subtype="tax_notice"),
    "05": DocumentType("relevé d'identité SEPAmail"),
    "06": DocumentType("bulletin de salaire"),
    "07": DocumentType("titre d'identité"),
    "08": DocumentType("MRZ d'un titre d'identité"),
    "09": DocumentType("facture étendue"),
    "10": DocumentType("contrat de travail"),
    "11": DocumentType("relevé de compte"),
    "12": DocumentType("acte d'huissier"),
    "13": DocumentType("document étranger"),
    "14": DocumentType("attestation DICEM"),
    "15": DocumentType("autorisation de travail"),
    "16": DocumentType("attestation de demande d'asile"),
    "17": DocumentType("attestation de fin de droit à l'allocation pour demandeur d'asile"),
    "18": DocumentType("avis de situation déclarative à l'impôt sur le revenu"),
    "19": DocumentType("donation"),
    "20": DocumentType("cession de droits sociaux"),
    "21": DocumentType("attestation 2041-ASK"),
    "22": DocumentType("carte européenne d'arme à feu"),
    "23": DocumentType("certificat de preuve de vie"),
    "24": DocumentType("avis de situation déclarative à l'impôt sur le revenu"),
    "25": DocumentType("autorisation de travail"),
    "26": DocumentType("certificat de conformité de sûreté aéroportuaire"),
    "27": DocumentType("avis de situation déclarative à l'impôt sur le revenu"),
    "28": DocumentType("avis d'impôt sur le revenu", proves_address=True, subtype="tax_notice"),
    "A0": DocumentType("certificat de qualité de l'air"),
    "A1": DocumentType("courrier du permis à points"),
    "A2": DocumentType("carte mobilité inclusion"),
    "A3": DocumentType("macaron VTC"),
    "A4": DocumentType("certificat de décès"),
    "A5": DocumentType("carte professionnelle T3P"),
    "A6": DocumentType("carte professionnelle de sapeur-pompier"),
    "A7": DocumentType("certificat de qualité de l'air"),
    "A8": DocumentType("certificat de cession électronique"),
    "A9": DocumentType("permis de chasser"),
    "AA": DocumentType("arrêté relatif au permis de conduire"),
    "AB": DocumentType("relevé d'information du permis de conduire"),
    "AC": DocumentType("licence de conducteur de train"),
    "AD": DocumentType("certificat d'examen du permis de conduire (CEPC)"),
    "AE": DocumentType("certificat de décès"),
    "B0": DocumentType("diplôme"),
    "B1": DocumentType("attestation CVEC"),
    "B2": DocumentType("résultat de test virologique"),
    "L1": DocumentType("attestation vaccinale"),
}

#: Types that prove an address.
ADDRESS_TYPES = tuple(code for code, t in DOCUMENT_TYPES.items() if t.proves_address)
#: Types that are tax notices (their printed page is a tax notice whatever its look).
TAX_NOTICE_TYPES = tuple(code for code, t in DOCUMENT_TYPES.items() if t.subtype == "tax_notice")


def label(code: str) -> str:
    """The French name of a 2D-Doc type, or its code when the table does not know it."""
    known = DOCUMENT_TYPES.get(code)
    return known.label if known else f"document de type {code}"
