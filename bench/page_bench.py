"""Page reader figures on a fixture corpus: piece-kind accuracy, issue dates, e-photo codes, time.

    python bench/page_bench.py CORPUS_DIR [--limit N] [--clean N] [--baseline N]

CORPUS_DIR holds dossiers written by `python -m fixtures corpus DIR` (or `generate`), each with its
`expected.json`. Prints, by degradation: kind accuracy of pieces (scans vs phone photos), identity
documents read as another kind, issue-date exactness of proofs of address, e-photo code exactness;
then the median time of `read_page` on proof-of-address pages and of plain full-page
`tesseract -l fra` (psm 3, one thread) on the same pages. Single process, one page at a time.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from intake.documents import IDENTITY_KINDS  # noqa: E402
from intake.extractors.ocr import words as ocr  # noqa: E402
from intake.extractors.images import UnsupportedFile, open_source  # noqa: E402
from intake.extractors.page import read_page  # noqa: E402
from intake.grouping import group_pages  # noqa: E402
from intake.settings import get_settings  # noqa: E402


def _pct(ok: int, n: int) -> str:
    return f"{100.0 * ok / n:5.1f}% ({ok}/{n})" if n else "   -"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--limit", type=int, default=0, help="at most N dossiers in all (0: all)")
    ap.add_argument("--clean", type=int, default=-1, help="at most N dossiers of the 'clean' degradation")
    ap.add_argument("--baseline", type=int, default=6, help="pages timed with plain tesseract (0: none)")
    ap.add_argument("-v", action="store_true", help="print each miss (kinds and values only, no text)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()

    folders = sorted(p.parent for p in args.corpus.glob("*/expected.json"))
    chosen, clean = [], 0
    for folder in folders:
        deg = json.loads((folder / "expected.json").read_text())["degradation"]
        if deg == "clean" and args.clean >= 0:
            if clean >= args.clean:
                continue
            clean += 1
        chosen.append(folder)
    if args.limit:
        chosen = chosen[: args.limit]

    kind_ok = defaultdict(lambda: [0, 0])
    date_ok = defaultdict(lambda: [0, 0])
    code_ok = defaultdict(lambda: [0, 0])
    identity_lost = 0
    poa_times: list[float] = []
    poa_pages = []
    for folder in chosen:
        expected = json.loads((folder / "expected.json").read_text())
        deg = expected["degradation"]
        by_file = defaultdict(list)
        for piece in expected["pieces"]:
            by_file[piece["file"]].append(piece)
        for file, pieces in sorted(by_file.items()):
            try:
                source = open_source(folder / file, settings)
            except UnsupportedFile:
                continue
            reads = []
            for i in range(1, source.page_count + 1):
                try:
                    image = source.render(i)
                except UnsupportedFile:
                    continue
                t = time.perf_counter()
                pr = read_page(image, i)
                dt = time.perf_counter() - t
                reads.append(pr)
                if any(p["page"] == i and p["kind"] == "proof_of_address" for p in pieces):
                    poa_times.append(dt)
                    poa_pages.append(image)
            docs, _ = group_pages(file, reads)
            got = {d.page: d for d in docs}
            for piece in pieces:
                doc = got.get(piece["page"])
                kind = doc.kind if doc else "unknown"
                ok = kind == piece["kind"]
                kind_ok[deg][0] += ok
                kind_ok[deg][1] += 1
                if piece["kind"] in IDENTITY_KINDS and kind not in IDENTITY_KINDS:
                    identity_lost += 1
                if args.v and not ok:
                    print(f"  kind miss {folder.name} {deg}: {piece['label']} -> {kind}")
                fields = doc.fields if doc else {}
                if piece["kind"] == "proof_of_address" and piece["fields"].get("issue_date"):
                    good = fields.get("issue_date") == piece["fields"]["issue_date"]
                    date_ok[deg][0] += good
                    date_ok[deg][1] += 1
                    if args.v and not good:
                        print(f"  date miss {folder.name} {deg}: {piece['label']} got {fields.get('issue_date')}"
                              f" expected {piece['fields']['issue_date']}")
                if piece["kind"] == "photo_code" and piece["fields"].get("code"):
                    good = fields.get("code") == piece["fields"]["code"]
                    code_ok[deg][0] += good
                    code_ok[deg][1] += 1
                    if args.v and not good:
                        print(f"  code miss {folder.name} {deg}: got {fields.get('code')} expected {piece['fields']['code']}")

    print(f"dossiers: {len(chosen)}")
    print(f"{'degradation':16s} {'kind':>18s} {'issue date':>18s} {'e-photo code':>18s}")
    for deg in sorted(kind_ok):
        print(f"{deg:16s} {_pct(*kind_ok[deg]):>18s} {_pct(*date_ok[deg]):>18s} {_pct(*code_ok[deg]):>18s}")
    scans = [v for d, v in kind_ok.items() if d != "phone"]
    phones = [v for d, v in kind_ok.items() if d == "phone"]
    print(f"kind accuracy, scans:  {_pct(sum(v[0] for v in scans), sum(v[1] for v in scans))}")
    print(f"kind accuracy, phone:  {_pct(sum(v[0] for v in phones), sum(v[1] for v in phones))}")
    print(f"issue dates exact:     {_pct(sum(v[0] for v in date_ok.values()), sum(v[1] for v in date_ok.values()))}")
    print(f"e-photo codes exact:   {_pct(sum(v[0] for v in code_ok.values()), sum(v[1] for v in code_ok.values()))}")
    print(f"identity documents read as another kind: {identity_lost}")
    if poa_times:
        print(f"proof-of-address page, read_page: median {statistics.median(poa_times):.2f} s, "
              f"max {max(poa_times):.2f} s over {len(poa_times)} pages")
    if args.baseline and poa_pages:
        base = []
        for image in poa_pages[: args.baseline]:
            t = time.perf_counter()
            ocr.image_to_text(image, lang="fra", psm=3, timeout=120)
            base.append(time.perf_counter() - t)
        print(f"same pages, plain full-page tesseract -l fra: median {statistics.median(base):.2f} s "
              f"over {len(base)} pages")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
