"""The external programs and libraries intake calls: one module each, each with its timeout and a probe.

- `tesseract`: OCR, in-process through libtesseract (one engine per thread), the program as fallback;
- `poppler`: PDF structure and rendering (`pdfinfo`, `pdftoppm`);
- `zxing`: 2D barcodes (the zxing-cpp Python module);
- `fonts`: the fonts the glyph readers render their templates from (OCR-B, DejaVu, Liberation).

`probe_all()` is what `intake doctor` prints; `require()` is what `intake check` and the workers call
before starting, so that a machine without tesseract's `fra` data refuses to start with one clear
French message instead of failing every page. Temporary files of these programs live in a private
folder under the data folder (`private_tmp()`), never in /tmp.
"""

from __future__ import annotations

from intake.tools import fonts, poppler, tesseract, zxing
from intake.tools.base import Probe, ToolMissing, private_tmp

__all__ = ["Probe", "ToolMissing", "private_tmp", "probe_all", "require"]


def probe_all() -> list[Probe]:
    """Every tool's probe, in the order `intake doctor` prints them."""
    return [tesseract.probe(), poppler.probe(), zxing.probe(), fonts.probe()]


def require() -> None:
    """Raise ToolMissing (French) when something `intake check` or a worker cannot do without is
    missing: the tesseract program and its fra, eng and osd data, poppler, the OCR-B font. Cheap
    (file look-ups, no subprocess), so it runs before every check."""
    problems = tesseract.missing_requirements() + poppler.missing_requirements() + fonts.missing_requirements()
    if problems:
        packages = sorted({p for _, pkgs in problems for p in pkgs})
        raise ToolMissing(
            "outils manquants : " + " ; ".join(text for text, _ in problems)
            + ". Installer : apt-get install " + " ".join(packages) + " (détails : `intake doctor`)"
        )
