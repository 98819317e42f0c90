"""The outbox worker: claim due messages, send them, record what happened.

Each run (every few seconds, from the scheduler, on any number of processes):

1. Expire what can no longer be useful (`expire_at` past: the rdv has begun).
2. Reconcile messages claimed by a worker that died mid-send (`en_cours` for
   longer than `bail()`): the provider is asked, by our reference, whether it got
   the message. If it did, the message is marked sent, not sent again; if it did
   not, it goes back to the queue; if the provider cannot tell (`NonVerifiable`),
   it goes back to the queue too, and the provider's own de-duplication of our
   reference (when it has one) is what prevents a double SMS: see each
   provider's docstring for what it lets us know.
3. Claim due messages atomically — one conditional UPDATE ... RETURNING, over
   `FOR UPDATE SKIP LOCKED` rows on PostgreSQL, inside an IMMEDIATE transaction
   on SQLite — so that two workers never claim the same row. SMS to a number that
   replied STOP since the message was written are cancelled in the same transaction.
4. Send them concurrently, keeping up to `concurrence` sends in flight: a message is
   claimed only when a place frees, just before it is sent, so that its claim is never
   older than one send's timeout (far less than the lease). Each result is recorded with
   an UPDATE conditional on our claim — sent; retried later with exponential backoff (or
   the provider's Retry-After) on errors that may pass; failed for good on final errors
   or after `TENTATIVES_MAX` tries — in the transaction of the next claim: a few
   transactions a second instead of several per message. A worker killed before it
   recorded a result leaves the message claimed, and step 2 asks the provider about it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from notifications.fournisseurs.base import (
    ErreurDefinitive,
    ErreurFournisseur,
    ErreurTemporaire,
    MessageSortant,
    NonVerifiable,
    Resultat,
    masquer,
)
from notifications.services import sortie
from notifications.tables import Canal, Message, OppositionSms, StatutMessage
from plateforme.db import is_sqlite, marques, write_transaction
from plateforme.settings import get_settings

logger = logging.getLogger(__name__)


def bail() -> timedelta:
    """A claim older than this belongs to a worker that died: its messages are reconciled
    (OUTBOX_BAIL_SECONDES, two minutes by default: longer than any send's timeouts)."""
    return timedelta(seconds=get_settings().outbox_bail_secondes)


TENTATIVES_MAX = 20
BACKOFF_BASE = 30.0
BACKOFF_MAX = 3600.0
LOT = 1000
CONCURRENCE = 50

Fournisseur = Any
Resolveur = Callable[[sortie.Parametres, str], Awaitable[Fournisseur]]


def backoff(tentatives: int, *, retry_after: float | None = None) -> float:
    """Seconds before the next try: the provider's Retry-After, else 30 s doubling up to 1 h,
    with ±20 % jitter so that a provider coming back is not hit by every worker at once."""
    if retry_after is not None and retry_after >= 0:
        return float(min(retry_after, BACKOFF_MAX))
    delai = min(BACKOFF_BASE * float(2 ** max(tentatives - 1, 0)), BACKOFF_MAX)
    return delai * random.uniform(0.8, 1.2)


@dataclass
class Rapport:
    reclames: int = 0
    envoyes: int = 0
    reessais: int = 0
    echecs: int = 0
    expires: int = 0
    reconcilies: int = 0
    annules: int = 0
    erreurs: list[str] = field(default_factory=list)


async def _resoudre_defaut(p: sortie.Parametres, canal: str) -> Fournisseur:
    from notifications.fournisseurs import registre

    return registre.pour(p, canal)


def _sortant(row: dict[str, Any], p: sortie.Parametres) -> MessageSortant:
    pieces: tuple[tuple[str, str, bytes], ...] = ()
    if row["ics"]:
        pieces = (("rdv.ics", "text/calendar; method=REQUEST", row["ics"].encode()),)
    expediteur = p.expediteur if row["canal"] == Canal.sms else p.email_expediteur
    return MessageSortant(
        reference=row["reference"],
        destinataire=row["destinataire"],
        texte=row["texte"],
        expediteur=expediteur,
        sujet=row["sujet"],
        pieces_jointes=pieces,
    )


async def expirer(maintenant: datetime) -> int:
    async with write_transaction():
        rows = (
            await Message.update(
                {Message.statut: StatutMessage.expire, Message.derniere_erreur: "expiré"}
            )
            .where(
                Message.statut == StatutMessage.en_attente,
                Message.expire_at.is_not_null(),
                Message.expire_at <= maintenant,
            )
            .returning(Message.id)
        )
    return len(rows)


def _sql_reclamer(limite: int) -> str:
    skip_locked = "" if is_sqlite() else " FOR UPDATE SKIP LOCKED"
    return (
        "UPDATE message SET statut = 'en_cours', verrou_at = {}, tentatives = tentatives + 1 "
        "WHERE id IN (SELECT id FROM message WHERE statut = 'en_attente' AND du_at <= {} "
        f"ORDER BY du_at LIMIT {int(limite)}{skip_locked}) "
        "RETURNING id, territoire, canal, genre, destinataire, sujet, texte, ics, reference, "
        "tentatives, urgent, verrou_at, segments, a_verifier, expire_at"
    )


async def reclamer(maintenant: datetime, limite: int = LOT) -> list[dict[str, Any]]:
    """Claim due messages for this worker; nobody else can claim them until `bail()` passes."""
    # Piccolo's SQLite adapter stores datetimes as UTC ISO strings, as the columns are.
    async with write_transaction():
        return list(await Message.raw(_sql_reclamer(limite), maintenant, maintenant))


# A claim's instant, a provider, the segments it billed; a message id, its id at the
# provider, when it was sent.
_Groupe = tuple[datetime, str, int | None]
_Envoye = tuple[int, str | None, datetime]


def _a_nous(row: dict[str, Any]) -> Any:
    """Still our claim: updates of a worker whose lease ran out (and whose message another
    worker took over) change nothing."""
    return (
        (Message.id == row["id"])
        & (Message.statut == StatutMessage.en_cours)
        & (Message.verrou_at == row["verrou"])
    )


class Ecritures:
    """Results of sends waiting to be recorded, each conditional on our claim. `ecrire()`
    writes them inside the caller's transaction (the next claim's), and `ecrits()`, once
    that transaction has committed, forgets them: if it fails they are written by the next
    one (each UPDATE is conditional on the claim, so a second write changes nothing). Most
    results are "sent": those of one claim and one provider are one UPDATE."""

    def __init__(self) -> None:
        self._autres: list[tuple[dict[str, Any], dict[Any, Any]]] = []
        self._envoyes: dict[_Groupe, list[_Envoye]] = {}
        self._ecrits: tuple[int, dict[_Groupe, int]] = (0, {})

    def __len__(self) -> int:
        return len(self._autres) + sum(len(v) for v in self._envoyes.values())

    def ajouter(self, row: dict[str, Any], values: dict[Any, Any]) -> None:
        self._autres.append((row, values))

    def envoye(self, row: dict[str, Any], fournisseur: str, resultat: Resultat) -> None:
        """Sent now: kept as its claim, provider and billed segments, id at the provider."""
        cle = (row["verrou"], fournisseur, resultat.segments or None)
        self._envoyes.setdefault(cle, []).append(
            (row["id"], resultat.fournisseur_id, datetime.now(UTC))
        )

    async def ecrire(self) -> None:
        # Sends that end meanwhile only append: what is written is this prefix of each list.
        autres = list(self._autres)
        envoyes = {cle: list(messages) for cle, messages in self._envoyes.items()}
        self._ecrits = (len(autres), {cle: len(messages) for cle, messages in envoyes.items()})
        for (verrou, fournisseur, segments), messages in envoyes.items():
            for debut in range(0, len(messages), 500):
                await _ecrire_envoyes(verrou, fournisseur, segments, messages[debut : debut + 500])
        for row, values in autres:
            await Message.update(values).where(_a_nous(row))

    def ecrits(self) -> None:
        """The transaction of the last `ecrire()` committed."""
        autres, envoyes = self._ecrits
        self._ecrits = (0, {})
        del self._autres[:autres]
        for cle, nombre in envoyes.items():
            del self._envoyes[cle][:nombre]
            if not self._envoyes[cle]:
                del self._envoyes[cle]


async def _enregistrer(ecritures: Ecritures) -> None:
    """The results so far, in a transaction of their own."""
    async with write_transaction():
        await ecritures.ecrire()
    ecritures.ecrits()


async def _ecrire_envoyes(
    verrou: datetime, fournisseur: str, segments: int | None, messages: list[_Envoye]
) -> None:
    """One UPDATE for messages sent under one claim by one provider, conditional on the
    claim."""
    horodatage = "{}" if is_sqlite() else "CAST({} AS TIMESTAMPTZ)"
    ids = marques(messages)
    cas = " ".join("WHEN {} THEN {}" for _ in messages)
    quand = " ".join(f"WHEN {{}} THEN {horodatage}" for _ in messages)
    segments_sql = "segments = {}, " if segments else ""
    # A delivery report may have come first (`delivre`): it stays so, with the rest filled.
    sql = (
        "UPDATE message SET statut = CASE statut WHEN 'en_cours' THEN 'envoye' ELSE statut END, "
        f"fournisseur = {{}}, derniere_erreur = '', a_verifier = FALSE, {segments_sql}"
        f"fournisseur_id = CASE id {cas} END, envoye_at = CASE id {quand} END "
        f"WHERE id IN ({ids}) AND statut IN ('en_cours', 'delivre') AND verrou_at = {{}}"
    )
    valeurs: list[Any] = [fournisseur]
    if segments:
        valeurs.append(segments)
    for identifiant, fournisseur_id, _ in messages:
        valeurs += [identifiant, fournisseur_id]
    for identifiant, _, at in messages:
        valeurs += [identifiant, at]
    valeurs += [identifiant for identifiant, _, _ in messages]
    valeurs.append(verrou)
    await Message.raw(sql, *valeurs)


def _liberer(
    du_at: datetime,
    erreur: str = "",
    *,
    a_verifier: bool | None = None,
    essai_compte: bool = True,
) -> dict[Any, Any]:
    """Give a claimed message back to the queue (retry later, quiet hours)."""
    values: dict[Any, Any] = {Message.statut: StatutMessage.en_attente, Message.du_at: du_at}
    if a_verifier is not None:
        values[Message.a_verifier] = a_verifier
    if erreur:
        values[Message.derniere_erreur] = erreur[:1000]
    if not essai_compte:
        # Held back (quiet hours) without reaching the provider: not a try.
        values[Message.tentatives] = Message.tentatives - 1
    return values


def _echec(fournisseur: str, erreur: str) -> dict[Any, Any]:
    return {
        Message.statut: StatutMessage.echec,
        Message.fournisseur: fournisseur,
        Message.derniere_erreur: erreur[:1000],
    }


async def _parametres(territoire: int, cache: dict[int, sortie.Parametres]) -> sortie.Parametres:
    if territoire not in cache:
        cache[territoire] = await sortie.parametres(territoire)
    return cache[territoire]


async def _un(
    row: dict[str, Any],
    resoudre: Resolveur,
    rapport: Rapport,
    maintenant: datetime,
    cache: dict[int, sortie.Parametres],
    ecritures: Ecritures,
) -> None:
    """Send one claimed message; its result goes to `ecritures`."""
    p = await _parametres(row["territoire"], cache)
    if not row["urgent"] and sortie.en_silence(maintenant, p):
        ecritures.ajouter(row, _liberer(sortie.fin_du_silence(maintenant, p), essai_compte=False))
        return
    fournisseur = await resoudre(p, row["canal"])
    sortant = _sortant(row, p)
    if row["a_verifier"]:
        # The last try may have reached the provider: ask before sending again.
        try:
            deja = await fournisseur.retrouver(sortant)
        except NonVerifiable:
            deja = None
        except ErreurFournisseur as error:
            delai = backoff(row["tentatives"])
            ecritures.ajouter(row, _liberer(maintenant + timedelta(seconds=delai), str(error)))
            rapport.reessais += 1
            return
        if deja is not None:
            ecritures.envoye(row, fournisseur.nom, deja)
            rapport.reconcilies += 1
            return
    try:
        resultat = await fournisseur.envoyer(sortant)
    except ErreurTemporaire as error:
        # A message that expires (an rdv's) waits for its provider until then; one that
        # does not (a queue's SMS) is given up after TENTATIVES_MAX tries.
        if row["expire_at"] is None and row["tentatives"] >= TENTATIVES_MAX:
            abandon = f"abandon après {row['tentatives']} essais : {error}"
            ecritures.ajouter(row, _echec(fournisseur.nom, abandon))
            rapport.echecs += 1
            return
        delai = backoff(row["tentatives"], retry_after=error.retry_after)
        incertain = bool(row["a_verifier"] or getattr(error, "incertain", False))
        ecritures.ajouter(
            row,
            _liberer(maintenant + timedelta(seconds=delai), str(error), a_verifier=incertain),
        )
        rapport.reessais += 1
        logger.info(
            "message %s vers %s : erreur passagère (%s), nouvel essai dans %.0f s",
            row["reference"],
            masquer(row["destinataire"]),
            error,
            delai,
        )
        return
    except ErreurDefinitive as error:
        ecritures.ajouter(row, _echec(fournisseur.nom, str(error)))
        rapport.echecs += 1
        logger.warning(
            "message %s vers %s : échec définitif (%s)",
            row["reference"],
            masquer(row["destinataire"]),
            error,
        )
        return
    ecritures.envoye(row, fournisseur.nom, resultat)
    rapport.envoyes += 1


async def _sans_opposition(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cancel, in the caller's transaction, the claimed SMS to numbers that replied STOP
    after the message was written; returns the others."""
    sms = [row for row in rows if row["canal"] == Canal.sms]
    if not sms:
        return rows
    opposes = {
        (o["territoire"], o["telephone"])
        for o in await OppositionSms.select(
            OppositionSms.territoire, OppositionSms.telephone
        ).where(OppositionSms.telephone.is_in(list({row["destinataire"] for row in sms})))
    }
    annules = [row for row in sms if (row["territoire"], row["destinataire"]) in opposes]
    if not annules:
        return rows
    await Message.update(
        {Message.statut: StatutMessage.annule, Message.derniere_erreur: "STOP"}
    ).where(
        Message.id.is_in([row["id"] for row in annules]),
        Message.statut == StatutMessage.en_cours,
    )
    ids = {row["id"] for row in annules}
    return [row for row in rows if row["id"] not in ids]


async def _reclamer_et_ecrire(
    instant: datetime, dus: datetime, limite: int, ecritures: Ecritures, rapport: Rapport
) -> tuple[int, list[dict[str, Any]]]:
    """One transaction: record the results so far, claim (at `instant`) up to `limite`
    messages due by `dus`, cancel those to numbers that replied STOP. Returns how many were
    claimed and those to send."""
    async with write_transaction():
        await ecritures.ecrire()
        lot = list(await Message.raw(_sql_reclamer(limite), instant, dus))
        a_envoyer = await _sans_opposition(lot)
    ecritures.ecrits()
    rapport.annules += len(lot) - len(a_envoyer)
    for row in a_envoyer:
        row["verrou"] = instant
    return len(lot), a_envoyer


async def reconcilier(maintenant: datetime, resoudre: Resolveur, rapport: Rapport) -> None:
    """Messages left `en_cours` by a dead worker: ask the provider before sending again."""
    orphelins = await Message.select(
        Message.id,
        Message.territoire,
        Message.canal,
        Message.destinataire,
        Message.sujet,
        Message.texte,
        Message.ics,
        Message.reference,
        Message.verrou_at,
    ).where(Message.statut == StatutMessage.en_cours, Message.verrou_at < maintenant - bail())
    cache: dict[int, sortie.Parametres] = {}
    for row in orphelins:
        try:
            p = await _parametres(row["territoire"], cache)
            fournisseur = await resoudre(p, row["canal"])
            trouve = await fournisseur.retrouver(_sortant(row, p))
        except NonVerifiable as error:
            trouve = None
            logger.warning("message %s : %s ; renvoi", row["reference"], error)
        except ErreurFournisseur as error:
            logger.info("message %s : réconciliation remise (%s)", row["reference"], error)
            continue
        except Exception:  # noqa: BLE001 - one message must not stop the outbox
            logger.exception("message %s : réconciliation impossible", row["reference"])
            rapport.erreurs.append(f"réconciliation de {row['reference']}")
            continue
        claim = _a_nous({"id": row["id"], "verrou": row["verrou_at"]})
        if trouve is not None:
            await Message.update(
                {
                    Message.statut: StatutMessage.envoye,
                    Message.fournisseur: fournisseur.nom,
                    Message.fournisseur_id: trouve.fournisseur_id,
                    Message.envoye_at: maintenant,
                }
            ).where(claim)
        else:
            await Message.update(
                {Message.statut: StatutMessage.en_attente, Message.du_at: maintenant}
            ).where(claim)
        rapport.reconcilies += 1


async def traiter_lot(
    maintenant: datetime | None = None,
    *,
    resoudre: Resolveur | None = None,
    limite: int = LOT,
    concurrence: int = CONCURRENCE,
) -> Rapport:
    """One run of the worker: up to `limite` messages, `concurrence` sends in flight at
    most; returns what it did."""
    maintenant_reel = maintenant is None
    maintenant = maintenant or datetime.now(UTC)
    resoudre = resoudre or _resoudre_defaut
    rapport = Rapport()
    rapport.expires = await expirer(maintenant)
    await reconcilier(maintenant, resoudre, rapport)
    cache: dict[int, sortie.Parametres] = {}
    ecritures = Ecritures()

    async def un(row: dict[str, Any], instant: datetime) -> None:
        try:
            await _un(row, resoudre, rapport, instant, cache, ecritures)
        except Exception as error:  # noqa: BLE001 - one message must not stop the batch
            # Left claimed: once the lease has passed, reconciliation asks the provider.
            logger.exception("message %s : erreur inattendue", row["reference"])
            rapport.erreurs.append(str(error))

    # Claim when at least a quarter of the places are free (or all that is left to do):
    # claims, and the results recorded with them, go by groups rather than one by one.
    # Only what was due when the batch began: a message given back for a retry "now" (a
    # Retry-After of 0) waits for the next batch instead of going round at once.
    groupe = max(1, concurrence // 4)
    en_vol: set[asyncio.Task[None]] = set()
    reclames = 0
    epuise = False
    try:
        while True:
            reste = 0 if epuise else limite - reclames
            libre = min(concurrence - len(en_vol), reste)
            if reste and libre >= min(groupe, reste):
                instant = datetime.now(UTC) if maintenant_reel else maintenant
                nombre, lot = await _reclamer_et_ecrire(
                    instant, maintenant, libre, ecritures, rapport
                )
                reclames += nombre
                epuise = nombre < libre
                # Each territoire's settings once, before its sends start, not by each
                # (should this fail, each message's own try says so).
                with contextlib.suppress(Exception):
                    for territoire in {row["territoire"] for row in lot}:
                        await _parametres(territoire, cache)
                en_vol.update(asyncio.create_task(un(row, instant)) for row in lot)
                continue
            if ecritures and (not reste or len(ecritures) >= groupe):
                await _enregistrer(ecritures)
            if not en_vol:
                break
            # At most a second between two writes of the results, however slow the sends.
            fini, en_vol = await asyncio.wait(
                en_vol, timeout=1.0, return_when=asyncio.FIRST_COMPLETED
            )
            if not fini and ecritures:
                await _enregistrer(ecritures)
        rapport.reclames = reclames
    except asyncio.CancelledError:
        # Shutdown: the sends in flight stay claimed, reconciled once the lease has passed.
        for task in en_vol:
            task.cancel()
        raise
    finally:
        # On any other error, the sends in flight end (their timeouts bound the wait) and
        # their results are written rather than left for reconciliation.
        if en_vol:
            await asyncio.gather(*en_vol, return_exceptions=True)
        if ecritures:
            try:
                await _enregistrer(ecritures)
            except Exception:  # noqa: BLE001 - reconciled after the lease instead
                logger.exception("%d résultats d'envoi non écrits", len(ecritures))
    return rapport


async def tour(*, resoudre: Resolveur | None = None) -> Rapport:
    """What the scheduler and `python -m plateforme envoyer` run at each interval: batches
    back to back while they come full, so that a backlog does not wait one interval per
    `LOT` messages."""
    while True:
        rapport = await traiter_lot(resoudre=resoudre)
        if rapport.reclames < LOT or not (rapport.envoyes or rapport.echecs or rapport.annules):
            return rapport


async def vider(
    maintenant: datetime | None = None, *, resoudre: Resolveur | None = None
) -> Rapport:
    """Run batches until nothing is due (tests, the CLI, the benchmark)."""
    total = Rapport()
    while True:
        rapport = await traiter_lot(maintenant, resoudre=resoudre)
        for nom in ("envoyes", "reessais", "echecs", "expires", "reconcilies", "annules"):
            setattr(total, nom, getattr(total, nom) + getattr(rapport, nom))
        total.erreurs.extend(rapport.erreurs)
        if not (rapport.envoyes or rapport.reessais or rapport.echecs or rapport.annules):
            return total
