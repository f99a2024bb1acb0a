"""Identity cards, passports and residence permits: from their MRZ when it is read (check digits
protect its values), else the side of the card from its printed words (a card's front alone
carries no value the rules accept without its MRZ)."""

from __future__ import annotations

from typing import Any

from intake.documents import Finding, PageRead
from intake.extractors import classify as classify_mod
from intake.extractors import evidence as evidence_mod
from intake.extractors.kinds.context import PageContext


#: Doubtful letters (a runner-up glyph nearly as likely, see parse.name_readings) in names no check
#: digit covers from which the names are not taken as read: measured on family-2 phone photos, a
#: name read right has at most 2 such letters but for one in a hundred; the garbled names of a
#: shaken band 7 and more.
UNSURE_NAME_LETTERS = 3
#: The confidence such names keep: under the key-field threshold (validators.key_fields).
UNSURE_NAMES_CONFIDENCE = 0.4


def from_mrz(page: PageRead, mrz: Any, shape: tuple[int, ...]) -> None:
    """Fill `page` from its MRZ: kind, fields, protected names, side, and `mrz_invalid` when a
    check digit fails."""
    page.kind = mrz.kind
    page.confidence = float(mrz.confidence)
    page.fields = dict(mrz.fields)
    page.fields.setdefault("mrz_valid", bool(mrz.valid))
    page.fields.setdefault("mrz_format", mrz.format)
    page.evidence["fields"] = evidence_mod.mrz_evidence(mrz, page.page)
    page.evidence["mrz_names_full"] = evidence_mod.mrz_names_full(mrz)
    page.evidence["frames"] = {str(page.page): evidence_mod.mrz_frame(shape, mrz.rotation)}
    page.evidence["names_protected"] = bool(mrz.names_protected)
    page.evidence["issuing_state"] = mrz.issuing_state
    page.evidence["mrz_rotation"] = mrz.rotation
    if mrz.name_readings:
        page.evidence["mrz_name_readings"] = [{"surname": surname, "given_names": given}
                                              for surname, given in mrz.name_readings]
    if len(mrz.name_readings or []) >= UNSURE_NAME_LETTERS:
        # Names no check digit covers, with several letters that could be another: a band read
        # from a shaken photo whose numbers the check digits confirm may still carry names nobody
        # wrote. They count only after a person has looked (under the key-field threshold).
        for name in ("surname", "given_names"):
            entry = page.evidence["fields"].get(name)
            if entry is not None and not entry.get("protected"):
                entry["confidence"] = min(float(entry.get("confidence") or 0.0), UNSURE_NAMES_CONFIDENCE)
    if mrz.kind == "passport":
        page.side = None
    else:
        # The laminated French CNI carries its MRZ on the photo side; TD1 and TD2 cards on the back.
        page.side = "front" if mrz.format == "fr_cni_2x36" else "back"
    page.link = page.fields.get("document_number")
    if not mrz.valid:
        failed = [name for name, ok in (getattr(mrz, "checks", {}) or {}).items() if not ok]
        page.findings.append(Finding(
            "mrz_invalid",
            "La bande MRZ de la pièce d'identité est lue mais ses chiffres de contrôle ne sont pas bons"
            + (f" ({', '.join(failed)})." if failed else "."),
            page=page.page, details={"failed_checks": failed},
        ))


def read_printed_side(ctx: PageContext) -> None:
    """A card or passport page without a readable MRZ: its side, and whose state issued it."""
    page, text = ctx.page, ctx.text.text
    page.side = classify_mod.card_side(text, has_mrz=False) if page.kind != "passport" else None
    page.evidence["names_protected"] = False
    page.evidence["issuing_state"] = "FRA" if "republique francaise" in classify_mod.normalise(text) else ""
