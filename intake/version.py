"""The version of the pipeline that produced a result: extraction code and rules.

Bump EXTRACTION_VERSION when reading changes (OCR, classification, fields); the rules' version comes
from the rules table. Reprocessing selects results whose version is older than this one.
"""

EXTRACTION_VERSION = 2  # 2: every field read carries its evidence (issue #15)


def _rules_version() -> int:
    try:
        from intake.validators.rules import RULES_VERSION
    except ImportError:  # pragma: no cover - during bootstrap only
        return 0
    return int(RULES_VERSION)


PIPELINE_VERSION = f"x{EXTRACTION_VERSION}.r{_rules_version()}"
