"""What intake reads on public specimens nobody here drew, against their truth, with PassportEye
side by side on the MRZ files.

    .venv/bin/python bench/specimens.py [FOLDER] [--no-passporteye]

FOLDER (default ../shared/data/specimens) holds the files and a MANIFEST.tsv whose columns are
`file`, `kind`, `source`, `truth`; `truth` is free text carrying the printed MRZ (lines joined by a
literal `\\n`) and the decoded 2D-Doc message (`DC0...<US>signature`). Each file is read by the
page reader as `intake extract` does (open, read every page, group); per file it prints the kind
read, the MRZ key fields (document number, birth date, expiry: exact or not), the 2D-Doc
(decoded as zxing-cpp decodes the file as given, type, signature), and the seconds spent, wall and
CPU (timings on a shared machine are noisy; CPU time less so). Then a summary per kind.
Nothing personal is written anywhere: the specimens are public and only printed to the terminal.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "data" / "specimens"
MRZ_KEYS = ("document_number", "birth_date", "expiry_date")

_MRZ_RUN = re.compile(r"[A-Z0-9<]{28,46}(?:\\n[A-Z0-9<]{28,46}){1,2}")
_2DDOC = re.compile(r"DC0[1-4][A-Z0-9]{8}[0-9A-F]{8}.*?<US>[A-Z2-7]+")


def read_manifest(folder: Path) -> list[dict]:
    """Rows of MANIFEST.tsv with the truth parsed: `mrz` (lines) and `twoddoc` (message text)."""
    rows = []
    lines = (folder / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    for line in lines[1:]:
        if not line.strip():
            continue
        row = dict(zip(header, line.split("\t")))
        truth = row.get("truth", "")
        row["mrz"] = truth_mrz(truth)
        found = _2DDOC.search(truth)
        row["twoddoc"] = found.group(0) if found else None
        rows.append(row)
    return rows


def truth_mrz(truth: str) -> list[str] | None:
    """The first run of MRZ lines in the truth text that parses as an MRZ (None: no MRZ)."""
    from intake.extractors.mrz.parse import MrzParseError, parse_mrz

    for match in _MRZ_RUN.finditer(truth):
        lines = match.group(0).split("\\n")
        try:
            result = parse_mrz(lines)
        except MrzParseError:
            continue
        if result.valid:
            return lines
    return None


def expected_mrz_fields(lines: list[str]) -> dict:
    from intake.extractors.mrz.parse import parse_mrz

    fields = parse_mrz(lines).fields
    return {k: fields.get(k) for k in MRZ_KEYS}


def zxing_as_given(path: Path, pages: list) -> list[str]:
    """What zxing-cpp decodes from the file as it is (a PDF: from its rendered pages)."""
    import zxingcpp
    from PIL import Image

    fmt = zxingcpp.BarcodeFormat.DataMatrix
    if path.suffix.lower() == ".pdf":
        images = pages
    else:
        images = [Image.open(path)]
    out = []
    for image in images:
        out += [bytes(r.bytes).decode("latin-1") for r in zxingcpp.read_barcodes(image, formats=fmt) if r.valid]
    return out


def _cpu() -> float:
    """CPU seconds of this process and of the programs it ran (tesseract)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def read_with_intake(path: Path) -> dict:
    """The file read as `intake extract` reads it, page by page, with the time spent."""
    from intake.extractors.images import open_source
    from intake.extractors.page import read_page
    from intake.grouping import group_pages
    from intake.settings import get_settings

    source = open_source(path, get_settings())
    images = [source.render(i) for i in range(1, source.page_count + 1)]
    wall0, cpu0 = time.perf_counter(), _cpu()
    pages = [read_page(image, i + 1) for i, image in enumerate(images)]
    wall, cpu = time.perf_counter() - wall0, _cpu() - cpu0
    documents, findings = group_pages(path.name, pages)
    codes = []
    for page in pages:
        codes += page.evidence.get("two_d_docs") or []
        two_d = page.fields.get("two_d_doc")
        if two_d and not page.evidence.get("two_d_docs"):
            codes.append(two_d)
    return {"images": images, "pages": pages, "documents": documents, "findings": findings,
            "codes": codes, "wall": wall / len(pages), "cpu": cpu / len(pages)}


def passporteye_fields(path: Path) -> tuple[dict, float]:
    from passporteye import read_mrz

    from intake.extractors.mrz.parse import birth_date_iso, expiry_date_iso

    t0 = time.perf_counter()
    try:
        mrz = read_mrz(str(path))
    except Exception:  # a baseline crash is a miss
        mrz = None
    dt = time.perf_counter() - t0
    if mrz is None:
        return {}, dt
    d = mrz.to_dict()
    return {"document_number": d.get("number", "").replace("<", ""),
            "birth_date": birth_date_iso(d.get("date_of_birth", "")),
            "expiry_date": expiry_date_iso(d.get("expiration_date", ""))}, dt


def _mark(ok: bool | None) -> str:
    return "-" if ok is None else ("ok" if ok else "NO")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder", nargs="?", default=str(DEFAULT))
    ap.add_argument("--no-passporteye", action="store_true")
    args = ap.parse_args()
    folder = Path(args.folder)
    if not (folder / "MANIFEST.tsv").exists():
        print(f"bench/specimens.py : pas de MANIFEST.tsv dans {folder}", file=sys.stderr)
        return 2
    from intake.extractors.twoddoc.parse import TwoDDocError, normalise_text, parse_2ddoc

    summary: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    walls, cpus = [], []
    print(f"{'file':58} {'kind read':18} {'MRZ n/b/e':10} {'PEye n/b/e':10} {'2D-Doc dec/type/sig':20} {'s/page':>7} {'cpu':>6}")
    for row in read_manifest(folder):
        path = folder / row["file"]
        if not path.exists():
            continue
        got = read_with_intake(path)
        walls.append(got["wall"])
        cpus.append(got["cpu"])
        kinds = sorted({d.kind for d in got["documents"]}) or [
            "unreadable" if any(p.unreadable for p in got["pages"]) else "unknown"]
        s = summary[row["kind"]]
        s["files"] += 1
        s["kind_ok"] += int(row["kind"] in kinds or (row["kind"] == "twoddoc" and bool(got["codes"])))
        mrz_cell = pe_cell = code_cell = ""
        if row["mrz"]:
            expected = expected_mrz_fields(row["mrz"])
            read = next((d.fields for d in got["documents"] if "mrz_format" in d.fields), {})
            marks = [read.get(k) == expected[k] for k in MRZ_KEYS]
            mrz_cell = "/".join(_mark(m) for m in marks)
            s["mrz"] += 1
            s["mrz_exact"] += int(all(marks))
            if not args.no_passporteye:
                pe, _dt = passporteye_fields(path)
                pe_marks = [pe.get(k) == expected[k] for k in MRZ_KEYS]
                pe_cell = "/".join(_mark(m) for m in pe_marks)
                s["pe_exact"] += int(all(pe_marks))
        if row["twoddoc"]:
            truth = normalise_text(row["twoddoc"])
            try:
                truth_type = parse_2ddoc(truth).doc_type
            except TwoDDocError:
                truth_type = None
            decodable = any(normalise_text(t).split("\x1f")[0] == truth.split("\x1f")[0]
                            for t in zxing_as_given(path, got["images"]))
            code = next((c for c in got["codes"] if c.get("type") == truth_type), None)
            decoded = code is not None
            marks = [decoded, decoded and code.get("type") == truth_type, decoded and code.get("signature_valid") is True]
            code_cell = "/".join(_mark(m) for m in marks) + ("" if decodable else " (zxing:no)")
            s["codes"] += 1
            s["codes_zxing"] += int(decodable)
            s["codes_decoded"] += int(decoded)
            s["codes_typed"] += int(bool(marks[1]))
            s["codes_signed"] += int(bool(marks[2]))
        print(f"{row['file'][:58]:58} {','.join(kinds)[:18]:18} {mrz_cell:10} {pe_cell:10} {code_cell:20} "
              f"{got['wall']:7.2f} {got['cpu']:6.2f}")
    print()
    print(f"{'kind':18} {'files':>5} {'kind ok':>8} {'MRZ exact':>10} {'PassportEye':>12} {'2D-Doc decoded/zxing':>21} "
          f"{'typed':>6} {'signed':>7}")
    for kind, s in sorted(summary.items()):
        mrz = f"{s['mrz_exact']}/{s['mrz']}" if s["mrz"] else "-"
        pe = f"{s['pe_exact']}/{s['mrz']}" if s["mrz"] and not args.no_passporteye else "-"
        codes = f"{s['codes_decoded']}/{s['codes_zxing']}" if s["codes"] else "-"
        print(f"{kind:18} {s['files']:5d} {s['kind_ok']:8d} {mrz:>10} {pe:>12} {codes:>21} "
              f"{s['codes_typed'] if s['codes'] else '-':>6} {s['codes_signed'] if s['codes'] else '-':>7}")
    if walls:
        print(f"\nper page: median {statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU "
              f"(shared machine: noisy)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
