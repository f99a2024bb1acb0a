"""Fonts the glyph readers render their templates from: OCR-B for the MRZ (required), and the
DejaVu and Liberation faces for e-photo code lines (each one missing only narrows the faces tried)."""

from __future__ import annotations

from pathlib import Path

#: Debian packages of the fonts.
PACKAGES = {"ocr-b": "fonts-ocr-b", "dejavu": "fonts-dejavu-core", "liberation": "fonts-liberation"}


def ocrb_font() -> Path:
    from intake.extractors.mrz.ocr import OCRB_FONT

    return Path(OCRB_FONT)


def missing_requirements() -> list[tuple[str, list[str]]]:
    font = ocrb_font()
    if not font.exists():
        return [(f"la police OCR-B ({font}), qui sert à lire les bandes MRZ", [PACKAGES["ocr-b"]])]
    return []


def probe():
    from intake.extractors.ephoto.code import TEMPLATE_FONTS
    from intake.tools.base import Probe

    faces = [Path(p) for p in TEMPLATE_FONTS]
    present = [p for p in faces if p.exists()]
    absent = [p for p in faces if not p.exists()]
    problems = missing_requirements()
    install = [pkg for _, pkgs in problems for pkg in pkgs]
    notes = []
    if absent:
        notes.append(f"{len(absent)} police(s) des codes e-photo absentes : moins de formes de caractères essayées")
        install += sorted({PACKAGES["dejavu"] if "dejavu" in str(p) else PACKAGES["liberation"] for p in absent})
    return Probe(name="polices", found=True, version="",
                 details={"OCR-B (MRZ)": str(ocrb_font()) if ocrb_font().exists() else "introuvable",
                          "codes e-photo": f"{len(present)} sur {len(faces)} présentes"},
                 missing=[text for text, _ in problems], notes=notes, install=install)
