"""The outbox: 10,000 due SMS reminders drained by the worker process against a provider
answering in 50 ms, the time it takes and the duplicates, then the same with a SIGKILL of
the worker at the half and a restart.

Run by `python -m bench` in one process per engine:
`python -m bench.notifications --database-url URL --calls N --runs R --output FILE`
migrates the (empty) database at URL, configures a territoire to SMS Factor at the fake
provider (`tests/fakes/fournisseur_sms.py` in a process of its own), and for each run of
each scenario writes the 10,000 messages (the rows `sortie.ecrire` writes), starts the
worker process(es), polls the database until every message is `envoye`, then reads what
the fake received. `--calls` is not used (the issue's 10,000 messages); the production
scenarios run min(R, 3) times, the exploration ones (two workers, and the bench-only loop
of `bench/_notifications_worker.py`) once each. Every drain is about half a minute, so
the whole takes a while: `--runs 1` for a quicker look; BENCH_NOTIFICATIONS_ONLY=<part of
a scenario's name> and BENCH_NOTIFICATIONS_MESSAGES=<n> to try one scenario on fewer
messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as heure
from pathlib import Path
from typing import Any

import httpx

from bench import database, machine, runner, server

TITLE = "Outbox: 10,000 due SMS reminders against a provider answering in 50 ms"
MESSAGES = int(os.environ.get("BENCH_NOTIFICATIONS_MESSAGES", "10000"))  # smaller to try it
LATENCE = 0.05
TARGET_SECONDS = 30.0
RUNS_MAX = 3
BAIL = 2  # OUTBOX_BAIL_SECONDES of the SIGKILL scenarios
INTERVALLE = 0.1
TIMEOUT = 240.0  # a run that has not drained by then is reported as such
# The operator's variable holding the key (named RDV_SMS_...), and the provider addresses
# an admin may choose (SMS_URLS_AUTORISEES), as notifications/fournisseurs/registre.py asks.
CLE_ENV = "RDV_SMS_BENCH_SMSFACTOR_CLE"
STALL = 45.0  # seconds without a message sent: the run is given up
ECRITURE_LOT = 1000  # messages per write transaction when preparing


@dataclass(frozen=True)
class Scenario:
    name: str
    workers: int
    kill: bool = False
    # None: the production worker, `python -m plateforme envoyer --intervalle 0.1`;
    # else the bench-only loop with (limite, concurrence, pause after a full batch).
    loop: tuple[int, int, bool] | None = None
    # The bench-only loop: a shared HTTP client keeping this many connections alive.
    connexions: int = 0
    latence: float = LATENCE
    # Run on SQLite too (exploration).
    sqlite: bool = True

    def command(self, output: Path | None = None) -> list[str]:
        if self.loop is None:
            return [
                sys.executable,
                "-m",
                "plateforme",
                "envoyer",
                "--intervalle",
                f"{INTERVALLE:g}",
            ]
        limite, concurrence, pause_si_plein = self.loop
        command = [sys.executable, "-m", "bench._notifications_worker"]
        command += ["--limite", str(limite), "--concurrence", str(concurrence)]
        command += ["--pause", f"{INTERVALLE:g}", "--output", str(output)]
        if self.connexions:
            command += ["--connexions", str(self.connexions)]
        return command + (["--pause-si-plein"] if pause_si_plein else [])

    def shown(self) -> str:
        if self.loop is None:
            return f"python -m plateforme envoyer --intervalle {INTERVALLE:g}"
        limite, concurrence, pause_si_plein = self.loop
        pause = "after every batch" if pause_si_plein else "only after a short batch"
        client = f", HTTP client keeping {self.connexions} alive" if self.connexions else ""
        return (
            f"traiter_lot(limite={limite}, concurrence={concurrence}),"
            f" {INTERVALLE:g} s pause {pause}{client}"
        )


ONLY = os.environ.get("BENCH_NOTIFICATIONS_ONLY", "")  # to try one: part of its name
PRODUCTION = [
    Scenario("1 worker", 1),
    Scenario("1 worker, SIGKILL at the half, restart", 1, kill=True),
]
# Once each.
EXPLORATION = [
    Scenario("as the CLI, provider answering at once", 1, loop=(1000, 50, False), latence=0.0),
    Scenario("as the CLI, timed", 1, loop=(1000, 50, False)),
    Scenario(
        "as the CLI, one HTTP client keeping 50 connections alive",
        1,
        loop=(1000, 50, False),
        connexions=50,
    ),
    Scenario("2 workers side by side", 2),
]


PRODUCTION = [s for s in PRODUCTION if ONLY in s.name]
EXPLORATION = [s for s in EXPLORATION if ONLY in s.name]


def _progress(label: str, text: str) -> None:
    print(f"[{label} notifications] {text}", file=sys.stderr, flush=True)


# CPU of processes and of the machine, from /proc.


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_ticks() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    total = sum(values[:8])
    return total - values[3] - values[4], total


# The fake provider, in a process of its own.


@contextmanager
def fake_provider(log: Path) -> Iterator[tuple[str, int]]:
    """The fake's URL and pid; its output (the connections a SIGKILL resets) goes to `log`."""
    port = server.free_port()
    output = log.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.fournisseur_sms", "--port", str(port)],
        cwd=database.ROOT,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/_fake/etat", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the fake provider did not start") from None
                time.sleep(0.05)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)
        output.close()


async def fake(client: httpx.AsyncClient, method: str, path: str, **kw: Any) -> Any:
    response = await client.request(method, path, timeout=60, **kw)
    response.raise_for_status()
    return response.json()


# The database side.


async def preparer(fake_url: str) -> int:
    """Migrations, a territoire configured to SMS Factor at the fake; its id."""
    from notifications.tables import ParametresNotification
    from plateforme.migrations import migrate
    from sites.tables import Territoire

    await migrate()
    territoire = Territoire(nom="Banc d'essai", kind="departement", code="99")
    await territoire.save()
    await ParametresNotification(
        territoire=territoire.id,
        expediteur="CD99",
        fournisseur_sms="smsfactor",
        cle_sms_env=CLE_ENV,
        url_sms=fake_url,
        # No quiet hours: the same figures whatever the hour the benchmark runs at.
        silence_debut=heure(8, 0),
        silence_fin=heure(8, 0),
    ).save()
    return int(territoire.id)


async def ecrire_messages(territoire_id: int, run: str) -> float:
    """MESSAGES due reminders, the rows `sortie.ecrire` writes for them, ECRITURE_LOT per
    INSERT (ecrire's own checks, one message at a time, took 8 to 10 s for 10,000); the
    seconds it took."""
    from notifications import textes
    from notifications.services import sortie
    from notifications.tables import Canal, Message, StatutMessage
    from plateforme.db import write_transaction

    await Message.raw("DELETE FROM message")
    p = await sortie.parametres(territoire_id)
    maintenant = datetime.now(UTC)
    started = time.perf_counter()
    for debut in range(0, MESSAGES, ECRITURE_LOT):
        rows = []
        for i in range(debut, min(debut + ECRITURE_LOT, MESSAGES)):
            texte = (
                "Rappel : RDV demain 14h30 a la Maison des Solidarites de Muret,"
                f" 12 av. Jacques Douzans. Deplacer ou annuler : rdv.cd99.fr/r/{i:06d}"
            )
            mesure = textes.mesurer(texte)
            rows.append(
                Message(
                    territoire=p.territoire_id,
                    canal=Canal.sms,
                    genre="rappel",
                    destinataire=f"+3361{i:07d}",
                    texte=texte,
                    cle=f"bench:{run}:{i}",
                    reference=sortie.reference(),
                    du_at=maintenant - timedelta(minutes=1),
                    expire_at=maintenant + timedelta(days=1),
                    urgent=False,
                    statut=StatutMessage.en_attente,
                    segments=mesure.segments,
                    encodage=mesure.encodage,
                )
            )
        async with write_transaction():
            await Message.insert(*rows)
    return time.perf_counter() - started


async def statuts() -> dict[str, int]:
    from notifications.tables import Message

    rows = await Message.raw("SELECT statut, count(*) AS n FROM message GROUP BY statut")
    return {row["statut"]: int(row["n"]) for row in rows}


async def references() -> set[str]:
    from notifications.tables import Message

    return {row["reference"] for row in await Message.select(Message.reference)}


async def left_over() -> list[dict[str, Any]]:
    """What was not sent, by status and last error (a run that did not drain)."""
    from notifications.tables import Message

    rows = await Message.raw(
        "SELECT statut, derniere_erreur, count(*) AS n FROM message WHERE statut != 'envoye'"
        " GROUP BY statut, derniere_erreur ORDER BY n DESC LIMIT 5"
    )
    return [dict(row) for row in rows]


# The parts of one message, alone.

PARTS = 300
HTTP_AT_ONCE = 50  # as envoi.CONCURRENCE
HTTP_ROUNDS_EACH = 10


async def parts(territoire_id: int, client: httpx.AsyncClient) -> list[dict[str, Any]]:
    """What each query and request of one message costs when nothing else runs: PARTS
    sequential calls each, wall and CPU time of this process (all its threads) per call."""
    from notifications.fournisseurs import registre
    from notifications.fournisseurs.base import MessageSortant
    from notifications.fournisseurs.registre import Config
    from notifications.services import sortie
    from notifications.tables import Message, OppositionSms
    from plateforme.db import lecture, write_transaction

    p = await sortie.parametres(territoire_id)
    if await Message.count() < PARTS:
        await ecrire_messages(territoire_id, "parts")
    ids = [row["id"] for row in await Message.select(Message.id).limit(PARTS)]
    found = []

    async def measure(name: str, block: Any) -> None:
        wall, cpu = time.perf_counter(), time.process_time()
        await block()
        found.append(
            {
                "name": name,
                "wall_ms": 1000 * (time.perf_counter() - wall) / PARTS,
                "cpu_ms": 1000 * (time.process_time() - cpu) / PARTS,
            }
        )

    async def opposition(i: int) -> None:
        await OppositionSms.exists().where(
            OppositionSms.territoire == territoire_id,
            OppositionSms.telephone == f"+3361{i:07d}",
        )

    async def update(row_id: int) -> None:
        await Message.update({Message.derniere_erreur: ""}).where(Message.id == row_id)

    async def exists_alone() -> None:
        for i in range(PARTS):
            await opposition(i)

    async def exists_shared() -> None:
        async with lecture():
            for i in range(PARTS):
                await opposition(i)

    async def updates_alone() -> None:
        for row_id in ids:
            await update(row_id)

    async def updates_shared() -> None:
        async with write_transaction():
            for row_id in ids:
                await update(row_id)

    await fake(client, "POST", "/_fake/reinitialiser")
    fournisseur = registre.pour(p, "sms")

    async def sends() -> None:
        for i in range(PARTS):
            await fournisseur.envoyer(
                MessageSortant(f"parts-{i}", f"+3361{i:07d}", "Rappel", p.expediteur)
            )

    await sends()  # warm-up: the connection, the imports
    await fake(client, "POST", "/_fake/reinitialiser")
    await measure("`OppositionSms.exists()`, each query on its own", exists_alone)
    await measure("the same queries, in one `lecture()`", exists_shared)
    await measure("UPDATE of one message, each on its own", updates_alone)
    await measure("the same UPDATEs, in one `write_transaction()`", updates_shared)
    await measure("HTTP send (`SmsFactor.envoyer`), provider answering at once", sends)
    await fake(client, "POST", "/_fake/reinitialiser")

    # Rounds of sends at once at the programmed latency, as traiter_lot keeps them in
    # flight: from one HTTP client keeping them all alive, or from the worker's own clients
    # taken in turn (a provider built per send, as `registre.pour` does for each message).
    await fake(client, "POST", "/_fake/programmer", json={"latence": LATENCE})
    config = Config(nom="smsfactor", url=str(client.base_url), cle_env=CLE_ENV)
    seul = httpx.Limits(max_connections=HTTP_AT_ONCE, max_keepalive_connections=HTTP_AT_ONCE)
    for http, how in (
        (
            httpx.AsyncClient(timeout=10.0, limits=seul),
            f"one client keeping {HTTP_AT_ONCE} connections alive",
        ),
        (
            None,
            f"the worker's {registre.CLIENTS} clients keeping"
            f" {registre.CONNEXIONS_PAR_CLIENT} each, in turn",
        ),
    ):

        async def one_round(number: int, http: httpx.AsyncClient | None = http) -> None:
            await asyncio.gather(
                *(
                    registre.sms(config, client=http).envoyer(
                        MessageSortant(
                            f"round-{number}-{i}", f"+3361{i:07d}", "Rappel", p.expediteur
                        )
                    )
                    for i in range(HTTP_AT_ONCE)
                )
            )

        await one_round(-1)  # the connections
        wall, cpu = time.perf_counter(), time.process_time()
        for number in range(HTTP_ROUNDS_EACH):
            await one_round(number)
        found.append(
            {
                "name": f"{HTTP_AT_ONCE} HTTP sends at once at {LATENCE * 1000:g} ms, from {how}"
                ": per round (wall), per send (CPU)",
                "wall_ms": 1000 * (time.perf_counter() - wall) / HTTP_ROUNDS_EACH,
                "cpu_ms": 1000 * (time.process_time() - cpu) / (HTTP_ROUNDS_EACH * HTTP_AT_ONCE),
            }
        )
        if http is not None:
            await http.aclose()
    await registre.fermer_clients()
    await fake(client, "POST", "/_fake/reinitialiser")
    return found


# One run of a scenario.


def start_workers(scenario: Scenario, env: dict[str, str], workdir: Path, tag: str) -> list[Any]:
    processes = []
    for number in range(scenario.workers):
        output = workdir / f"timings-{tag}-{number}.json"
        log = (workdir / f"worker-{tag}-{number}.log").open("w")
        processes.append(
            (
                subprocess.Popen(
                    scenario.command(output),
                    cwd=database.ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                ),
                output,
                log,
            )
        )
    return processes


def stop_workers(processes: list[Any], sig: int = signal.SIGTERM) -> None:
    for process, _, _ in processes:
        if process.poll() is None:
            process.send_signal(sig)
    for process, _, log in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


async def one_run(
    scenario: Scenario,
    territoire_id: int,
    client: httpx.AsyncClient,
    fake_pid: int,
    workdir: Path,
    tag: str,
) -> dict[str, Any]:
    await fake(client, "POST", "/_fake/reinitialiser")
    await fake(client, "POST", "/_fake/programmer", json={"latence": scenario.latence})
    written = await ecrire_messages(territoire_id, tag)
    env = {**os.environ, "LOG_LEVEL": "WARNING", CLE_ENV: _cle_du_faux()}
    env["SMS_URLS_AUTORISEES"] = str(client.base_url).rstrip("/")
    if scenario.kill:
        env["OUTBOX_BAIL_SECONDES"] = str(BAIL)
    result: dict[str, Any] = {"write_seconds": written}
    worker_cpu: dict[int, float] = {}
    fake_cpu, (busy, total) = cpu_seconds(fake_pid), machine_ticks()
    started = time.monotonic()
    processes = start_workers(scenario, env, workdir, tag)
    first_sent: float | None = None
    last_sent, last_progress = -1, started
    killed = False
    everything: list[Any] = list(processes)
    try:
        while True:
            for process, _, _ in processes:
                worker_cpu[process.pid] = max(
                    worker_cpu.get(process.pid, 0.0), cpu_seconds(process.pid)
                )
            counts = await statuts()
            now = time.monotonic()
            sent = counts.get("envoye", 0)
            if first_sent is None and sent:
                first_sent = now - started
            if sent != last_sent:
                last_sent, last_progress = sent, now
            if sent >= MESSAGES:
                result["seconds"] = now - started
                break
            if now - started > TIMEOUT or now - last_progress > STALL:
                result["seconds"] = None
                break
            # Mid-round: with messages claimed (some perhaps at the provider already).
            in_flight = counts.get("en_cours", 0)
            if scenario.kill and not killed and sent >= MESSAGES // 2 and in_flight:
                stop_workers(processes, signal.SIGKILL)
                killed = True
                at_kill = await statuts()
                etat = await fake(client, "GET", "/_fake/etat")
                result["kill"] = {
                    "at_seconds": time.monotonic() - started,
                    "sent": at_kill.get("envoye", 0),
                    "in_flight": at_kill.get("en_cours", 0),
                    "received": len(etat["recus"]),
                }
                processes = start_workers(scenario, env, workdir, tag + "-restart")
                everything += processes
                result["kill"]["restarted_at"] = time.monotonic() - started
                continue
            await asyncio.sleep(0.1)
    finally:
        for process, _, _ in processes:
            worker_cpu[process.pid] = max(
                worker_cpu.get(process.pid, 0.0), cpu_seconds(process.pid)
            )
        elapsed = time.monotonic() - started
        busy_after, total_after = machine_ticks()
        fake_after = cpu_seconds(fake_pid)
        stop_workers(processes)
    etat = await fake(client, "GET", "/_fake/etat")
    received = [r["reference"] for r in etat["recus"]]
    ours = await references()
    counts = await statuts()
    result.update(
        first_sent_seconds=first_sent,
        statuses=counts,
        received=len(received),
        unique_received=len(set(received)),
        duplicates=sum(n - 1 for n in etat["doublons"].values()),
        never_received=len(ours - set(received)),
        requests=etat["requetes"],
        lookups=etat["requetes"] - len(received),
        worker_cpu_seconds=sum(worker_cpu.values()),
        fake_cpu_seconds=fake_after - fake_cpu,
        elapsed=elapsed,
        machine_cpu=100 * (busy_after - busy) / max(1, total_after - total),
        errors=_errors(everything),
        left=await left_over(),
    )
    result["worker_cpu"] = 100 * result["worker_cpu_seconds"] / elapsed
    timings = [json.loads(out.read_text()) for _, out, _ in everything if out.exists()]
    if timings:
        result["timings"] = timings
    return result


def _cle_du_faux() -> str:
    from tests.fakes.fournisseur_sms import CLE_SMSFACTOR

    return CLE_SMSFACTOR


def _errors(processes: list[Any]) -> dict[str, int]:
    found: dict[str, int] = {}
    for _, _, log in processes:
        for name, n in server.errors_logged(Path(log.name)).items():
            found[name] = found.get(name, 0) + n
    return found


def _workdir(stack: contextlib.ExitStack) -> Path:
    """Where the logs and timings go: BENCH_NOTIFICATIONS_KEEP (kept), else a temp dir."""
    keep = os.environ.get("BENCH_NOTIFICATIONS_KEEP")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        return Path(keep)
    return Path(stack.enter_context(tempfile.TemporaryDirectory()))


async def bench(calls: int, runs: int) -> dict[str, Any]:
    from plateforme import db
    from plateforme.settings import get_settings

    del calls  # the 10,000 messages
    runs = min(runs, RUNS_MAX)
    load_before = machine.load_average()
    started = time.monotonic()
    results: dict[str, list[dict[str, Any]]] = {}
    with contextlib.ExitStack() as stack:
        workdir = _workdir(stack)
        url, fake_pid = stack.enter_context(fake_provider(workdir / "fake.log"))
        territoire_id = await preparer(url)
        await db.start(get_settings())
        try:
            engine = await runner.engine_version()
            label = engine.split()[0]
            async with httpx.AsyncClient(base_url=url) as client:
                for number in range(runs):
                    # Taking turns, each in a different position per run.
                    shift = number % max(1, len(PRODUCTION))
                    for scenario in PRODUCTION[shift:] + PRODUCTION[:shift]:
                        tag = f"p{number}-{PRODUCTION.index(scenario)}"
                        run = await one_run(scenario, territoire_id, client, fake_pid, workdir, tag)
                        results.setdefault(scenario.name, []).append(run)
                        _progress(label, f"run {number + 1}/{runs}, {scenario.name}: {_brief(run)}")
                os.environ[CLE_ENV] = _cle_du_faux()
                os.environ["SMS_URLS_AUTORISEES"] = "http://127.0.0.1:"
                found_parts = await parts(territoire_id, client) if ONLY in ("", "parts") else []
                explored = [s for s in EXPLORATION if s.sqlite or label != "SQLite"]
                for index, scenario in enumerate(explored):
                    run = await one_run(
                        scenario, territoire_id, client, fake_pid, workdir, f"e{index}"
                    )
                    results.setdefault(scenario.name, []).append(run)
                    _progress(label, f"exploration, {scenario.name}: {_brief(run)}")
        finally:
            await db.stop()
    return {
        "engine": engine,
        "server": "the outbox's fake SMS provider: http.server, a thread per connection",
        "messages": MESSAGES,
        "latence": LATENCE,
        "runs": runs,
        "seconds": time.monotonic() - started,
        "parts": found_parts,
        "load_average": [load_before, machine.load_average()],
        "neighbours": machine.other_benchmarks_or_tests(),
        "scenarios": [
            {
                "name": s.name,
                "command": s.shown(),
                "workers": s.workers,
                "kill": s.kill,
                "latence": s.latence,
                "production": s in PRODUCTION,
                "runs": results[s.name],
            }
            for s in PRODUCTION + EXPLORATION
            if s.name in results
        ],
    }


def _brief(run: dict[str, Any]) -> str:
    seconds = "not drained" if run["seconds"] is None else f"{run['seconds']:.1f} s"
    return (
        f"{seconds}, {run['received']} received, {run['duplicates']} duplicates,"
        f" worker CPU {run['worker_cpu']:.0f} %, machine {run['machine_cpu']:.0f} %"
    )


# The report.

ABOUT = """\
The issue: "10,000 due reminders against the local provider server answering in 50 ms:
time to drain (target under {target:g} s on this 2-core machine), duplicates (must be 0),
and the same after a SIGKILL at the half". A territoire is configured to SMS Factor
(`ParametresNotification`: provider `smsfactor`, the fake's URL, allowed by
`SMS_URLS_AUTORISEES`, and the name `{cle_env}` of the variable holding the key) at the
fake provider of the tests in a process of its own (`tests/fakes/fournisseur_sms.py`, a
real HTTP server on 127.0.0.1 with a thread per connection), which answers every API
request after {latence_ms:g} ms. Before each run, {messages:,} due SMS reminders are
written (the rows `sortie.ecrire` writes, {lot:,} per INSERT; quiet hours off for this
territoire, so that the hour of the run does not matter) and the fake is reset. The clock
starts when the worker process(es) are spawned (their start-up included) and stops when a
poll of the database (every 0.1 s) finds all {messages:,} rows `envoye`. Then the fake's
counts are read: messages received, references received more than once (duplicates), our
references never received, and the requests that were not sends (look-ups of the
reconciliation).

**Production** ({runs} runs each, taking turns): the worker as it runs in production,
`python -m plateforme envoyer --intervalle {intervalle:g}`, one process. With its defaults
(`notifications/services/envoi.py`) each `traiter_lot` keeps up to `CONCURRENCE` = 50
sends in flight, claiming messages as places free (a quarter of them at a time, just
before they are sent) and writing the results of the sends finished so far in the
transaction of the next claim, up to `LOT` = 1,000 messages; `tour()` runs batches back
to back while they come full, and the loop sleeps {intervalle:g} s only after a short
one. The providers take in turn 10 HTTP clients keeping 5 connections alive each
(`registre.client_http()`). SIGKILL: the worker runs with
`OUTBOX_BAIL_SECONDES={bail}` (instead of 120 s), is killed with SIGKILL as soon as a poll
sees half the messages sent and some claimed (`en_cours`, sends in flight), and
restarted at once with the same command; the messages
the dead process had claimed are reconciled by the new one once their {bail} s lease has
passed (looked up at the provider by reference, then marked sent or given back to the
queue).

**Exploration** (one run each): two worker processes side by side, and the bench-only
loop `bench/_notifications_worker.py`, which calls `traiter_lot(limite=, concurrence=)`
as the CLI does, may install one HTTP client for all the providers instead
(`registre.utiliser_client`), and times the claims, each message (`_un`) and its HTTP
send by wrapping them in its own process; the application's code is unchanged.

CPU: the worker processes' (user + system, in % of one core, summed over the processes)
and the whole machine's (in % of its {cores} cores) over the drain. The fake, the database
and whatever else runs on the machine share the same 2 cores."""


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.1f}" if values else "—"


def _spread(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}" if values else "—"


def section(results: list[dict[str, Any]]) -> Iterator[str]:
    first = results[0]
    yield ABOUT.format(
        target=TARGET_SECONDS,
        cle_env=CLE_ENV,
        latence_ms=first["latence"] * 1000,
        messages=first["messages"],
        lot=ECRITURE_LOT,
        runs=first["runs"],
        intervalle=INTERVALLE,
        bail=BAIL,
        cores=os.cpu_count(),
    )
    for result in results:
        yield from ["", f"### {result['engine']}", ""]
        yield (
            f"Measured in {result['seconds']:.0f} s; load average {result['load_average'][0]}"
            f" before, {result['load_average'][1]} after"
            + (
                "; **pytest was running alongside**"
                if result["neighbours"]
                else "; no pytest process seen alongside"
            )
            + "."
        )
        yield ""
        yield (
            "| Scenario | Worker(s) | Runs | Drain, s: median (spread) | First sent, s"
            " | Received | Duplicates | Never received | Look-ups | Worker CPU | Machine CPU"
            " | Target |"
        )
        yield "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|"
        for scenario in result["scenarios"]:
            yield _row(scenario, first["latence"])
        yield from _kills(result)
        yield from _parts(result)
        yield from _timings(result)
        yield from _problems(result)
    yield from _analysis(results)


def _row(scenario: dict[str, Any], latence: float) -> str:
    runs = scenario["runs"]
    drained = [r["seconds"] for r in runs if r["seconds"] is not None]
    failed = len(runs) - len(drained)
    time_text = f"{_median(drained)} ({_spread(drained)})" if drained else "—"
    if failed:
        time_text += f", **{failed} not drained**"
    firsts = [r["first_sent_seconds"] for r in runs if r["first_sent_seconds"]]
    duplicates = sum(r["duplicates"] for r in runs)
    missing = sum(r["never_received"] for r in runs)
    name = scenario["name"]
    if scenario["latence"] != latence:
        name += f" (provider at {scenario['latence'] * 1000:g} ms)"
    if not scenario["production"]:
        name = f"exploration: {name}"
    received = "/".join(f"{r['received']:,}" for r in runs)
    return (
        f"| {name} | `{scenario['command']}` × {scenario['workers']} | {len(runs)}"
        f" | {time_text} | {_median(firsts)}"
        f" | {received}"
        f" | {'**' + str(duplicates) + '**' if duplicates else 0}"
        f" | {'**' + str(missing) + '**' if missing else 0}"
        f" | {'/'.join(str(r['lookups']) for r in runs)}"
        f" | {_median([r['worker_cpu'] for r in runs])} %"
        f" | {_median([r['machine_cpu'] for r in runs])} %"
        f" | {_target_text(scenario)} |"
    )


def _kills(result: dict[str, Any]) -> Iterator[str]:
    kills = [
        (scenario["name"], run["kill"], run)
        for scenario in result["scenarios"]
        for run in scenario["runs"]
        if "kill" in run
    ]
    if not kills:
        return
    yield ""
    yield "At each SIGKILL, then after the restart:"
    yield ""
    for name, kill, run in kills:
        yield (
            f"- {name}: killed {kill['at_seconds']:.1f} s after the start with"
            f" {kill['sent']:,} rows `envoye` and {kill['in_flight']} `en_cours`, the fake"
            f" having received {kill['received']:,} ({kill['received'] - kill['sent']}"
            f" received but not yet recorded as sent); all sent after"
            + (f" {run['seconds']:.1f} s" if run["seconds"] is not None else " — not drained")
            + f", {run['lookups']} look-ups, {run['duplicates']} duplicates."
        )


def _parts(result: dict[str, Any]) -> Iterator[str]:
    if not result.get("parts"):
        return
    yield ""
    yield (
        f"The parts of one message, in the benchmark's process after the runs: {PARTS}"
        " sequential calls of each, then rounds of sends at once (as `traiter_lot` sends"
        f" them, {HTTP_ROUNDS_EACH} rounds each); CPU of all the process's threads:"
    )
    yield ""
    yield "| Part | Wall, ms per call (per round) | CPU, ms per call (per send) |"
    yield "|---|--:|--:|"
    for part in result["parts"]:
        yield f"| {part['name']} | {part['wall_ms']:.2f} | {part['cpu_ms']:.2f} |"


def _timings(result: dict[str, Any]) -> Iterator[str]:
    rows = []
    for scenario in result["scenarios"]:
        for run in scenario["runs"]:
            for timing in run.get("timings", []):
                rows.append((scenario["name"], timing))
    if not rows:
        return
    yield ""
    yield (
        "Where the bench-only loop's time went (per process: seconds summed; per message in"
        " ms, as awaited, so including the waits for the event loop, which runs up to"
        " CONCURRENCE of them at once; `_un` is one message from its claim to its result"
        " kept for writing, the HTTP send included):"
    )
    yield ""
    yield (
        "| Scenario | Batches | Claims | In `traiter_lot` | Claims + results written"
        " | Pauses | `_un` per message | HTTP send | `_un` − send |"
    )
    yield "|---|--:|--:|--:|--:|--:|--:|--:|--:|"
    for name, timing in rows:
        t = timing["timings"]

        def total(key: str, t: dict[str, Any] = t) -> float:
            return float(t.get(key, {}).get("seconds", 0.0))

        def per(key: str, t: dict[str, Any] = t) -> float:
            entry = t.get(key, {})
            return 1000 * entry.get("seconds", 0.0) / max(1, entry.get("count", 0))

        un, send = per("one message (_un)"), per("HTTP send (SmsFactor.envoyer)")
        yield (
            f"| {name} | {timing['batches']} | {timing.get('rounds', '—')}"
            f" | {total('batch (traiter_lot)'):.1f} s"
            f" | {total('claim + results (_reclamer_et_ecrire)'):.1f} s"
            f" | {total('pause'):.1f} s | {un:.1f} | {send:.1f} | {un - send:.1f} |"
        )


def _problems(result: dict[str, Any]) -> Iterator[str]:
    errors: dict[str, int] = {}
    left = []
    for scenario in result["scenarios"]:
        for run in scenario["runs"]:
            for name, n in run["errors"].items():
                errors[name] = errors.get(name, 0) + n
            if run["seconds"] is None:
                left.append((scenario["name"], run.get("left", [])))
    yield ""
    yield (
        "Errors logged by the workers: "
        + (", ".join(f"{n} × `{name}`" for name, n in errors.items()) or "none")
        + f". Writing the {result['messages']:,} messages took"
        f" {_median([r['write_seconds'] for s in result['scenarios'] for r in s['runs']])} s"
        " (median; not in the drain time)."
    )
    for name, rows in left:
        what = "; ".join(
            f"{row['n']} `{row['statut']}` ({row['derniere_erreur'][:120] or 'no error'})"
            for row in rows
        )
        yield ""
        yield f"Not drained ({name}): {what or 'nothing left, the poll gave up'}."


def _drain(result: dict[str, Any] | None, name: str) -> float | None:
    """The median drain of a scenario of a result, None when it did not run or drain."""
    for scenario in (result or {}).get("scenarios", []):
        drained = [r["seconds"] for r in scenario["runs"] if r["seconds"] is not None]
        if scenario["name"] == name and drained:
            return float(statistics.median(drained))
    return None


def _busy(result: dict[str, Any] | None, name: str) -> str:
    """ ", the machine N % busy" over that scenario's runs, when it ran."""
    for scenario in (result or {}).get("scenarios", []):
        if scenario["name"] == name:
            busy = statistics.median(r["machine_cpu"] for r in scenario["runs"])
            return f", the machine {busy:.0f} % busy"
    return ""


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f} s"


def _ms(part: dict[str, float] | None, key: str) -> str:
    return "—" if part is None else f"{part[key]:.2f} ms"


def _analysis(results: list[dict[str, Any]]) -> Iterator[str]:
    """What sets the pace, from the figures above."""
    by_engine = {r["engine"].split()[0]: r for r in results}
    lite, pg = by_engine.get("SQLite"), by_engine.get("PostgreSQL")
    n = results[0]["messages"]
    floor = n / 50 * LATENCE
    at_once, two = (
        "as the CLI, provider answering at once",
        "2 workers side by side",
    )
    single = "as the CLI, one HTTP client keeping 50 connections alive"
    r1 = next(
        (p for r in results for p in r.get("parts", []) if "one client keeping" in p["name"]),
        None,
    )
    r10 = next(
        (p for r in results for p in r.get("parts", []) if "the worker's" in p["name"]), None
    )
    duplicates = sum(
        run["duplicates"] + run["never_received"]
        for r in results
        for scenario in r["scenarios"]
        for run in scenario["runs"]
    )
    yield from [
        "",
        "### What sets the pace",
        "",
        f"- **The floor** is {n:,} sends × {LATENCE * 1000:g} ms / 50 in flight ="
        f" {floor:.0f} s. With the provider answering at once the worker drained in"
        f" {_s(_drain(pg, at_once))} on PostgreSQL and {_s(_drain(lite, at_once))} on SQLite:"
        " that is its own CPU, one core's worth.",
        f"- **The HTTP client** is most of that CPU: {_ms(r10, 'cpu_ms')} per send with 50 sends"
        f" at once from 10 clients of 5 connections, {_ms(r1, 'cpu_ms')} from one client"
        " keeping 50 (httpcore walks its whole pool for each connection at every request and"
        " release, encode/httpcore#1035). The whole worker with one such client drained in"
        f" {_s(_drain(pg, single))} on PostgreSQL and {_s(_drain(lite, single))} on SQLite.",
        "- **The database** is a few transactions a second: the claims and the results go"
        " together, a quarter of the places at a time, the sent ones as one UPDATE per claim"
        " and provider. Two workers side by side drained in"
        f" {_s(_drain(pg, two))}{_busy(pg, two)} on PostgreSQL, {_s(_drain(lite, two))}"
        f"{_busy(lite, two)} on SQLite (one file, one writer at a time).",
        "- **The SIGKILL**: the messages in flight at the kill (up to 50) stay claimed; once"
        f" their lease has passed (OUTBOX_BAIL_SECONDES={BAIL} here, 120 s by default) the new"
        " process looks each up at the provider by our reference (the look-ups above), marks"
        " sent those it got, and sends the rest; "
        + (
            f"**{duplicates} messages were received twice or never**."
            if duplicates
            else "no message was received twice, nor lost."
        ),
    ]


def _target_text(scenario: dict[str, Any]) -> str:
    if not scenario["production"]:
        return "—"
    return "met" if _met(scenario) else "**not met**"


def _met(scenario: dict[str, Any]) -> bool:
    runs = scenario["runs"]
    drained = [r["seconds"] for r in runs]
    return (
        all(s is not None for s in drained)
        and statistics.median(drained) < TARGET_SECONDS
        and all(r["duplicates"] == 0 and r["never_received"] == 0 for r in runs)
    )


def targets(result: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for scenario in result["scenarios"]:
        if not scenario["production"]:
            continue
        runs = scenario["runs"]
        drained = [r["seconds"] for r in runs if r["seconds"] is not None]
        duplicates = sum(r["duplicates"] for r in runs)
        missing = sum(r["never_received"] for r in runs)
        yield {
            "benchmark": f"drain {result['messages']:,} SMS at {result['latence'] * 1000:g} ms,"
            f" {scenario['name']}",
            "engine": result["engine"],
            "target": f"median < {TARGET_SECONDS:g} s, 0 duplicates, none lost",
            "measured": (f"{statistics.median(drained):.1f} s" if drained else "not drained")
            + f", {duplicates} duplicates, {missing} never received",
            "met": _met(scenario),
        }


if __name__ == "__main__":
    runner.main("bench.notifications", bench)
