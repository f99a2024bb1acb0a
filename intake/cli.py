"""The `intake` command (CONTRACT.md §2, §3, §5).

Exit status: 0 complete (or success), 1 incomplete / needs review, 2 the command could not run.
Logs go to stderr; with --json, stdout holds exactly one JSON document.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import logging
import os
import sys
from datetime import date
from pathlib import Path

from intake import __version__

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2

#: Modules that add their own verbs: each has `register(subparsers)`.
COMMAND_MODULES = ("intake.web.cli", "intake.workers.cli", "intake.purge")

def _status_line(status: str) -> str:
    from intake.labels import STATUSES

    return STATUSES[status].verdict if status in STATUSES else status


def _severity_tag(severity: str) -> str:
    from intake.labels import SEVERITIES

    return SEVERITIES[severity].tag if severity in SEVERITIES else severity


class UsageError(Exception):
    pass


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date attendue au format AAAA-MM-JJ : {value!r}") from None


def _setup_logging(verbose: bool) -> None:
    from intake.settings import get_settings

    configured = getattr(logging, get_settings().log_level.upper(), logging.WARNING)
    level = min(logging.INFO, configured) if verbose else configured
    logging.basicConfig(stream=sys.stderr, level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def format_report(result: dict) -> str:
    """A readable French report of a check result, for a person at the counter."""
    lines = [f"Dossier {result.get('reference', '')}", _status_line(result["status"]), ""]
    if result.get("pieces"):
        lines.append("Pièces reconnues :")
        for piece in result["pieces"]:
            holder = "" if piece.get("holder") in (None, "unknown") else f", {piece['holder']}"
            lines.append(f"  - {piece['file']} p.{piece['page']} : {piece['kind']}{holder} "
                         f"(confiance {piece.get('confidence', 0):.2f})")
        lines.append("")
    findings = result.get("findings") or []
    if findings:
        lines.append("Constats :")
        for f in findings:
            where = f" [{f['file']}]" if f.get("file") else ""
            lines.append(f"  - {_severity_tag(f['severity'])} {f['code']}{where} : {f['message']}")
    else:
        lines.append("Aucun constat.")
    return "\n".join(lines)


def cmd_check(args: argparse.Namespace) -> int:
    from intake.service import check_folder

    _imports_done()

    folder = Path(args.dossier)
    if not folder.is_dir():
        print(f"intake check : {folder} n'est pas un dossier", file=sys.stderr)
        return EXIT_ERROR
    result = check_folder(folder, today=args.today)  # a refused dossier.json, no worker: intake.errors
    if args.json:
        json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_report(result))
    return EXIT_OK if result["status"] == "complete" else EXIT_FINDINGS


def printable_path(name: str) -> str:
    """The path as given, with bytes that are not UTF-8 shown as U+FFFD (JSON is UTF-8)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def cmd_extract(args: argparse.Namespace) -> int:
    from intake.documents import FILE_LEVEL_CODES
    from intake.pipeline import read_file

    _imports_done()

    missing = [f for f in args.files if not Path(f).exists()]
    if missing:
        for name in missing:
            print(f"intake extract : fichier introuvable : {name}", file=sys.stderr)
        return EXIT_ERROR
    pieces, findings = [], []
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        reads = list(pool.map(lambda name: read_file(Path(name), printable_path(name)), args.files))
    for read in reads:
        pieces += [d.to_json() for d in read.documents]
        findings += [f.to_json() for f in read.findings if f.code in FILE_LEVEL_CODES or f.code == "check_failed"]
    if args.json:
        json.dump({"pieces": pieces, "findings": findings}, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for piece in pieces:
            print(f"{piece['file']} p.{piece['page']} : {piece['kind']} (confiance {piece['confidence']:.2f})")
            for key, value in piece["fields"].items():
                print(f"    {key} : {value}")
        for f in findings:
            print(f"{_severity_tag(f['severity'])} {f['code']} [{f['file']}] : {f['message']}")
    return EXIT_OK


def cmd_rules(args: argparse.Namespace) -> int:
    from intake.dossier import DossierError, load_declared
    from intake.validators.rules import format_rules

    try:
        declared = load_declared(Path(args.dossier))
    except DossierError as exc:
        print(f"intake rules : dossier.json refusé : champ « {exc.field} » : {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    reference_date = args.today or declared.reference_date or date.today()
    print(format_rules(declared, reference_date))
    return EXIT_OK


def cmd_eval(args: argparse.Namespace) -> int:
    from intake.evaluation import run_eval

    corpus = Path(args.corpus)
    if not corpus.is_dir():
        print(f"intake eval : {corpus} n'est pas un dossier", file=sys.stderr)
        return EXIT_ERROR
    run_eval(corpus, out=sys.stdout, jobs=args.jobs, results_dir=Path(args.results) if args.results else None)
    return EXIT_OK


def cmd_db(args: argparse.Namespace) -> int:
    from intake import db

    if args.action == "upgrade":
        db.upgrade()
        print("base de données à jour", file=sys.stderr)
        return EXIT_OK
    print("à jour" if db.is_current() else "migration nécessaire : intake db upgrade")
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """Each external tool: found or not, version, languages and fonts, and what to install."""
    from intake.tools import probe_all

    probes = probe_all()
    for probe in probes:
        state = "OK" if probe.ok else ("INCOMPLET" if probe.found else "ABSENT")
        print(f"{probe.name} {probe.version}".strip() + f" : {state}")
        for key, value in probe.details.items():
            print(f"    {key} : {value}")
        for text in probe.missing:
            print(f"    manque : {text}")
        for text in probe.notes:
            print(f"    remarque : {text}")
    debian = sorted({pkg for p in probes for pkg in p.install if " " not in pkg})
    other = [pkg for p in probes for pkg in p.install if " " in pkg]
    if debian:
        print(f"\nÀ installer (en root) : apt-get install {' '.join(debian)}")
    for line in other:
        print(f"À installer : {line}")
    if any(p.missing for p in probes):
        print("intake ne peut pas lire les pièces tant que ces outils manquent.")
        return EXIT_FINDINGS
    print("\nTous les outils nécessaires sont installés.")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    """The pieces ready to file on the ANTS site and the check report, written into --out."""
    from intake.export import export_dossier
    from intake.service import check_folder_dossier, prepare_database

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        print(f"intake export : {out} existe et n'est pas un dossier", file=sys.stderr)
        return EXIT_ERROR
    target = Path(args.target)
    # a refused export exits 1, anything else that stops it 2 (intake.errors, caught in main)
    if target.is_dir():
        dossier_id, _result = check_folder_dossier(target, today=args.today)
    elif args.target.isdigit():
        prepare_database()
        dossier_id = int(args.target)
    else:
        print(f"intake export : {args.target} n'est ni un dossier ni un numéro de dossier", file=sys.stderr)
        return EXIT_ERROR
    written = export_dossier(dossier_id, out, max_bytes=args.max_bytes)
    for path in written:
        print(path)
    return EXIT_OK


def _verb(argv: list[str] | None) -> str | None:
    """The command word of `argv` (its first word that is not an option), or None."""
    return next((word for word in argv or [] if not word.startswith("-")), None)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser; given `argv` whose verb is one of this module's, the command modules (which
    import SQLAlchemy, Dramatiq, the web stack) are not imported: `intake extract`, `rules` and
    `doctor` start without them."""
    parser = argparse.ArgumentParser(prog="intake", description="Pré-contrôle des dossiers de permis de conduire (ANTS).")
    parser.add_argument("--version", action="version", version=f"intake {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="journal détaillé sur stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("check", help="vérifier un dossier (dossier.json + pièces)")
    p.add_argument("dossier", metavar="DOSSIER_DIR")
    p.add_argument("--json", action="store_true", help="un document JSON sur stdout")
    p.add_argument("--today", type=_iso_date, metavar="YYYY-MM-DD", help="date de référence des contrôles")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("extract", help="classer et lire des fichiers isolés, sans dossier")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_extract)

    p = sub.add_parser("rules", help="les pièces exigées pour un dossier, et pourquoi")
    p.add_argument("dossier", metavar="DOSSIER_DIR")
    p.add_argument("--today", type=_iso_date, metavar="YYYY-MM-DD")
    p.set_defaults(func=cmd_rules)

    p = sub.add_parser("eval", help="évaluer le pipeline sur un corpus de dossiers avec leur verdict attendu")
    p.add_argument("corpus", metavar="CORPUS")
    p.add_argument("--jobs", type=int, default=1, help="dossiers traités en parallèle")
    p.add_argument("--results", metavar="DIR",
                   help="garder le résultat JSON de chaque dossier dans DIR et reprendre ceux qui y sont déjà")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("export", help="préparer les pièces à déposer sur le site de l'ANTS, et le rapport de contrôle")
    p.add_argument("target", metavar="DOSSIER_DIR|ID", help="un dossier à vérifier puis exporter, ou le numéro "
                   "d'un dossier déjà vérifié")
    p.add_argument("--out", required=True, metavar="DIR", help="dossier où écrire les fichiers")
    p.add_argument("--today", type=_iso_date, metavar="YYYY-MM-DD", help="date de référence (avec DOSSIER_DIR)")
    p.add_argument("--max-bytes", type=int, default=None, metavar="N",
                   help="taille maximale de chaque fichier (défaut : INTAKE_EXPORT_MAX_BYTES, 2 000 000)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("db", help="schéma de la base de données (Alembic)")
    p.add_argument("action", choices=["upgrade", "status"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("doctor", help="les outils externes (tesseract, poppler, zxing-cpp, polices) et ce qui manque")
    p.set_defaults(func=cmd_doctor)

    if argv is not None and _verb(argv) in sub.choices:
        return parser
    for module_name in COMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from intake import single_threaded_pools

    single_threaded_pools()  # before any command loads numpy, OpenCV or tesseract
    parser = build_parser(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_ERROR if exc.code not in (0, None) else EXIT_OK
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    _setup_logging(args.verbose)
    from intake.errors import IntakeError, exit_code

    try:
        return args.func(args)
    except IntakeError as exc:  # one table from errors to exit statuses (intake.errors)
        print(f"intake {_verb(argv if argv is not None else sys.argv[1:]) or ''} : {exc}", file=sys.stderr)
        return int(exit_code(exc))
    except KeyboardInterrupt:
        return EXIT_ERROR


#: One-shot verbs whose process ends as soon as their output is written. Tearing the interpreter
#: down (every module's objects, the tesseract engines, the idle page and worker threads) cost
#: ~0.5 s of CPU at the end of a ~2 s `intake check` on one core.
QUICK_EXIT_VERBS = frozenset({"check", "extract"})


#: Set by `run` for a one-shot verb: the cyclic garbage collector is off until the verb's modules
#: are loaded (`_imports_done`).
_collector_paused = False


def _imports_done() -> None:
    """The modules a one-shot verb needs are loaded: their objects (some hundred thousand, alive
    until the process ends) are frozen out of the cyclic collector's reach, which runs again for
    what the verb itself makes. Collecting while they loaded, and walking them at every full
    collection afterwards, cost ~0.1 s of a 2 s `intake check` on one core."""
    global _collector_paused
    if _collector_paused:
        gc.freeze()
        gc.enable()
        _collector_paused = False


def run() -> None:
    """The `intake` program: `main`, then, for a one-shot verb, a quick exit."""
    global _collector_paused
    if _verb(sys.argv[1:]) in QUICK_EXIT_VERBS:
        gc.disable()
        _collector_paused = True
    try:
        code = main()
    except BrokenPipeError:
        # The reader of the output went away (`intake extract --json ... | head`): the rest of the
        # output goes nowhere, and the status says it was not all delivered.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = EXIT_ERROR
    if _verb(sys.argv[1:]) in QUICK_EXIT_VERBS:
        quick_exit(code)
    sys.exit(code)


def quick_exit(code: int) -> None:
    """End the process without the interpreter's teardown, but with what matters at exit: the
    output flushed, the exit handlers run (this process's temporary folder of page images
    removed, the in-process worker stopped, the logs flushed) and the database connections closed."""
    import atexit

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`intake check ... | head`)
            pass
    atexit._run_exitfuncs()  # what a normal exit runs first; the rest is memory being freed
    db = sys.modules.get("intake.db")  # only when the verb used the database (`extract` does not)
    if db is not None:
        try:
            db.close_connections()
        except Exception:  # noqa: BLE001 - the exit status and the output are what count now
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
