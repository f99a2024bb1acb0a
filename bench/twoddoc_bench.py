"""2D-Doc bench: decode rate, signature verdicts and seconds per page.

    .venv/bin/python bench/twoddoc_bench.py [--corpus fixtures/corpus] [--bills 20] [--seed 7]

With a corpus (folders holding `expected.json`), every piece whose expected fields carry a
`two_d_doc` is read from its file and page. Without one, bills are drawn with
`fixtures.specimens.bill` (valid / tampered / unknown-authority 2D-Docs) and put through the
degradations of `fixtures.degrade` (scans at 150 dpi, skew, quarter turns, JPEG, phone photos).

Prints, per degradation: pages, decoded, decode rate, signature verdicts matching the truth,
median and 95th-percentile seconds per page. Timings are wall-clock on a shared machine: noisy.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from intake.extractors.twoddoc.decode import read_2ddocs  # noqa: E402

CERTS = ROOT / "fixtures" / "certs"


def _load_page(path: Path, page: int) -> np.ndarray | None:
    if path.suffix.lower() == ".pdf":
        from pdf2image import convert_from_path

        images = convert_from_path(str(path), dpi=200, first_page=page, last_page=page)
        return cv2.cvtColor(np.asarray(images[0].convert("RGB")), cv2.COLOR_RGB2BGR) if images else None
    return cv2.imread(str(path), cv2.IMREAD_COLOR)


def corpus_cases(corpus: Path):
    """(degradation, image, expected signature_valid) for each piece with a 2D-Doc."""
    for expected_path in sorted(corpus.rglob("expected.json")):
        expected = json.loads(expected_path.read_text())
        degradation = expected.get("degradation", "?")
        for piece in expected.get("pieces", []):
            two_d_doc = (piece.get("fields") or {}).get("two_d_doc")
            if not two_d_doc:
                continue
            image = _load_page(expected_path.parent / piece["file"], int(piece.get("page") or 1))
            if image is not None:
                yield degradation, image, two_d_doc.get("signature_valid")


def generated_cases(bills: int, seed: int):
    from fixtures import degrade
    from fixtures.people import make_person
    from fixtures.specimens import bill

    rng = random.Random(seed)
    truth = {"valid": True, "tamper": False, "unknown": None}
    for i in range(bills):
        mode = ("valid", "valid", "tamper", "unknown")[i % 4]
        person = make_person(rng, rng.randint(18, 70), date(2026, 11, 1))
        issue = date(2026, 11, 1) - timedelta(days=rng.randint(5, 150))
        page = degrade.to_bgr(bill(rng, person, issue, dpi=200, twoddoc=mode).pages[0])
        yield "clean", page, truth[mode]
        yield "scan_150", degrade.scanner_noise(degrade.resample(page, 200, 150), rng), truth[mode]
        yield "skew", degrade.skew(page, rng.uniform(-4, 4)), truth[mode]
        yield f"rot{(90, 180, 270)[i % 3]}", degrade.rotate_quarter(page, (90, 180, 270)[i % 3]), truth[mode]
        yield "jpeg_low", degrade.jpeg_roundtrip(page, rng.randint(20, 35)), truth[mode]
        photo = degrade.phone_photo(page, rng)
        yield "phone", photo, truth[mode]
        # Beyond the corpus: a shaky hand (extra blur) and a farther phone (smaller page).
        yield "phone_blur1.5", cv2.GaussianBlur(photo, (0, 0), 1.5), truth[mode]
        yield "phone_far", degrade.phone_photo(page, rng, long_side=1400), truth[mode]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "fixtures" / "corpus")
    parser.add_argument("--bills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    if args.corpus.is_dir() and any(args.corpus.rglob("expected.json")):
        source, cases = f"corpus {args.corpus}", corpus_cases(args.corpus)
    else:
        source, cases = f"{args.bills} generated bills (seed {args.seed})", generated_cases(args.bills, args.seed)

    stats: dict[str, dict] = defaultdict(lambda: {"pages": 0, "decoded": 0, "verdict_ok": 0, "times": []})
    for degradation, image, expected_valid in cases:
        started = time.perf_counter()
        docs = read_2ddocs(image, CERTS)
        elapsed = time.perf_counter() - started
        row = stats[degradation]
        row["pages"] += 1
        row["times"].append(elapsed)
        if docs:
            row["decoded"] += 1
            row["verdict_ok"] += docs[0].signature_valid is expected_valid

    print(f"2D-Doc bench on {source}; certs {CERTS}")
    print(f"{'degradation':14s} {'pages':>5s} {'decoded':>7s} {'rate':>6s} {'verdict':>7s} "
          f"{'median s':>8s} {'p95 s':>6s}")
    total = {"pages": 0, "decoded": 0, "verdict_ok": 0, "times": []}
    for name in sorted(stats):
        row = stats[name]
        for key in total:
            total[key] += row[key]
        _print_row(name, row)
    _print_row("ALL", total)


def _print_row(name: str, row: dict) -> None:
    times = sorted(row["times"]) or [0.0]
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    rate = row["decoded"] / row["pages"] if row["pages"] else 0.0
    print(f"{name:14s} {row['pages']:5d} {row['decoded']:7d} {rate:6.1%} {row['verdict_ok']:7d} "
          f"{statistics.median(times):8.3f} {p95:6.3f}")


if __name__ == "__main__":
    main()
