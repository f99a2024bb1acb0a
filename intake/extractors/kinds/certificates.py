"""Certificates and attestations (ASSR, JDC, medical opinion, training and exam certificates,
hosting attestation) and driving licences: holder, dates and the kind's own values, from the
printed lines."""

from __future__ import annotations

from typing import Any

from intake.extractors import classify as classify_mod
from intake.extractors import fields as fields_mod
from intake.extractors.dates import evidence as dates_evidence
from intake.extractors.dates import pick
from intake.extractors.kinds.context import PageContext
from intake.extractors.ocr.page_text import PageText

#: Rows of the categories table that make a licence page its back (the holder is on the front).
LICENCE_BACK_ROWS = 6


def read(ctx: PageContext) -> None:
    """A certificate's fields, and the dates it was chosen from as evidence."""
    page = ctx.page
    page.fields = _fields(page.kind, ctx.text, ctx.dates)
    used = pick(ctx.dates, "issue") or pick(ctx.dates, "exam")
    page.evidence["date_candidates"] = dates_evidence(ctx.dates, used)


def read_licence(ctx: PageContext) -> None:
    """A driving licence: its back is the categories table; its front (or an A4 copy) is read as a
    certificate, with the side known when it is a card."""
    page = ctx.page
    if classify_mod.licence_table_rows(ctx.text.text) >= LICENCE_BACK_ROWS:
        page.side = "back"
        held = fields_mod.licence_back_categories(ctx.text.words())
        if held:
            page.fields = {"categories": held}
        return
    page.side = "front" if ctx.card else None
    read(ctx)


def _fields(kind: str, pt: PageText, candidates) -> dict[str, Any]:
    """Fields from the page's printed lines (certificates are one column, and tesseract's column
    finding can cut a line in two), completed by the block reading for what those lack."""
    fields = fields_mod.certificate_fields(kind, pt.text, candidates)
    if kind == "driving_licence":
        return fields  # its fields are numbered blocks: the block reading is the right one
    by_lines = fields_mod.certificate_fields(kind, pt.line_text())
    return {**fields, **by_lines}
