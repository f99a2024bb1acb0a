"""Verbs for the distributed side: `intake worker` (and, with issue 9, reprocess/failed/status)."""

from __future__ import annotations

import argparse
import os
import shutil
import sys

from intake.workers.broker import QUEUE_CHECKS, QUEUE_OCR


def cmd_worker(args: argparse.Namespace) -> int:
    from intake import db
    from intake.settings import get_settings

    settings = get_settings()
    if not settings.broker_url:
        print("intake worker : INTAKE_BROKER_URL n'est pas défini (sans Redis, `intake check` et `intake serve` "
              "font tourner leur propre worker)", file=sys.stderr)
        return 2
    if not db.is_current():
        print("intake worker : la base de données n'est pas à jour : lancer `intake db upgrade`", file=sys.stderr)
        return 2
    queues = {"ocr": [QUEUE_OCR], "checks": [QUEUE_CHECKS], "all": [QUEUE_OCR, QUEUE_CHECKS]}[args.queues]
    dramatiq_bin = shutil.which("dramatiq", path=os.path.dirname(sys.executable)) or shutil.which("dramatiq")
    if dramatiq_bin is None:
        print("intake worker : commande dramatiq introuvable", file=sys.stderr)
        return 2
    env = dict(os.environ)
    env["OMP_THREAD_LIMIT"] = "1"
    # Long OCR messages: take one at a time per thread so that idle workers on other hosts get the rest.
    env.setdefault("dramatiq_queue_prefetch", str(args.prefetch))
    cmd = [dramatiq_bin, "intake.workers.actors", "--processes", str(args.processes),
           "--threads", str(args.threads), "--queues", *queues]
    if args.watch:
        cmd += ["--watch", args.watch]
    os.execve(dramatiq_bin, cmd, env)
    return 0  # pragma: no cover - exec does not return


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="lancer des workers Dramatiq sur Redis (INTAKE_BROKER_URL)")
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="processus (défaut : nombre de cœurs)")
    p.add_argument("--threads", type=int, default=1, help="threads par processus (défaut : 1, l'OCR occupe un cœur)")
    p.add_argument("--queues", choices=["all", "ocr", "checks"], default="all",
                   help="files servies : lecture OCR, vérification des dossiers, ou les deux")
    p.add_argument("--prefetch", type=int, default=1, help="messages réservés d'avance par thread")
    p.add_argument("--watch", metavar="DIR", help="(développement) relancer quand le code change")
    p.set_defaults(func=cmd_worker)
