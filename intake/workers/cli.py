"""Verbs for the distributed side: `intake worker`, `intake reprocess`, `intake failed`, `intake status`."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from datetime import date
from pathlib import Path

from intake.workers.broker import QUEUE_CHECKS, QUEUE_OCR


def cmd_worker(args: argparse.Namespace) -> int:
    """Run `--processes` Dramatiq worker processes under intake's supervisor (a dead one is replaced)
    and the outbox sweeper; see `intake.workers.supervisor`."""
    from intake import db
    from intake.settings import get_settings
    from intake.workers import supervisor

    settings = get_settings()
    if not settings.broker_url:
        print("intake worker : INTAKE_BROKER_URL n'est pas défini (sans Redis, `intake check` et `intake serve` "
              "font tourner leur propre worker)", file=sys.stderr)
        return 2
    if args.queues != "checks":  # OCR workers: refuse now rather than fail every page
        from intake.tools import ToolMissing, require

        try:
            require()
        except ToolMissing as exc:
            print(f"intake worker : {exc}", file=sys.stderr)
            return 2
    if not db.is_current():
        print("intake worker : la base de données n'est pas à jour : lancer `intake db upgrade`", file=sys.stderr)
        return 2
    queues = {"ocr": [QUEUE_OCR], "checks": [QUEUE_CHECKS], "all": [QUEUE_OCR, QUEUE_CHECKS]}[args.queues]
    dramatiq_bin = shutil.which("dramatiq", path=os.path.dirname(sys.executable)) or shutil.which("dramatiq")
    if dramatiq_bin is None:
        print("intake worker : commande dramatiq introuvable", file=sys.stderr)
        return 2
    os.umask(0o077)  # temporary files of the readers: for the service user only
    env = dict(os.environ)
    env.update(worker_environment(args.threads, args.prefetch, args.poll_ms))
    env.setdefault("INTAKE_PAGE_THREADS", str(page_threads_per_process(args.processes)))
    env["TMPDIR"] = str(supervisor.temp_dir(settings.data_dir))
    env.setdefault("dramatiq_prom_host", args.metrics_host)
    env.setdefault("dramatiq_prom_db", str(_fresh_metrics_dir(settings.data_dir / "worker-metrics")))
    # --worker-fork-timeout: a worker process killed while it boots holds Dramatiq's master this long.
    # Each worker process chooses the broker and declares the actors when Dramatiq calls `boot`.
    cmd = [dramatiq_bin, "intake.workers.actors:boot", "--processes", "1", "--threads", str(args.threads),
           "--worker-fork-timeout", "10000", "--queues", *queues]
    if args.watch:
        cmd += ["--watch", args.watch]
    # One Dramatiq master per process; the first serves the metrics of all (shared dramatiq_prom_db).
    envs = [{**env, "dramatiq_prom_port": str(args.metrics_port) if i == 0 else "0"}
            for i in range(max(1, args.processes))]

    from intake.workers.broker import configure, redis_client
    from intake.workers.outbox import sweep

    broker = configure()  # the sweeper sends by actor name on it (the queues are declared with it)
    client = redis_client()  # one connection pool for every pass of the sweeper
    return supervisor.supervise([cmd] * len(envs), envs, settings.sweep_interval_s,
                                sweep=lambda: sweep(client=client), heartbeat=getattr(broker, "heartbeat", None))


def worker_environment(threads: int, prefetch: int, poll_ms: int) -> dict[str, str]:
    """The environment of the Dramatiq worker processes.

    - One core per process: OMP, OpenCV and OpenBLAS run single-threaded (see `intake/__init__`).
    - Dramatiq's `dramatiq_queue_prefetch` is per consumer, i.e. per queue of a process, not per
      thread: `--prefetch` counts per thread and is multiplied here, so that four threads do not share
      one message. Two per thread by default: the one being read and the next one, already fetched,
      so that a thread never waits for Redis between two pieces, while a long queue is still shared
      among hosts a message or two at a time.
    - `dramatiq_worker_timeout` caps the idle poll: a consumer whose queue is empty (or whose prefetch
      is full) sleeps up to this long between fetches. Dramatiq's 1 s made a thread wait 0.2 s on
      average after each piece with a prefetch of one.
    """
    from intake import THREAD_POOL_VARIABLES

    return {
        **{name: "1" for name in THREAD_POOL_VARIABLES},
        "dramatiq_queue_prefetch": str(max(1, threads * prefetch)),
        # Retries waiting for their backoff are few: no need to hold thousands of them per thread.
        "dramatiq_delay_queue_prefetch": str(max(10, threads * prefetch * 10)),
        "dramatiq_worker_timeout": str(max(10, poll_ms)),
    }


def page_threads_per_process(processes: int, cores: int | None = None) -> int:
    """Each worker process's share of the cores this host lets `intake worker` use: two processes on
    two cores read one page at a time each (one set of tesseract engines each), not two."""
    if cores is None:
        from intake.pipeline import usable_cores

        cores = usable_cores()
    return max(1, cores // max(1, processes))


def _fresh_metrics_dir(folder: Path) -> Path:
    """Prometheus' multiprocess folder, emptied: files of processes from a previous start would count."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)
    return folder


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"date attendue au format AAAA-MM-JJ : {value!r}") from None


def _prepare() -> str | None:
    """Database ready (SQLite migrates itself); an error message otherwise."""
    from intake.service import ServiceError, prepare_database

    try:
        prepare_database()
    except ServiceError as exc:
        return str(exc)
    return None


def cmd_reprocess(args: argparse.Namespace) -> int:
    from intake.reprocess import Selection, format_summary, reprocess

    error = _prepare()
    if error:
        print(f"intake reprocess : {error}", file=sys.stderr)
        return 2
    if args.all and (args.status or args.code or args.kind or args.since or args.until or args.outdated):
        print("intake reprocess : --all ne se combine pas avec un filtre", file=sys.stderr)
        return 2
    if not (args.all or args.status or args.code or args.kind or args.since or args.until or args.outdated):
        print("intake reprocess : choisir une sélection (--all, --status, --since/--until, --code, --kind, "
              "--outdated)", file=sys.stderr)
        return 2
    selection = Selection(statuses=tuple(args.status or ()), created_from=args.since, created_to=args.until,
                          codes=tuple(args.code or ()), kinds=tuple(args.kind or ()), outdated=args.outdated,
                          include_closed=args.include_closed)
    try:
        summary = reprocess(selection, force=args.force, dry_run=args.dry_run, wait_for=not args.no_wait,
                            stall_timeout=args.timeout, progress_stream=None if args.json else sys.stderr)
    except KeyboardInterrupt:
        print("\nintake reprocess : interrompu ; les messages envoyés seront traités par les workers, relancer "
              "la même commande pour reprendre sans refaire le travail terminé", file=sys.stderr)
        return 2
    if args.json:
        if not args.dry_run:
            summary.pop("plans", None)
        json.dump(summary, sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
        return 0
    if args.dry_run:
        print(f"simulation (rien n'est envoyé), version du pipeline {summary['pipeline_version']}")
        shown = [p for p in summary["plans"] if p["action"] in ("reread", "recheck")]
        for plan in shown[:args.limit]:
            what = f"relire {plan['reread']} fichier(s)" if plan["action"] == "reread" else "revérifier"
            print(f"  dossier {plan['dossier_id']} {plan['reference']} [{plan['status']}, "
                  f"{plan['pipeline_version'] or '-'}] : {what}")
        if len(shown) > args.limit:
            print(f"  ... et {len(shown) - args.limit} autre(s)")
    print(format_summary(summary))
    return 0 if not summary.get("not_finished") else 1


def cmd_failed(args: argparse.Namespace) -> int:
    from intake.monitoring import dead_letters, retry_dead_letters, status_figures
    from intake.settings import get_settings

    if not get_settings().broker_url:
        error = _prepare()
        if error:
            print(f"intake failed : {error}", file=sys.stderr)
            return 2
        figures = status_figures()
        print("pas de broker Redis (INTAKE_BROKER_URL) : pas de file d'échecs ; "
              f"{figures.failed_uploads} fichier(s) et {figures.failed_dossiers} dossier(s) en échec dans la base "
              "(les relancer : intake reprocess --status failed)")
        return 0
    if args.action == "retry":
        if not args.all and not args.ids:
            print("intake failed retry : donner des ID (voir `intake failed`) ou --all", file=sys.stderr)
            return 2
        sent = retry_dead_letters(None if args.all else list(args.ids))
        missing = set(args.ids or ()) - {letter.id for letter in sent}
        for letter in sent:
            print(f"relancé : {letter.id} {letter.actor}({letter.target_id})")
        for message_id in sorted(missing):
            print(f"introuvable : {message_id}", file=sys.stderr)
        print(f"{len(sent)} message(s) renvoyé(s)")
        return 2 if missing else 0
    letters = dead_letters()
    if args.json:
        json.dump([letter.to_json() for letter in letters], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not letters:
        print("aucun message en échec")
        return 0
    print(f"{'ID':<36}  {'acteur':<14} {'objet':>8}  {'échec (UTC)':<19}  {'essais':>6}  erreur")
    for letter in letters:
        print(f"{letter.id:<36}  {letter.actor:<14} {letter.target_id if letter.target_id is not None else '-':>8}  "
              f"{letter.failed_at:%Y-%m-%d %H:%M:%S}  {letter.retries:>6}  {letter.error or '-'}")
    print(f"{len(letters)} message(s) en échec ; les relancer : intake failed retry ID... | --all")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from intake.monitoring import status_figures

    error = _prepare()
    if error:
        print(f"intake status : {error}", file=sys.stderr)
        return 2
    figures = status_figures()
    if args.json:
        json.dump(figures.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not figures.broker_reachable:
        print("broker Redis injoignable : les envois attendent dans la base (outbox) et partiront à son retour")
    elif figures.queues:
        print(f"{'file':<16} {'prêts':>8} {'en cours':>9} {'différés':>9} {'échecs':>7}")
        for q in figures.queues:
            print(f"{q.queue:<16} {q.ready:>8} {q.in_flight:>9} {q.delayed:>9} {q.dead:>7}")
    else:
        print("broker en mémoire (pas de INTAKE_BROKER_URL) : pas de files partagées")
    print(f"fichiers en attente de lecture : {figures.pending_uploads} ; en échec : {figures.failed_uploads}")
    print(f"dossiers en attente : {figures.pending_dossiers} ; vérification en échec : {figures.failed_dossiers}")
    age = figures.oldest_pending_seconds
    print("plus ancien travail en attente : " + ("aucun" if age is None else _duration(age)))
    for waiting in figures.outbox:
        what = {"read_upload": "lectures", "check_dossier": "vérifications"}.get(waiting["actor"], waiting["actor"])
        print(f"{what} à envoyer : {waiting['unsent']}" + _since(waiting["oldest_unsent"])
              + f" ; envoyées, non terminées : {waiting['sent']}" + _since(waiting["oldest_sent"]))
    return 0


def _since(moment: str | None) -> str:
    if not moment:
        return ""
    from datetime import datetime, timezone

    then = datetime.fromisoformat(moment)
    age = (datetime.now(timezone.utc) - then).total_seconds()
    return f" (en attente depuis le {then:%Y-%m-%d %H:%M:%S} UTC, soit {_duration(max(0.0, age))})"


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d}"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="lancer des workers Dramatiq sur Redis (INTAKE_BROKER_URL)")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="processus (défaut : nombre de cœurs)")
    p.add_argument("--threads", type=int, default=1, help="threads par processus (défaut : 1, l'OCR occupe un cœur)")
    p.add_argument("--queues", choices=["all", "ocr", "checks"], default="all",
                   help="files servies : lecture OCR, vérification des dossiers, ou les deux")
    p.add_argument("--prefetch", type=int, default=2,
                   help="messages réservés par thread, celui en cours compris (défaut : 2, le suivant est déjà là)")
    p.add_argument("--poll-ms", type=int, default=250,
                   help="attente maximale entre deux interrogations d'une file vide, en ms (défaut : 250)")
    p.add_argument("--watch", metavar="DIR", help="(développement) relancer quand le code change")
    p.add_argument("--metrics-port", type=int, default=9191,
                   help="port des métriques Prometheus des workers (défaut : 9191 ; 0 : pas de serveur)")
    p.add_argument("--metrics-host", default="0.0.0.0", help="adresse d'écoute des métriques")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("reprocess", help="revérifier des dossiers enregistrés (règles ou lecture changées)")
    p.add_argument("--all", action="store_true", help="tous les dossiers ouverts")
    p.add_argument("--status", action="append", metavar="STATUT",
                   help="verdict actuel : complete, incomplete, needs_review, pending, failed (répétable)")
    p.add_argument("--since", type=_iso_date, metavar="AAAA-MM-JJ", help="créés depuis ce jour (inclus)")
    p.add_argument("--until", type=_iso_date, metavar="AAAA-MM-JJ", help="créés jusqu'à ce jour (inclus)")
    p.add_argument("--code", action="append", metavar="CODE", help="ayant un constat de ce code (répétable)")
    p.add_argument("--kind", action="append", metavar="KIND", help="ayant une pièce de ce type (répétable)")
    p.add_argument("--outdated", action="store_true",
                   help="résultats produits par une version du pipeline antérieure à l'actuelle")
    p.add_argument("--include-closed", action="store_true", help="inclure les dossiers clos")
    p.add_argument("--force", action="store_true",
                   help="tout relire et revérifier, même ce qui est déjà à la version actuelle")
    p.add_argument("--dry-run", action="store_true", help="afficher la sélection et les comptes, sans rien envoyer")
    p.add_argument("--no-wait", action="store_true", help="(avec Redis) envoyer puis rendre la main")
    p.add_argument("--timeout", type=float, default=900.0,
                   help="abandonner l'attente après tant de secondes sans progrès (défaut : 900)")
    p.add_argument("--limit", type=int, default=50, help="dossiers listés par --dry-run (défaut : 50)")
    p.add_argument("--json", action="store_true", help="le résumé en JSON sur stdout")
    p.set_defaults(func=cmd_reprocess)

    p = sub.add_parser("failed", help="messages en échec définitif (file d'échecs Redis), et les relancer")
    p.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    p.add_argument("ids", nargs="*", metavar="ID", help="(retry) identifiants listés par `intake failed`")
    p.add_argument("--all", action="store_true", help="(retry) tous les messages en échec")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_failed)

    p = sub.add_parser("status", help="profondeur des files, travail en attente et en échec")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
