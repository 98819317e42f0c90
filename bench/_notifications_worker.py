"""A bench-only outbox worker: `traiter_lot` in a loop with a batch size, a concurrency and a
pause of our choice, timing where each batch spends its time. Nothing of the application is
changed: its functions are wrapped, in this process only, to be timed.

`python -m bench._notifications_worker --limite 200 --concurrence 20 --pause 0.1
[--pause-si-plein] [--connexions N] --output FILE` on the database of DATABASE_URL (inherited).
It runs until SIGTERM, then writes its timings to FILE as JSON.

The loop of `python -m plateforme envoyer --intervalle S` is `traiter_lot(); sleep(S)`: it
sleeps after every batch, full or not. `--pause-si-plein` does the same; without it, the
loop goes straight on after a full batch and pauses only when the queue was short.

The providers take in turn the HTTP clients of `registre.client_http()` (10 clients keeping
5 connections alive each). `--connexions N` installs instead, through
`registre.utiliser_client`, one shared client keeping N alive (httpcore's pool bookkeeping
grows with the square of its connections: see registre.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


class Chrono:
    """Durations (seconds) summed by name, and how many."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)
        self.nombre: dict[str, int] = defaultdict(int)

    def ajouter(self, nom: str, secondes: float) -> None:
        self.total[nom] += secondes
        self.nombre[nom] += 1

    def envelopper(
        self, nom: str, fonction: Callable[..., Awaitable[T]]
    ) -> Callable[..., Awaitable[T]]:
        @wraps(fonction)
        async def chronometree(*args: Any, **kwargs: Any) -> T:
            debut = time.perf_counter()
            try:
                return await fonction(*args, **kwargs)
            finally:
                self.ajouter(nom, time.perf_counter() - debut)

        return chronometree

    def as_dict(self) -> dict[str, dict[str, float]]:
        return {nom: {"seconds": self.total[nom], "count": self.nombre[nom]} for nom in self.total}


async def main(args: argparse.Namespace) -> None:
    import httpx

    from notifications.fournisseurs import registre
    from notifications.fournisseurs.smsfactor import SmsFactor
    from notifications.services import envoi
    from plateforme import db
    from plateforme.settings import get_settings

    chrono = Chrono()
    reclames: list[int] = []  # per claim
    lots: list[int] = []  # per traiter_lot
    reclamer = envoi._reclamer_et_ecrire

    async def reclamer_compte(*a: Any, **k: Any) -> tuple[int, list[dict[str, Any]]]:
        nombre, lot = await reclamer(*a, **k)
        reclames.append(nombre)
        return nombre, lot

    # traiter_lot and _un look these up in the module at each call.
    envoi._reclamer_et_ecrire = chrono.envelopper(
        "claim + results (_reclamer_et_ecrire)", reclamer_compte
    )  # type: ignore[assignment]
    envoi.expirer = chrono.envelopper("expire (expirer)", envoi.expirer)  # type: ignore[assignment]
    envoi.reconcilier = chrono.envelopper("reconcile (reconcilier)", envoi.reconcilier)  # type: ignore[assignment]
    envoi._un = chrono.envelopper("one message (_un)", envoi._un)  # type: ignore[assignment]
    envoi.Ecritures.ecrire = chrono.envelopper(
        "UPDATEs of the results (Ecritures.ecrire)", envoi.Ecritures.ecrire
    )  # type: ignore[method-assign]
    SmsFactor.envoyer = chrono.envelopper("HTTP send (SmsFactor.envoyer)", SmsFactor.envoyer)  # type: ignore[method-assign]

    arret = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, arret.set)
    if args.connexions:
        limites = httpx.Limits(
            max_connections=args.connexions, max_keepalive_connections=args.connexions
        )
        registre.utiliser_client(httpx.AsyncClient(timeout=10.0, limits=limites))
    await db.start(get_settings())
    debut = time.perf_counter()
    try:
        while not arret.is_set():
            avant, deja = time.perf_counter(), len(reclames)
            await envoi.traiter_lot(limite=args.limite, concurrence=args.concurrence)
            chrono.ajouter("batch (traiter_lot)", time.perf_counter() - avant)
            # traiter_lot claims as places free, up to `limite` in all.
            lot = sum(reclames[deja:])
            lots.append(lot)
            if args.pause_si_plein or lot < args.limite:
                avant = time.perf_counter()
                await asyncio.sleep(args.pause)
                chrono.ajouter("pause", time.perf_counter() - avant)
    finally:
        await db.stop()
        args.output.write_text(
            json.dumps(
                {
                    "seconds": time.perf_counter() - debut,
                    "batches": sum(1 for n in lots if n),
                    "rounds": sum(1 for n in reclames if n),
                    "largest_batch": max(lots, default=0),
                    "claimed": sum(reclames),
                    "timings": chrono.as_dict(),
                }
            )
        )


def profiled(args: argparse.Namespace, path: str) -> None:
    """The same, under cProfile (the event loop's thread only), its stats written to `path`."""
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    try:
        asyncio.run(main(args))
    finally:
        profile.disable()
        profile.dump_stats(path)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench._notifications_worker")
    parser.add_argument("--limite", type=int, required=True)
    parser.add_argument("--concurrence", type=int, required=True)
    parser.add_argument("--pause", type=float, default=0.1)
    parser.add_argument("--pause-si-plein", action="store_true")
    parser.add_argument("--connexions", type=int, default=0)
    parser.add_argument("--output", type=Path, required=True)
    # To see where the CPU goes: BENCH_NOTIFICATIONS_PROFILE=/tmp/worker.prof.
    profile_to = os.environ.get("BENCH_NOTIFICATIONS_PROFILE")
    if profile_to:
        profiled(parser.parse_args(), f"{profile_to}.{os.getpid()}")
    else:
        asyncio.run(main(parser.parse_args()))
