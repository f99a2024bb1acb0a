"""zxing-cpp: the 2D barcode reader (DataMatrix of 2D-Docs, QR and DataMatrix of e-photo sheets).

A Python module (PyPI `zxing-cpp`) running in-process, not a program: its time is bounded by the
image, which the readers reduce before decoding (intake.extractors.twoddoc.decode). The probe says whether
it imports and which version and formats it offers.
"""

from __future__ import annotations

PACKAGE = "zxing-cpp"
FORMATS = ("DataMatrix", "QRCode")


def probe():
    from intake.tools.base import Probe

    try:
        import zxingcpp
    except ImportError as exc:
        return Probe(name="zxing-cpp", found=False, missing=[f"le module Python zxingcpp ({exc})"],
                     install=[f"pip install {PACKAGE} (dans .venv)"])
    from importlib.metadata import PackageNotFoundError, version

    try:
        found_version = version(PACKAGE)
    except PackageNotFoundError:
        found_version = "?"
    lacking = [name for name in FORMATS if not hasattr(zxingcpp.BarcodeFormat, name)]
    return Probe(name="zxing-cpp", found=True, version=found_version,
                 details={"formats": ", ".join(name for name in FORMATS if name not in lacking)},
                 missing=[f"le format {name}" for name in lacking],
                 install=[f"pip install --upgrade {PACKAGE} (dans .venv)"] if lacking else [])
