"""One piece of a generated dossier regenerated from its seed and index (family 2 unless the case and
style say otherwise), as the tests that hold the exact pixels of a misread need it."""

import json

import numpy as np

from fixtures.family2.corpus import generate_one, plan_for
from intake.extractors.images import open_source
from intake.settings import get_settings


def family2_piece(tmp_path, seed: int, index: int, file: str | None = None, *, kind: str | None = None,
                  case: str | None = None, style: str | None = None) -> tuple[np.ndarray, dict]:
    """(the piece's first page rendered, expected piece): the piece of `file`, or the first of `kind`,
    in dossier `index` of `seed`, drawn as the seed's plan says unless `case` and `style` are given."""
    if case is None:
        case, style = plan_for(seed, index)
    dossier_id = f"{index + 1:04d}-{case}"
    generate_one(tmp_path, dossier_id, case, style, seed, index)
    expected = json.loads((tmp_path / dossier_id / "expected.json").read_text(encoding="utf-8"))
    piece = next(p for p in expected["pieces"]
                 if (file is None or p["file"] == file) and (kind is None or p["kind"] == kind))
    source = open_source(tmp_path / dossier_id / piece["file"], get_settings())
    return source.render(piece.get("page", 1)), piece
