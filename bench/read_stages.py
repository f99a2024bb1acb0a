"""Where a page's reading time goes: CPU time of each stage of `read_page`, and the tesseract calls
(count, megapixels) of each stage, per page and per kind.

    OMP_THREAD_LIMIT=1 taskset -c 0 .venv/bin/python bench/read_stages.py FILE_OR_FOLDER... [--runs 3]
        [--pages]            # one line per page as well as the table per kind
        [--tree DIR]         # time another checkout's code (the figures before a change)

One thread, engines loaded before timing; each page is read --runs times and its fastest run kept
(the machine is shared: CPU time of this thread, `time.thread_time`, the steadier measure). The
rendering of PDF pages (pdftoppm, a child process) is not in the figures. Stages are nested (the
evidence stage holds its re-readings): a stage's time includes its inner stages'.
"""

from __future__ import annotations

import argparse
import collections
import functools
import os
import sys
import time
from pathlib import Path

STAGES = [  # (module attribute path, label)
    ("page.assess", "quality"), ("page._read_mrz_safely", "mrz"), ("page._read_2ddocs_safely", "2ddoc"),
    ("page.prepare", "prepare"), ("page_text.PageText._ocr", "ocr bands"),
    ("page.classify_mod.classify_text", "classify"), ("page._text_evidence", "evidence"),
    ("page_text.PageText.reread_box", "reread box"), ("page_text.read_line", "line box"),
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pages", action="store_true")
    parser.add_argument("--tree", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    sys.path.insert(0, str(args.tree.resolve()))
    import intake

    intake.single_threaded_pools()
    import numpy as np

    from intake.extractors import page as page_mod
    from intake.extractors.images import open_source
    from intake.extractors.ocr import page_text, words
    from intake.extractors.source import UnsupportedFile
    from intake.settings import get_settings
    from intake.tools import tesseract

    spent: dict[str, float] = collections.defaultdict(float)
    calls: list[tuple[str, int]] = []
    open_stages: list[str] = []
    modules = {"page": page_mod, "page_text": page_text}

    def timed(owner, name: str, label: str) -> None:
        real = getattr(owner, name)

        @functools.wraps(real)
        def wrapper(*a, **k):
            started = time.thread_time()
            open_stages.append(label)
            try:
                return real(*a, **k)
            finally:
                open_stages.pop()
                if label not in open_stages:
                    spent[label] += time.thread_time() - started
        setattr(owner, name, wrapper)

    for path, label in STAGES:
        head, *rest = path.split(".")
        owner = modules[head]
        for part in rest[:-1]:
            owner = getattr(owner, part)
        if hasattr(owner, rest[-1]):
            timed(owner, rest[-1], label)
    for kind, reader in list(page_mod.READERS.items()):
        def counted(ctx, reader=reader):
            started = time.thread_time()
            open_stages.append("reader")
            try:
                return reader(ctx)
            finally:
                open_stages.pop()
                spent["reader"] += time.thread_time() - started
        page_mod.READERS[kind] = counted
    real_read = tesseract.read

    def read(image, *a, **k):
        pixels = tesseract._as_pixels(image)
        calls.append((open_stages[-1] if open_stages else "other", pixels.shape[0] * pixels.shape[1]))
        return real_read(image, *a, **k)
    tesseract.read = read

    blank = np.full((40, 200), 255, np.uint8)
    words.image_to_words(blank, psm=7)  # engines loaded before timing
    words.image_to_text(blank, lang="eng", psm=7)

    files = []
    for p in args.paths:
        files += sorted(x for x in p.iterdir() if x.suffix != ".json") if p.is_dir() else [p]
    per_kind: dict[str, dict[str, float]] = collections.defaultdict(lambda: collections.defaultdict(float))
    for file in files:
        try:
            source = open_source(file, get_settings(), reading=True)
        except UnsupportedFile:
            continue
        for index in range(1, source.page_count + 1):
            try:
                image = source.render(index)
            except UnsupportedFile:
                continue
            best = None
            for _ in range(max(1, args.runs)):
                spent.clear()
                calls.clear()
                started = time.thread_time()
                read_ = page_mod.read_page(image, index)
                total = time.thread_time() - started
                if best is None or total < best[0]:
                    best = (total, dict(spent), list(calls), read_.kind)
            total, stages, ocr_calls, kind = best
            row = per_kind[kind]
            row["pages"] += 1
            row["total"] += total
            for label, seconds in stages.items():
                row[label] += seconds
            for label, pixels in ocr_calls:
                row[f"calls {label}"] += 1
                row[f"MP {label}"] += pixels / 1e6
            if args.pages:
                parts = " ".join(f"{k}={v:.2f}" for k, v in sorted(stages.items(), key=lambda kv: -kv[1]))
                print(f"{file.parent.name}/{file.name} p{index} {kind}: {total:.2f} s | {parts} | "
                      f"tesseract {len(ocr_calls)} calls {sum(p for _, p in ocr_calls) / 1e6:.2f} MP")
    print(f"read_page per kind, CPU s per page (fastest of {args.runs} runs), code of {args.tree}")
    everything = collections.defaultdict(float)
    for kind, row in sorted(per_kind.items()):
        for k, v in row.items():
            everything[k] += v
    for kind, row in [*sorted(per_kind.items()), ("ALL", everything)]:
        n = row["pages"] or 1
        times = " ".join(f"{k}={row[k] / n:.3f}" for k in sorted(row, key=lambda k: -row[k])
                         if k not in ("pages", "total") and not k.startswith(("calls ", "MP ")))
        ocr = " ".join(f"{k[6:]}: {row[k] / n:.2f} calls {row['MP ' + k[6:]] / n:.2f} MP"
                       for k in sorted(row) if k.startswith("calls "))
        print(f"{kind:<22}{int(row['pages']):>4} pages {row['total'] / n:6.3f} s/page | {times}")
        if ocr:
            print(f"{'':<22}     tesseract per page: {ocr}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
