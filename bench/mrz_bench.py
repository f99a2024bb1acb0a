"""MRZ reader against PassportEye, on the same images, in one run.

    .venv/bin/python bench/mrz_bench.py [--seeds 3] [--no-passporteye] [--corpus fixtures/corpus]

Images: synthetic documents (tests/test_mrz_specimens.py: TD1, TD2, TD3, French laminated CNI) under
each degradation (clean, quarter turns, skew, blur, JPEG q40, front+back on A4, phone photo), and,
when --corpus is given and exists, every identity image of that corpus (ground truth from each
dossier's expected.json). Prints per reader and per degradation: fully valid MRZs, exact fields,
median seconds per image. Timings on a shared 2-core machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_mrz_specimens import DEGRADATIONS, specimen  # noqa: E402

from intake.extractors.images import open_source
from intake.extractors.mrz.reader import read_mrz
from intake.icao import name_tokens
from intake.settings import get_settings  # noqa: E402
from intake.extractors.mrz.parse import birth_date_iso, expiry_date_iso  # noqa: E402

FIELDS = ("document_number", "surname", "given_names", "birth_date", "sex", "nationality",
          "expiry_date", "issue_date")
FORMATS = ("td1", "td2", "td3", "fr_cni_2x36")


def ours(path: str, image) -> tuple[bool, dict]:
    result = read_mrz(image)
    if result is None:
        return False, {}
    return result.valid, result.fields


def passporteye(path: str, image) -> tuple[bool, dict]:
    from passporteye import read_mrz as pe_read

    mrz = pe_read(path)
    if mrz is None:
        return False, {}
    d = mrz.to_dict()
    surname = " ".join(d.get("surname", "").replace("<", " ").split())
    fields = {
        "document_number": d.get("number", "").replace("<", ""),
        "surname": surname,
        "given_names": d.get("names", "").replace("<", " ").split(),
        "birth_date": birth_date_iso(d.get("date_of_birth", "")),
        "sex": d.get("sex", "").replace("<", "X"),
        "nationality": d.get("nationality", "").replace("<", ""),
        "expiry_date": expiry_date_iso(d.get("expiration_date", "")),
    }
    return bool(d.get("valid_score") == 100), fields


def _comparable(key: str, value):
    """Names as the MRZ writes them (ICAO folding), so 'ØDEGAARD' printed is 'OEDEGAARD' read."""
    if key == "surname" and value:
        return " ".join(name_tokens(value))
    if key == "given_names" and value:
        return [t for g in value for t in name_tokens(g)]
    return value


#: Width of the name field(s): one shared SURNAME<<GIVEN field, or (surname, given) for the laminated CNI.
NAME_WIDTH = {"td1": 30, "td2": 31, "td3": 39, "fr_cni_2x36": (25, 14)}


def _as_written(expected: dict) -> tuple[str, str] | None:
    """The names as the MRZ must write them, cut at the field width (ICAO 9303 truncation)."""
    width = NAME_WIDTH.get(expected.get("mrz_format", ""))
    surname = "<".join(name_tokens(expected.get("surname") or ""))
    if width is None or not surname:
        return None
    if isinstance(width, tuple):
        given = "<<".join("<".join(name_tokens(g)) for g in expected.get("given_names") or [])
        return surname[:width[0]].rstrip("<"), given[:width[1]].rstrip("<")
    given = "<".join(t for g in expected.get("given_names") or [] for t in name_tokens(g))
    both = (surname + ("<<" + given if given else ""))[:width].rstrip("<")
    cut_surname, _, cut_given = both.partition("<<")
    return cut_surname, cut_given


def _read_names(got: dict, laminated: bool) -> tuple[str, str]:
    surname = "<".join(name_tokens(got.get("surname") or ""))
    join = "<<" if laminated else "<"
    return surname, join.join("<".join(name_tokens(g)) for g in got.get("given_names") or [])


def score(expected: dict, got: dict) -> tuple[int, int]:
    keys = [k for k in FIELDS if k in expected]
    if expected.get("mrz_format", "fr_cni_2x36") != "fr_cni_2x36":
        keys = [k for k in keys if k != "issue_date"]  # printed on the page, not in a TD1/TD3 MRZ
    ok = {k for k in keys if _comparable(k, got.get(k)) == _comparable(k, expected[k])}
    # A long name is exact when it is read as the MRZ must cut it.
    written = _as_written(expected)
    if written and _read_names(got, expected.get("mrz_format") == "fr_cni_2x36") == written:
        ok |= {k for k in ("surname", "given_names") if k in keys}
    return len(ok), len(keys)


def synthetic_images(seeds: int):
    for fmt in FORMATS:
        for how in DEGRADATIONS:
            for seed in range(seeds):
                image, _, fields = specimen(1000 + seed * 7 + FORMATS.index(fmt), fmt, how)
                yield f"{fmt}/{how}", how, image, fields


def corpus_images(corpus: Path):
    """Identity pieces of a fixture corpus: (label, degradation, image, expected fields)."""
    for expected_path in sorted(corpus.glob("**/expected.json")):
        data = json.loads(expected_path.read_text())
        for piece in data.get("pieces", []):
            if piece.get("kind") not in ("identity_card", "passport", "residence_permit"):
                continue
            path = expected_path.parent / piece["file"]
            if not path.exists():
                continue
            # The page that carries the MRZ: the piece's pages in order (a card's back may be page 2).
            source = open_source(path, get_settings())
            pages = range(piece.get("page", 1), source.page_count + 1)
            images = [source.render(i) for i in pages]
            image = next((im for im in images if read_mrz(im) is not None), images[0])
            how = piece.get("degradation") or data.get("degradation") or "corpus"
            yield f"corpus/{how}", f"corpus:{how}", image, piece.get("fields", {})


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--no-passporteye", action="store_true")
    ap.add_argument("--corpus", default=str(ROOT / "fixtures" / "corpus"))
    args = ap.parse_args()
    readers = {"intake": ours}
    if not args.no_passporteye:
        readers["passporteye"] = passporteye
    images = list(synthetic_images(args.seeds))
    corpus = Path(args.corpus)
    if corpus.exists():
        images += list(corpus_images(corpus))
    stats = {name: defaultdict(lambda: {"n": 0, "valid": 0, "ok": 0, "fields": 0, "times": []}) for name in readers}
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, how, image, expected) in enumerate(images):
            path = os.path.join(tmp, f"{i}.png")
            cv2.imwrite(path, image)
            for name, reader in readers.items():
                t0 = time.perf_counter()
                try:
                    valid, got = reader(path, image)
                except Exception as exc:  # a reader crash is a miss, not the end of the bench
                    print(f"{name} crashed on {label}: {type(exc).__name__}", file=sys.stderr)
                    valid, got = False, {}
                dt = time.perf_counter() - t0
                ok, total = score(expected, got)
                for key in (how, "ALL"):
                    s = stats[name][key]
                    s["n"] += 1
                    s["valid"] += int(valid)
                    s["ok"] += ok
                    s["fields"] += total
                    s["times"].append(dt)
    print(f"{len(images)} images ({args.seeds} seeds x {len(FORMATS)} formats x {len(DEGRADATIONS)} degradations"
          f"{' + corpus' if corpus.exists() else ''})")
    print(f"{'reader':12} {'degradation':20} {'images':>6} {'valid':>6} {'fields exact':>14} {'median s':>9}")
    for name in readers:
        for key in sorted(stats[name], key=lambda k: (k == "ALL", k)):
            s = stats[name][key]
            acc = 100.0 * s["ok"] / max(1, s["fields"])
            print(f"{name:12} {key:20} {s['n']:6d} {s['valid']:6d} {acc:13.1f}% {statistics.median(s['times']):9.3f}")


if __name__ == "__main__":
    main()
