"""`intake eval CORPUS`: run the pipeline over dossiers whose verdict is known and measure it.

A corpus is CORPUS/<dossier-id>/{dossier.json, expected.json, piece files} (see `fixtures/`).
The figures: verdict accuracy; false-complete count (said complete when it is not: the worst error
this product can make); missing-requirement recall; piece-kind accuracy; key-field accuracy; seconds
per dossier; each broken down by degradation. Scoring is pure (`score_dossier`) so it is tested on
hand-made results; only `run_eval` runs the pipeline.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, TextIO

from intake.icao import name_tokens

log = logging.getLogger(__name__)

#: Fields scored for key-field accuracy, by kind (others in expected.json are informative only).
KEY_FIELDS: dict[str, tuple[str, ...]] = {
    "identity_card": ("document_number", "surname", "given_names", "birth_date", "expiry_date", "issue_date",
                      "mrz_format"),
    "passport": ("document_number", "surname", "given_names", "birth_date", "expiry_date", "mrz_format"),
    "residence_permit": ("document_number", "surname", "given_names", "birth_date", "expiry_date", "mrz_format"),
    "proof_of_address": ("issue_date", "holder_name", "postcode", "two_d_doc"),
    "photo_code": ("code", "photo_date"),
    "assr": ("holder_name", "birth_date", "issue_date"),
    "jdc": ("holder_name", "birth_date", "issue_date"),
    "exam_certificate": ("holder_name", "birth_date", "issue_date"),
    "hosting_attestation": ("holder_name", "issue_date"),
    "training_certificate": ("holder_name", "birth_date", "issue_date", "training"),
    "medical_opinion": ("holder_name", "issue_date", "categories", "fit"),
    "driving_licence": ("holder_name", "birth_date", "licence_number", "categories"),
}
TITLES = {"M", "MME", "MLLE", "MR", "MRS", "MONSIEUR", "MADAME", "MADEMOISELLE"}
#: A name read from an MRZ may be cut at the field's end; a cut prefix this long still counts.
MIN_TRUNCATED = 12


# --------------------------------------------------------------------------- field comparison


def _glued(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    return "".join(name_tokens(str(value or "")))


def _person_tokens(value: Any) -> list[str]:
    return [t for t in name_tokens(str(value or "")) if t not in TITLES]


def field_matches(name: str, expected: Any, got: Any) -> bool:
    """Whether a field read (`got`) says what the specimen printed (`expected`)."""
    if got is None or got == "" or got == []:
        return False
    if name in ("surname", "given_names"):
        e, g = _glued(expected), _glued(got)
        return e == g or (len(g) >= MIN_TRUNCATED and e.startswith(g)) or (
            name == "given_names" and bool(g) and e.startswith(g) and g.startswith(_glued(expected[:1])))
    if name == "holder_name":
        e, g = _person_tokens(expected), _person_tokens(got)
        # Same tokens in any order; tokens may be glued or split (N'DIAYE = NDIAYE, JEANLUC = JEAN-LUC).
        glued = "".join(g)
        return sorted(e) == sorted(g) or (len(glued) == len("".join(e)) and all(t in glued for t in e))
    if name in ("document_number", "licence_number", "code", "postcode"):
        return str(expected).replace(" ", "").upper() == str(got).replace(" ", "").replace("-", "").upper()
    if name == "categories":
        return sorted(expected) == sorted(got if isinstance(got, list) else str(got).replace("/", ",").split(","))
    if name == "two_d_doc":
        return isinstance(got, dict) and got.get("signature_valid") == expected.get("signature_valid") and \
            str(got.get("type", "")).zfill(2) == str(expected.get("type", "")).zfill(2)
    if name in ("city", "address_line", "issuer"):
        return _glued(expected) == _glued(got)
    return expected == got


def key_fields(piece: dict) -> dict[str, Any]:
    """The scored fields of an expected piece (issue date of an ID only when it has no expiry)."""
    fields = piece.get("fields") or {}
    wanted = KEY_FIELDS.get(piece["kind"], ())
    out = {k: fields[k] for k in wanted if k in fields}
    if piece["kind"] in ("identity_card", "passport", "residence_permit") and "expiry_date" in out:
        out.pop("issue_date", None)
    return out


# --------------------------------------------------------------------------- scoring one dossier


@dataclass
class DossierScore:
    """How the pipeline did on one dossier."""

    dossier: str
    degradation: str
    case: str
    expected_status: str
    status: str
    seconds: float
    missing_expected: list[str] = field(default_factory=list)
    missing_found: list[str] = field(default_factory=list)  # expected and reported
    missing_spurious: list[str] = field(default_factory=list)  # reported, not expected nor tolerated
    codes_expected: list[str] = field(default_factory=list)
    codes_found: list[str] = field(default_factory=list)  # expected and reported
    pieces: int = 0
    kinds_right: int = 0
    fields: int = 0
    fields_right: int = 0
    field_misses: list[str] = field(default_factory=list)  # "kind.field" (no values: they are personal)
    kind_misses: list[str] = field(default_factory=list)  # "expected->got"
    #: per expected piece: [kind, condition, rotation, key fields, right] (the capture from the
    #: piece's own degradation when the generator records it, else the dossier's)
    piece_fields: list[list] = field(default_factory=list)
    error: str | None = None

    @property
    def verdict_right(self) -> bool:
        return self.status == self.expected_status

    @property
    def false_complete(self) -> bool:
        return self.status == "complete" and self.expected_status != "complete"


def _match_pieces(expected: list[dict], got: list[dict]) -> list[tuple[dict, dict | None]]:
    """Pair each expected piece with a result piece of the same file (same page and kind first)."""
    free = list(got)
    pairs: list[tuple[dict, dict | None]] = []
    for tests in (
        lambda e, g: g.get("page") == e["page"] and g.get("kind") == e["kind"],
        lambda e, g: g.get("kind") == e["kind"],
        lambda e, g: g.get("page") == e["page"],
        lambda e, g: True,
    ):
        for e in expected:
            if any(e is p for p, _ in pairs):
                continue
            for g in free:
                if g.get("file") == e["file"] and tests(e, g):
                    pairs.append((e, g))
                    free.remove(g)
                    break
    pairs += [(e, None) for e in expected if not any(e is p for p, _ in pairs)]
    return pairs


def score_dossier(dossier: str, expected: dict, result: dict | None, seconds: float,
                  error: str | None = None) -> DossierScore:
    """Compare one pipeline result (CONTRACT.md §2) with its expected.json."""
    score = DossierScore(
        dossier=dossier, degradation=expected.get("degradation", "unknown"), case=expected.get("case", ""),
        expected_status=expected["status"], status=(result or {}).get("status", "error"), seconds=seconds,
        missing_expected=sorted(expected.get("missing_requirements", [])),
        codes_expected=sorted(expected.get("codes", expected.get("blocking_codes", []))), error=error,
    )
    result = result or {}
    findings = result.get("findings") or []
    reported_missing = {f.get("requirement") for f in findings if f.get("code") == "missing_piece"}
    # A requirement whose only piece is unacceptable (a training certificate for the wrong training)
    # is reported by that piece's blocking finding, which names the requirement, not by missing_piece.
    reported_unmet = reported_missing | {f.get("requirement") for f in findings if f.get("severity") == "blocking"}
    tolerated = set(expected.get("tolerated_missing", []))
    score.missing_found = sorted(set(score.missing_expected) & reported_unmet)
    score.missing_spurious = sorted(r for r in reported_missing - set(score.missing_expected) - tolerated if r)
    codes = {f.get("code") for f in findings}
    score.codes_found = sorted(set(score.codes_expected) & codes)
    for exp, got in _match_pieces(expected.get("pieces", []), result.get("pieces") or []):
        score.pieces += 1
        got_kind = got.get("kind") if got else "absent"
        if got_kind == exp["kind"]:
            score.kinds_right += 1
        else:
            score.kind_misses.append(f"{exp['kind']}->{got_kind}")
        got_fields = (got or {}).get("fields") or {}
        wanted = key_fields(exp)
        right = 0
        for name, value in wanted.items():
            score.fields += 1
            if got_kind == exp["kind"] and field_matches(name, value, got_fields.get(name)):
                score.fields_right += 1
                right += 1
            else:
                score.field_misses.append(f"{exp['kind']}.{name}")
        condition, rotation = capture_of(exp, score.degradation)
        score.piece_fields.append([exp["kind"], condition, rotation, len(wanted), right])
    return score


def capture_of(piece: dict, dossier_degradation: str) -> tuple[str, str]:
    """(condition, rotation) of an expected piece: family 2 records them per piece; family 1 gives
    the dossier's degradation only (its rotations are not recorded: "-")."""
    info = piece.get("degradation")
    if isinstance(info, dict):
        return str(info.get("condition", dossier_degradation)), str(info.get("rotation", "-"))
    return dossier_degradation, "-"


# --------------------------------------------------------------------------- aggregation


@dataclass
class Tally:
    """Sums over a group of dossiers, and the rates a reader wants."""

    dossiers: int = 0
    verdict_right: int = 0
    false_complete: int = 0
    missing_expected: int = 0
    missing_found: int = 0
    missing_spurious: int = 0
    pieces: int = 0
    kinds_right: int = 0
    fields: int = 0
    fields_right: int = 0
    seconds: float = 0.0
    errors: int = 0

    def add(self, s: DossierScore) -> None:
        self.dossiers += 1
        self.verdict_right += s.verdict_right
        self.false_complete += s.false_complete
        self.missing_expected += len(s.missing_expected)
        self.missing_found += len(s.missing_found)
        self.missing_spurious += len(s.missing_spurious)
        self.pieces += s.pieces
        self.kinds_right += s.kinds_right
        self.fields += s.fields
        self.fields_right += s.fields_right
        self.seconds += s.seconds
        self.errors += s.error is not None

    @staticmethod
    def _rate(num: int, den: int) -> float | None:
        return num / den if den else None

    @property
    def verdict_accuracy(self) -> float | None:
        return self._rate(self.verdict_right, self.dossiers)

    @property
    def missing_recall(self) -> float | None:
        return self._rate(self.missing_found, self.missing_expected)

    @property
    def kind_accuracy(self) -> float | None:
        return self._rate(self.kinds_right, self.pieces)

    @property
    def field_accuracy(self) -> float | None:
        return self._rate(self.fields_right, self.fields)

    @property
    def seconds_per_dossier(self) -> float | None:
        return self.seconds / self.dossiers if self.dossiers else None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        for name in ("verdict_accuracy", "missing_recall", "kind_accuracy", "field_accuracy", "seconds_per_dossier"):
            out[name] = getattr(self, name)
        return out


@dataclass
class EvalReport:
    """Every dossier's score, the totals, and the breakdowns."""

    corpus: str
    scores: list[DossierScore] = field(default_factory=list)
    overall: Tally = field(default_factory=Tally)
    by_degradation: dict[str, Tally] = field(default_factory=dict)
    by_field: dict[str, list[int]] = field(default_factory=dict)  # "kind.field" -> [right, total]
    by_code: dict[str, list[int]] = field(default_factory=dict)  # expected finding code -> [found, total]
    #: key fields [right, total] by kind, then by rotation and by condition of the capture
    by_kind_rotation: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    by_kind_condition: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    wall_seconds: float = 0.0

    @property
    def false_complete(self) -> list[DossierScore]:
        return [s for s in self.scores if s.false_complete]

    def to_json(self) -> dict[str, Any]:
        return {
            "corpus": self.corpus, "wall_seconds": self.wall_seconds, "overall": self.overall.to_json(),
            "by_degradation": {k: v.to_json() for k, v in self.by_degradation.items()},
            "by_field": self.by_field, "by_code": self.by_code, "confusion": confusion(self),
            "by_kind_rotation": self.by_kind_rotation, "by_kind_condition": self.by_kind_condition,
            "dossiers": [dict(asdict(s), verdict_right=s.verdict_right, false_complete=s.false_complete)
                         for s in self.scores],
        }


def summarise(corpus: str, scores: list[DossierScore]) -> EvalReport:
    """Totals and breakdowns of a list of dossier scores."""
    report = EvalReport(corpus=corpus, scores=sorted(scores, key=lambda s: s.dossier))
    by_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    by_code: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for s in report.scores:
        report.overall.add(s)
        report.by_degradation.setdefault(s.degradation, Tally()).add(s)
        for code in s.codes_expected:
            by_code[code][1] += 1
            by_code[code][0] += code in s.codes_found
        for miss in s.field_misses:
            by_field[miss][1] += 1
        for kind, condition, rotation, n, right in s.piece_fields:
            if not n:
                continue
            for table, column in ((report.by_kind_rotation, rotation), (report.by_kind_condition, condition)):
                cell = table.setdefault(kind, {}).setdefault(column, [0, 0])
                cell[0] += right
                cell[1] += n
    report.by_field = {k: v for k, v in sorted(by_field.items())}
    report.by_code = {k: v for k, v in sorted(by_code.items())}
    return report


# --------------------------------------------------------------------------- running


def corpus_dossiers(corpus: Path) -> list[Path]:
    """Dossier folders of a corpus: the sub-folders holding both dossier.json and expected.json."""
    corpus = Path(corpus)
    if (corpus / "expected.json").is_file():
        return [corpus]
    return sorted(p for p in corpus.iterdir() if (p / "dossier.json").is_file() and (p / "expected.json").is_file())


def _check_one(folder: str) -> tuple[str, dict | None, float, str | None]:
    from intake.service import check_folder  # the front door, as `intake check` goes through it

    started = time.perf_counter()
    try:
        result = check_folder(Path(folder))
        error = None
    except Exception as exc:  # a crash is a wrong verdict for that dossier, not the end of the run
        log.warning("pipeline failed on %s: %s", Path(folder).name, type(exc).__name__)
        result, error = None, f"{type(exc).__name__}: {exc}"[:300]
    return folder, result, time.perf_counter() - started, error


class _Cached:
    """Keeps each dossier's pipeline result in `folder` so an interrupted run resumes where it stopped."""

    def __init__(self, check, folder: Path):
        self.check, self.folder = check, Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, dossier: str) -> tuple[str, dict | None, float, str | None]:
        path = self.folder / f"{Path(dossier).name}.json"
        if path.is_file():
            saved = json.loads(path.read_text(encoding="utf-8"))
            return dossier, saved["result"], saved["seconds"], saved["error"]
        _, result, seconds, error = self.check(dossier)
        path.write_text(json.dumps({"result": result, "seconds": seconds, "error": error}, ensure_ascii=False),
                        encoding="utf-8")
        return dossier, result, seconds, error


def run_eval(corpus: Path, out: TextIO | None = sys.stdout, jobs: int = 1,
             check: Callable[[str], tuple[str, dict | None, float, str | None]] | None = None,
             results_dir: Path | None = None) -> EvalReport:
    """Run the pipeline on every dossier of `corpus`, print the report to `out`, return it.

    `jobs` > 1 checks dossiers in that many processes. `check` replaces the pipeline call (tests).
    `results_dir` keeps every result as JSON and reuses those already there (resuming a long run).
    """
    folders = corpus_dossiers(Path(corpus))
    started = time.perf_counter()
    outcomes: list[tuple[str, dict | None, float, str | None]] = []
    check = check or _check_one
    if results_dir is not None:
        check = _Cached(check, results_dir)
    if jobs > 1:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            outcomes = list(pool.map(check, [str(f) for f in folders]))
    else:
        for f in folders:
            outcomes.append(check(str(f)))
            if out is not None:
                print(f"  ... {len(outcomes)}/{len(folders)} {f.name} {outcomes[-1][2]:.1f} s", file=sys.stderr)
    scores = []
    for folder, result, seconds, error in outcomes:
        expected = json.loads((Path(folder) / "expected.json").read_text(encoding="utf-8"))
        scores.append(score_dossier(Path(folder).name, expected, result, seconds, error))
    report = summarise(str(corpus), scores)
    report.wall_seconds = time.perf_counter() - started
    if out is not None:
        print_report(report, out)
    return report


def _pct(x: float | None) -> str:
    return "   -  " if x is None else f"{100 * x:5.1f}%"


VERDICTS = ("complete", "needs_review", "incomplete")


def confusion(report: EvalReport) -> dict[str, dict[str, int]]:
    """expected status -> given status -> dossiers (a pipeline error is given as `error`)."""
    table: dict[str, dict[str, int]] = {e: {g: 0 for g in (*VERDICTS, "error")} for e in VERDICTS}
    for s in report.scores:
        row = table.setdefault(s.expected_status, {g: 0 for g in (*VERDICTS, "error")})
        given = s.status if s.status in VERDICTS else "error"
        row[given] = row.get(given, 0) + 1
    return table


def print_confusion(report: EvalReport, out: TextIO = sys.stdout) -> None:
    """Expected verdict (rows) x given verdict (columns)."""
    table = confusion(report)
    w = out.write
    cols = (*VERDICTS, "error")
    corner = "expected \\ given"
    w(f"{corner:<18}" + "".join(f"{c:>14}" for c in cols) + "\n")
    for e in VERDICTS:
        w(f"{e:<18}" + "".join(f"{table[e].get(c, 0):>14}" for c in cols) + "\n")
    w("\n")


def print_kind_table(title: str, table: dict[str, dict[str, list[int]]], out: TextIO) -> None:
    """Key fields read right, per piece kind (rows) and column (a rotation or a capture condition):
    "right/total" in each cell, the issue's goal being 98 % in every cell."""
    columns = sorted({c for row in table.values() for c in row}, key=lambda c: (not c.isdigit(), c.zfill(4)))
    if not columns:
        return
    w = out.write
    width = max(12, *(len(c) + 2 for c in columns))
    w(f"\n{title} (right/total):\n")
    w(f"  {'kind':<22}" + "".join(f"{c:>{width}}" for c in columns) + f"{'all':>18}\n")
    for kind in sorted(table):
        row = table[kind]
        cells = [f"{row[c][0]}/{row[c][1]}" if c in row else "-" for c in columns]
        right, total = sum(v[0] for v in row.values()), sum(v[1] for v in row.values())
        w(f"  {kind:<22}" + "".join(f"{c:>{width}}" for c in cells) + f"  {right}/{total} {_pct(right / total)}\n")


def print_report(report: EvalReport, out: TextIO = sys.stdout, details: bool = True) -> None:
    """The figures as a table: overall, then one line per degradation; then what went wrong."""
    o = report.overall
    w = out.write
    # The worst error first: a dossier said complete that is not would be filed and refused.
    w(f"false complete (said complete, is not): {o.false_complete}\n")
    w(f"intake eval: {o.dossiers} dossiers from {report.corpus} in {report.wall_seconds:.0f} s\n\n")
    print_confusion(report, out)
    head = f"{'degradation':<16}{'n':>4} {'verdict':>8} {'false-complete':>15} {'missing-recall':>15} " \
           f"{'kind-acc':>9} {'field-acc':>10} {'s/dossier':>10}\n"
    w(head)
    w("-" * (len(head) - 1) + "\n")

    def line(name: str, t: Tally) -> None:
        spd = "-" if t.seconds_per_dossier is None else f"{t.seconds_per_dossier:.1f}"
        w(f"{name:<16}{t.dossiers:>4} {_pct(t.verdict_accuracy):>8} {t.false_complete:>15} "
          f"{_pct(t.missing_recall):>15} {_pct(t.kind_accuracy):>9} {_pct(t.field_accuracy):>10} {spd:>10}\n")

    line("ALL", o)
    for name in sorted(report.by_degradation):
        line(name, report.by_degradation[name])
    w("\n")
    if o.missing_spurious:
        w(f"requirements reported missing but present: {o.missing_spurious}\n")
    if o.errors:
        w(f"pipeline errors: {o.errors}\n")
    if not details:
        return
    if report.false_complete:
        w("\nFALSE COMPLETE:\n")
        for s in report.false_complete:
            w(f"  {s.dossier}: expected {s.expected_status} (missing {','.join(s.missing_expected) or '-'}; "
              f"codes {','.join(s.codes_expected) or '-'})\n")
    wrong = [s for s in report.scores if not s.verdict_right and not s.false_complete]
    if wrong:
        w("\nother wrong verdicts:\n")
        for s in wrong:
            extra = f" error {s.error}" if s.error else ""
            w(f"  {s.dossier} [{s.degradation}]: expected {s.expected_status}, got {s.status}"
              f"{' spurious-missing ' + ','.join(s.missing_spurious) if s.missing_spurious else ''}{extra}\n")
    if report.by_code:
        w("\nexpected finding codes found:\n")
        for code, (found, total) in report.by_code.items():
            w(f"  {code:<40}{found:>4}/{total}\n")
    print_kind_table("key fields by kind and rotation", report.by_kind_rotation, out)
    print_kind_table("key fields by kind and capture", report.by_kind_condition, out)
    misses = {k: v for k, v in report.by_field.items() if v[1]}
    if misses:
        w("\nkey fields missed or wrong (kind.field: count):\n")
        for name, (_, total) in sorted(misses.items(), key=lambda kv: -kv[1][1]):
            w(f"  {name:<40}{total:>4}\n")
    kinds: dict[str, int] = defaultdict(int)
    for s in report.scores:
        for k in s.kind_misses:
            kinds[k] += 1
    if kinds:
        w("\npiece kinds confused (expected->got: count):\n")
        for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]):
            w(f"  {k:<40}{n:>4}\n")
