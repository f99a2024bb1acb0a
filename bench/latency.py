"""Latency of `intake check` on one core, against the floor: tesseract on the needed regions alone.

    .venv/bin/python bench/latency.py [--runs 5] [--core 0] [--tree DIR]

Every `intake check` runs pinned to one core (`taskset -c CORE`, OMP_THREAD_LIMIT=1) in a warm data
folder (database migrated, templates cached: a school's machine after its first dossier), end to
end: process start, imports, storing, reading, verdict, exit. Dossiers, built from fixtures/corpus:

- no piece: the sample's dossier.json alone (the fixed cost of a check);
- sample: fixtures/sample (5 files, 6 pages);
- 3 pieces: fixtures/corpus/001-complete_adult;
- 8 pieces: the sample plus three pieces of 002-complete_young;
- bill, 1 page / 10 pages: the sample's dossier.json with one bill, or ten bills in one PDF
  (pdfunite): their difference over 9 is the cost of an extra page.

The floor: the fields' evidence boxes of the last run (CONTRACT.md, `evidence`), cropped from the
pages as the pipeline renders them and read by tesseract alone (in-process engine, already loaded,
one line each), in this process pinned to the same core; its CPU time. Titles read to classify are not in it:
the true floor is a little higher. `--tree DIR` runs another checkout's code (PYTHONPATH=DIR) with
this virtualenv: the figures before a change (the floor still comes from this checkout's evidence).

The table gives medians of --runs runs of wall time and of CPU time (user + system of the check
process and its children); on a shared machine, CPU time is the steadier of the two.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORPUS = ROOT / "fixtures" / "corpus"
SAMPLE = ROOT / "fixtures" / "sample"
BILLS = ["005-photo_code_missing/piece2.pdf", "010-jdc_missing/IMG_20260107_198678.pdf",
         "011-jdc_not_needed_25/piece2.pdf", "033-minor_rep_undeclared/IMG_20260913_211187.pdf",
         "037-hosted_host_identity_missing/piece2.pdf", "039-identity_expired_tolerated/scan_0001.pdf",
         "043-laminated_adult_2008_tolerated/Document (1).pdf", "053-twoddoc_valid_ok/piece1.pdf",
         "058-identity_name_mismatch/IMG_20260822_135220.pdf", "061-mrz_invalid/piece1.pdf"]
EXTRA_PIECES = ["002-complete_young/piece1.pdf", "002-complete_young/piece3.jpg",
                "002-complete_young/scan_0005.pdf"]


def build_dossiers(work: Path) -> dict[str, Path]:
    """The dossiers of the table, as folders under `work`."""
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    out = {}
    empty = work / "no-piece"
    empty.mkdir()
    shutil.copy(SAMPLE / "dossier.json", empty / "dossier.json")
    out["no piece"] = empty
    out.update({"sample": SAMPLE, "3 pieces": CORPUS / "001-complete_adult"})
    eight = work / "pieces-8"
    shutil.copytree(SAMPLE, eight)
    for name in EXTRA_PIECES:
        src = CORPUS / name
        shutil.copy(src, eight / f"x-{src.name}")
    out["8 pieces"] = eight
    for count in (1, 10):
        folder = work / f"bill-{count}"
        folder.mkdir()
        shutil.copy(SAMPLE / "dossier.json", folder / "dossier.json")
        if count == 1:
            shutil.copy(CORPUS / BILLS[0], folder / "facture.pdf")
        else:
            subprocess.run(["pdfunite", *[str(CORPUS / b) for b in BILLS[:count]], str(folder / "factures.pdf")],
                           check=True, timeout=120)
        out[f"bill, {count} page{'s' if count > 1 else ''}"] = folder
    return out


def page_count(folder: Path) -> tuple[int, int]:
    """(pieces files, pages) of a dossier folder."""
    from intake.extractors.images import open_source
    from intake.pipeline import list_piece_files
    from intake.settings import get_settings

    files = list_piece_files(folder)
    return len(files), sum(open_source(f, get_settings()).page_count for f in files)


def run_check(folder: Path, env: dict[str, str], core: int) -> tuple[float, float, dict]:
    # `python -m` puts the working folder first on sys.path: run from the tree whose code is timed
    """(wall s, CPU s, result JSON) of one `intake check --json` pinned to `core`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run(["taskset", "-c", str(core), sys.executable, "-m", "intake.cli", "check", "--json",
                           str(folder)], env=env, capture_output=True, text=True, timeout=900,
                          cwd=env.get("PYTHONPATH", str(ROOT)))
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"intake check {folder} a échoué ({proc.returncode}) : {proc.stderr[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(proc.stdout)


#: What every `intake check` loads before it reads a page, and nothing else: the interpreter, the
#: libraries of the stack, libtesseract with its French engine.
STACK_ONLY = ("import sqlalchemy.orm, numpy, cv2, PIL.Image, dramatiq, zxingcpp\n"
              "from intake.tools import tesseract\n"
              "tesseract.Engine('fra')")


def stack_seconds(env: dict[str, str], core: int, runs: int) -> float:
    """The least CPU time, over `runs` runs, of a process that only loads the stack (STACK_ONLY)."""
    best = float("inf")
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(["taskset", "-c", str(core), sys.executable, "-c", STACK_ONLY], env=env, check=True,
                       capture_output=True, timeout=300, cwd=env.get("PYTHONPATH", str(ROOT)))
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        best = min(best, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return best


def floor_seconds(folder: Path, result: dict) -> float:
    """Tesseract alone on the evidence boxes of `result`, pages rendered as the pipeline does."""
    import cv2

    from intake.extractors.ocr import words as ocr
    from intake.extractors.images import open_source
    from intake.settings import get_settings

    boxes: dict[tuple[str, int], set[tuple[int, int, int, int]]] = {}
    for piece in result.get("pieces", []):
        for field in (piece.get("evidence") or {}).values():
            if isinstance(field, dict) and field.get("box") and field.get("page"):
                boxes.setdefault((piece["file"], int(field["page"])), set()).add(tuple(field["box"]))
    crops = []
    for (name, page), rects in boxes.items():
        image = open_source(folder / name, get_settings(), reading=True).render(page)
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        h, w = gray.shape
        for x, y, bw, bh in rects:
            pad = max(4, bh // 3)
            crop = gray[max(0, y - pad):min(h, y + bh + pad), max(0, x - pad):min(w, x + bw + pad)]
            if crop.size:
                crops.append((crop, 7 if bh < 60 else 6))
    ocr.image_to_words(crops[0][0], psm=7) if crops else None  # the engine loaded before timing
    started = time.thread_time()  # CPU time of this thread: tesseract runs in it, single-threaded
    for crop, psm in crops:
        ocr.image_to_words(crop, lang="fra", psm=psm)
    return time.thread_time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--core", type=int, default=0)
    parser.add_argument("--tree", help="run the checks with this checkout's code (PYTHONPATH)")
    parser.add_argument("--work", default="/tmp/intake-latency")
    args = parser.parse_args()

    os.environ["OMP_THREAD_LIMIT"] = "1"
    os.sched_setaffinity(0, {args.core})
    work = Path(args.work)
    dossiers = build_dossiers(work / "dossiers")
    data = work / "data"
    shutil.rmtree(data, ignore_errors=True)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "INTAKE_DATA_DIR": str(data),
           "INTAKE_2DDOC_CERTS": str(ROOT / "fixtures" / "certs")}
    for key in ("INTAKE_BROKER_URL", "INTAKE_DATABASE_URL"):
        env.pop(key, None)
    if args.tree:
        env["PYTHONPATH"] = str(Path(args.tree).resolve())
    run_check(SAMPLE, env, args.core)  # warm: database migrated, caches written, bytecode compiled

    rows = []
    for name, folder in dossiers.items():
        walls, cpus, result = [], [], {}
        for _ in range(args.runs):
            wall, cpu, result = run_check(folder, env, args.core)
            walls.append(wall)
            cpus.append(cpu)
        pieces, pages = page_count(folder)
        if args.tree:  # the evidence boxes come from this checkout, whatever the code timed
            try:
                here = {k: v for k, v in env.items() if k != "PYTHONPATH"}
                here["INTAKE_DATA_DIR"] = str(work / "data-here")  # its own schema, its own folder
                result = run_check(folder, here, args.core)[2]
            except (SystemExit, ValueError) as exc:
                print(f"  {name}: pas de preuves de cette copie ({exc})", file=sys.stderr)
        floor = floor_seconds(folder, result)
        rows.append((name, pieces, pages, statistics.median(walls), statistics.median(cpus), floor,
                     min(walls), max(walls)))
        print(f"  {name}: {statistics.median(walls):.2f} s", file=sys.stderr, flush=True)

    print(f"intake check, pinned to core {args.core}, OMP_THREAD_LIMIT=1, median of {args.runs} runs"
          + (f", code of {args.tree}" if args.tree else ""))
    print(f"{'dossier':<16}{'files':>6}{'pages':>6}{'wall s':>9}{'(min-max)':>14}{'CPU s':>8}"
          f"{'floor s':>9}{'wall/floor':>11}{'CPU/floor':>10}")
    for name, pieces, pages, wall, cpu, floor, lo, hi in rows:
        ratios = [f"{v / floor:.1f}" if floor >= 0.005 else "-" for v in (wall, cpu)]
        print(f"{name:<16}{pieces:>6}{pages:>6}{wall:>9.2f}{f'({lo:.2f}-{hi:.2f})':>14}{cpu:>8.2f}"
              f"{floor:>9.2f}{ratios[0]:>11}{ratios[1]:>10}")
    by_name = {r[0]: r for r in rows}
    one, ten = by_name["bill, 1 page"], by_name["bill, 10 pages"]
    print(f"cost per extra page (bill, 10 pages - 1 page) / 9: wall {(ten[3] - one[3]) / 9:.2f} s, "
          f"CPU {(ten[4] - one[4]) / 9:.2f} s, floor {(ten[5] - one[5]) / 9:.2f} s")
    stack = stack_seconds(env, args.core, args.runs)
    print(f"fixed cost: a dossier with no piece {by_name['no piece'][4]:.2f} s CPU; the stack alone (Python, "
          f"SQLAlchemy, NumPy, OpenCV, Pillow, Dramatiq, zxing-cpp imported, libtesseract's French engine "
          f"loaded, nothing read) {stack:.2f} s CPU, least of {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
