"""One piece of a family-2 dossier regenerated from its seed and index, as the tests that hold the
exact pixels of a misread need it."""

import json

import numpy as np

from fixtures.family2.corpus import generate_one, plan_for
from intake.extractors.images import open_source
from intake.settings import get_settings


def family2_piece(tmp_path, seed: int, index: int, file: str) -> tuple[np.ndarray, dict]:
    """(first page rendered, expected piece) of `file` in dossier `index` of family-2 `seed`."""
    case, style = plan_for(seed, index)
    dossier_id = f"{index + 1:04d}-{case}"
    generate_one(tmp_path, dossier_id, case, style, seed, index)
    expected = json.loads((tmp_path / dossier_id / "expected.json").read_text(encoding="utf-8"))
    piece = next(p for p in expected["pieces"] if p["file"] == file)
    return open_source(tmp_path / dossier_id / file, get_settings()).render(1), piece
