"""Command line: `python -m plateforme <command>` (also installed as `rdv-file`)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("PICCOLO_CONF", "piccolo_conf")

from plateforme.errors import DomainError  # noqa: E402
from plateforme.settings import get_settings  # noqa: E402


async def _with_engine(work: Callable[[], Awaitable[Any]]) -> Any:
    from plateforme import db

    await db.start(get_settings())
    try:
        return await work()
    finally:
        await db.stop()


def _cmd_migrate(args: argparse.Namespace) -> None:
    from plateforme.migrations import migrate

    asyncio.run(migrate())
    print("Base de données à jour.")


def _cmd_import_communes(args: argparse.Namespace) -> None:
    from sites.services.communes import import_communes

    report = asyncio.run(
        _with_engine(
            lambda: import_communes(Path(args.fichier)) if args.fichier else import_communes()
        )
    )
    print(
        f"Communes : {report.created} créées, {report.updated} mises à jour, "
        f"{report.unchanged} inchangées."
    )


def _cmd_import_sites(args: argparse.Namespace) -> None:
    from sites.services.comptes import territoire_id_par_nom_ou_id
    from sites.services.importer import import_sites

    async def work() -> Any:
        territoire_id = await territoire_id_par_nom_ou_id(args.territoire)
        return await import_sites(
            Path(args.fichier),
            territoire_id=territoire_id,
            kind=args.kind,
            service_codes=args.service or (),
        )

    report = asyncio.run(_with_engine(work))
    print(f"Lieux : {report.created} créés, {report.updated} mis à jour.")


def _cmd_seed_demo(args: argparse.Namespace) -> None:
    from file_attente.demo import seed_demo_files
    from rdv.services.demo import seed_demo_rdv
    from sites.services.demo import seed_demo

    report = asyncio.run(_with_engine(seed_demo))
    print(
        f"Démo : {report.territoires} territoires, {report.services} services, "
        f"{report.sites} lieux, {report.agents} agents, "
        f"{report.sectorisations} sectorisations créés."
    )
    rdv = asyncio.run(_with_engine(seed_demo_rdv))
    print(f"Démo des rendez-vous : {rdv.motifs} motifs, {rdv.plages} plages d'ouverture créés.")
    files = asyncio.run(_with_engine(seed_demo_files))
    print(f"Démo des files d'attente : {files.files} files, {files.guichets} guichets créés.")


def _cmd_create_admin(args: argparse.Namespace) -> None:
    from sites.services.comptes import create_admin

    password = os.environ.get("RDV_ADMIN_PASSWORD") or getpass.getpass(
        "Mot de passe (12 caractères au moins) : "
    )
    agent_id = asyncio.run(
        _with_engine(
            lambda: create_admin(
                email=args.email,
                password=password,
                prenom=args.prenom,
                nom=args.nom,
                territoire=args.territoire,
                kind=args.kind,
                code=args.code,
                fuseau_horaire=args.fuseau,
            )
        )
    )
    print(f"Administrateur créé (agent n° {agent_id}).")


def _cmd_serve(args: argparse.Namespace) -> None:
    import socket

    import uvicorn
    from uvicorn.supervisors import Multiprocess

    settings = get_settings()
    config = uvicorn.Config(
        "plateforme.asgi:app",
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers,
        log_level=settings.log_level.lower(),
        proxy_headers=True,
        # Screens receive a few short events an hour: compressing them costs ~50 KiB of
        # memory per socket for nothing (bench/RESULTS.md).
        ws_per_message_deflate=False,
    )
    if config.workers <= 1:
        server = uvicorn.Server(config)
        server.run()
        if not server.started:
            raise SystemExit(3)  # uvicorn's STARTUP_FAILURE, as uvicorn.run
        return
    # Several workers share a socket that uvicorn binds with protocol 0: the accepted
    # connections inherit it, asyncio then leaves Nagle's algorithm on, and every answer
    # on a kept-alive connection after the first waits ~40 ms for the client's delayed
    # ACK (Kludex/uvicorn#3149; bench/RESULTS.md). The same socket, told it is TCP.
    bound = config.bind_socket()
    sock = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.set_inheritable(True)
    Multiprocess(config, sockets=[sock]).run()


def _cmd_envoyer(args: argparse.Namespace) -> None:
    """The outbox worker as its own process (the app's scheduler does the same job)."""
    from notifications.fournisseurs import registre
    from notifications.services import envoi

    async def work() -> None:
        if args.vider:
            rapport = await envoi.vider()
            print(
                f"Messages : {rapport.envoyes} envoyés, {rapport.reessais} à réessayer, "
                f"{rapport.echecs} en échec, {rapport.expires} expirés."
            )
            return
        try:
            while True:
                await envoi.tour()
                await asyncio.sleep(args.intervalle)
        finally:
            await registre.fermer_clients()

    asyncio.run(_with_engine(work))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m plateforme", description="RDV & file d'attente"
    )
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="applique les migrations").set_defaults(run=_cmd_migrate)

    communes = commands.add_parser("import-communes", help="charge les 34 875 communes de France")
    communes.add_argument("--fichier", help="CSV des communes (par défaut, celui du projet)")
    communes.set_defaults(run=_cmd_import_communes)

    sites = commands.add_parser(
        "import-sites", help="charge des lieux d'accueil depuis un CSV de mairies"
    )
    sites.add_argument("fichier", help="CSV au format de sites/data/mairies-*.csv")
    sites.add_argument("--territoire", required=True, help="identifiant ou nom exact du territoire")
    sites.add_argument("--kind", default="permanence", choices=("centre", "antenne", "permanence"))
    sites.add_argument("--service", action="append", help="code d'un service proposé (répétable)")
    sites.set_defaults(run=_cmd_import_sites)

    commands.add_parser("seed-demo", help="charge la démonstration (une seule fois)").set_defaults(
        run=_cmd_seed_demo
    )

    admin = commands.add_parser(
        "create-admin",
        help="crée un administrateur de territoire (mot de passe : RDV_ADMIN_PASSWORD ou saisi)",
    )
    admin.add_argument("--email", required=True)
    admin.add_argument(
        "--territoire", required=True, help="nom du territoire (créé s'il n'existe pas)"
    )
    admin.add_argument("--prenom", default="Admin")
    admin.add_argument("--nom", default="Territoire")
    admin.add_argument("--kind", default="departement", choices=("departement", "region"))
    admin.add_argument("--code", default="", help="code INSEE du département ou de la région")
    admin.add_argument("--fuseau", default="Europe/Paris", help="fuseau horaire IANA du territoire")
    admin.set_defaults(run=_cmd_create_admin)

    envoyer = commands.add_parser("envoyer", help="envoie les SMS et e-mails en attente")
    envoyer.add_argument("--vider", action="store_true", help="une passe jusqu'à vide, puis sort")
    envoyer.add_argument("--intervalle", type=float, default=2.0, help="secondes entre deux passes")
    envoyer.set_defaults(run=_cmd_envoyer)

    serve = commands.add_parser("serve", help="sert l'application (uvicorn)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(run=_cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except DomainError as error:
        print(f"Erreur : {error.message}", file=sys.stderr)
        lines = getattr(error, "lines", None)
        details = (
            [f"ligne {n} : {m}" for n, m in sorted(lines)]
            if lines
            else [f"{field} : {message}" for field, message in error.fields.items()]
        )
        for detail in details:
            print(f"  - {detail}", file=sys.stderr)
        return 2
    return 0
