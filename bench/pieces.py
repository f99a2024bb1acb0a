"""Key fields read right, piece by piece, by kind x rotation and kind x capture condition.

Reads every piece file of a generated corpus (`python -m fixtures generate ...`, family 1 or 2) as
`intake extract` does (`pipeline.read_file`: pages, grouping), with no database and no verdict, and
compares the key fields of each expected piece (CONTRACT.md, `intake.evaluation.key_fields`) with
what was read. Faster than `intake eval` when a reader is being worked on; the issue's goal (98 % of
key fields per kind and orientation) is read from its two tables. It also counts the key values read
wrong that the validators would still trust (`validators.key_fields.well_read`: confident, read twice
alike, or protected by a check digit or signature, and no issue or photo date later than the
dossier's reference date): the fail-safe's own figure, the misses that reach
a verdict instead of a person (marked "wrong, taken as read" in --misses).

    OMP_THREAD_LIMIT=1 python bench/pieces.py CORPUS [CORPUS...] [--kind photo_code] [--jobs 2]
        [--misses]   # print each miss: dossier, file, field (values are never printed)

Family 1 records no rotation per piece: its pieces fall in the "-" column.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _read(task: tuple[str, str]) -> tuple[str, str, list[dict], float]:
    """(folder, file, pieces read as JSON, seconds) for one piece file."""
    import intake

    intake.single_threaded_pools()
    from intake.pipeline import read_file

    folder, file = task
    started = time.perf_counter()
    read = read_file(Path(folder) / file, file)
    pieces = [{"kind": d.kind, "page": d.pages[0] if d.pages else 1, "fields": d.fields,
               "evidence": d.evidence} for d in read.documents]
    return folder, file, pieces, time.perf_counter() - started


def _reference_date(folder: Path) -> date | None:
    from intake.dossier import DossierError, load_declared

    try:
        return load_declared(folder).reference_date
    except DossierError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpora", nargs="+", type=Path)
    parser.add_argument("--kind", action="append", help="only pieces of this kind (repeatable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--misses", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    # the generators sign their 2D-Docs with the fixture certificate, as `intake eval`'s README line says
    os.environ.setdefault("INTAKE_2DDOC_CERTS", str(Path(__file__).resolve().parents[1] / "fixtures" / "certs"))
    from intake.evaluation import capture_of, field_matches, key_fields, print_kind_table
    from intake.validators.key_fields import well_read

    expected: dict[tuple[str, str], list[tuple[dict, str]]] = {}
    #: each dossier's reference date: a date read later than it is never taken as read
    references: dict[str, date | None] = {}
    for corpus in args.corpora:
        for folder in sorted(p for p in corpus.iterdir() if (p / "expected.json").is_file()):
            exp = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
            for piece in exp.get("pieces", []):
                if args.kind and piece["kind"] not in args.kind:
                    continue
                expected.setdefault((str(folder), piece["file"]), []).append((piece, exp.get("degradation", "")))
            references[str(folder)] = _reference_date(folder)
    by_rotation: dict[str, dict[str, list[int]]] = {}
    by_condition: dict[str, dict[str, list[int]]] = {}
    misses: list[str] = []
    #: key values read wrong yet well read by the validators' measure (confident, or read twice
    #: alike, or protected): the ones that reach a verdict instead of a person
    trusted_wrong: list[str] = []
    seconds = 0.0
    started = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        for folder, file, got, spent in pool.map(_read, list(expected), chunksize=1):
            seconds += spent
            for piece, degradation in expected[(folder, file)]:
                same = [g for g in got if g["kind"] == piece["kind"]]
                match = min(same, key=lambda g: abs(g["page"] - piece.get("page", 1)), default=None)
                wanted = key_fields(piece)
                right = 0
                for name, value in wanted.items():
                    if match is not None and field_matches(name, value, match["fields"].get(name)):
                        right += 1
                    else:
                        why = "kind" if match is None else "value"
                        if match is not None and match["fields"].get(name) not in (None, "", []) and \
                                well_read(match["fields"], match["evidence"], name, references[folder]):
                            why = "wrong, taken as read"
                            trusted_wrong.append(f"{Path(folder).name}/{file} {piece['kind']}.{name}")
                        misses.append(f"{Path(folder).name}/{file} {piece['kind']}.{name} ({why})")
                if not wanted:
                    continue
                condition, rotation = capture_of(piece, degradation)
                for table, column in ((by_rotation, rotation), (by_condition, condition)):
                    cell = table.setdefault(piece["kind"], {}).setdefault(column, [0, 0])
                    cell[0] += right
                    cell[1] += len(wanted)
    out = sys.stdout
    files = len(expected)
    out.write(f"{files} files in {time.perf_counter() - started:.0f} s wall, "
              f"{seconds / max(files, 1):.2f} s per file in the readers\n")
    print_kind_table("key fields by kind and rotation", by_rotation, out)
    print_kind_table("key fields by kind and capture", by_condition, out)
    out.write(f"\nkey values read wrong yet taken as read (confident, read twice alike or protected): "
              f"{len(trusted_wrong)}\n")
    if args.misses and misses:
        out.write("\nmisses:\n" + "".join(f"  {m}\n" for m in misses))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
