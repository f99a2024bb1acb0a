"""Verbs of the web side: `intake serve`, `intake user add` and `intake user unlock`."""

from __future__ import annotations

import argparse
import getpass
import sys


def _database_ready(verb: str) -> bool:
    """Migrate the database if needed; say why not on stderr."""
    from intake.service import ServiceError, prepare_database

    try:
        prepare_database()
    except ServiceError as exc:
        print(f"intake {verb} : {exc}", file=sys.stderr)
        return False
    return True


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from intake.settings import get_settings

    if not _database_ready("serve"):
        return 2
    from intake.web.app import create_app

    settings = get_settings()
    mode = "Redis" if settings.broker_url else "worker intégré"
    print(f"intake serve : http://{args.host}:{args.port}/ ({mode})", file=sys.stderr)
    uvicorn.run(create_app(), host=args.host, port=args.port, log_level=settings.log_level.lower(),
                proxy_headers=True, access_log=False)
    return 0


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Mot de passe : ")
    second = getpass.getpass("Mot de passe (encore) : ")
    if first != second:
        print("intake user add : les deux mots de passe diffèrent", file=sys.stderr)
        return None
    return first


def cmd_user_add(args: argparse.Namespace) -> int:
    from intake.web.auth import AccountError, create_user

    if not _database_ready("user add"):
        return 2
    password = _read_password(args)
    if password is None:
        return 2
    try:
        account = create_user(args.username, password, args.role, args.school)
    except AccountError as exc:
        print(f"intake user add : {exc}", file=sys.stderr)
        return 2
    where = f" ({account.school})" if account.school else ""
    print(f"utilisateur {account.username} créé : {args.role}{where}", file=sys.stderr)
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    from intake.web.auth import unlock_user

    if not _database_ready("user unlock"):
        return 2
    if not unlock_user(args.username):
        print(f"intake user unlock : aucun utilisateur {args.username!r}", file=sys.stderr)
        return 2
    print(f"utilisateur {args.username} débloqué", file=sys.stderr)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="lancer le service web (pages et API JSON)")
    p.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (défaut : 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (défaut : 8000)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("user", help="comptes des auto-écoles et des vérificateurs")
    users = p.add_subparsers(dest="user_command", metavar="ACTION", required=True)
    add = users.add_parser("add", help="créer un compte")
    add.add_argument("username", metavar="USERNAME")
    add.add_argument("--role", required=True, choices=["school", "reviewer", "admin"])
    add.add_argument("--school", metavar="NAME", help="l'auto-école du compte (obligatoire avec --role school)")
    add.add_argument("--password-stdin", action="store_true", help="lire le mot de passe sur l'entrée standard")
    add.set_defaults(func=cmd_user_add)
    unlock = users.add_parser("unlock", help="lever le blocage après trop de mots de passe erronés")
    unlock.add_argument("username", metavar="USERNAME")
    unlock.set_defaults(func=cmd_user_unlock)
