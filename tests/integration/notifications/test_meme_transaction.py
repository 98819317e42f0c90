"""Invariant 3, its first half: a booking's messages are written in the booking's own
transaction, so a booking that fails after they were written leaves none behind, and one
that commits has them all; with bookings committing and failing at the same time."""

from __future__ import annotations

import asyncio
import contextvars
from datetime import timedelta
from typing import Any

from notifications.tables import Message
from plateforme import reactions
from rdv.services import reservation
from rdv.services.reservation import DemandeRdv, Personne
from rdv.tables import Rdv, Usager
from tests import factories

# Set in the task of each booking that must fail once its messages are written.
ECHOUER = contextvars.ContextVar("echouer", default=False)


class Echec(Exception):
    pass


async def echouer_apres_les_messages(**_: Any) -> None:
    """A reaction after the notifications' one: the booking fails once they wrote."""
    if ECHOUER.get():
        raise Echec("une réaction échoue après l'écriture des messages")


async def test_a_booking_that_fails_after_its_messages_leaves_none_and_the_others_keep_theirs() -> (
    None
):
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    motif = await factories.motif(service, duree_minutes=30)
    for _ in range(4):
        agent = await factories.agent(territoire, services=[service], sites=[site])
        await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="11:30")
    lundi = factories.monday_ouvre_at("09:00", territoire.code)
    demandes = [
        DemandeRdv(
            motif.id,
            site.id,
            lundi + timedelta(minutes=30 * (numero % 5)),
            Personne("Camille", f"Essai{numero}", f"+3361100{numero:04d}"),
        )
        for numero in range(20)
    ]

    async def reserver(numero: int) -> object:
        ECHOUER.set(numero % 2 == 1)
        try:
            return await reservation.reserver(demandes[numero])
        except Echec as echec:
            return echec

    reactions._charger()  # the notifications' reactions first, then this one
    reactions.reaction("rdv.cree")(echouer_apres_les_messages)
    try:
        resultats = await asyncio.gather(*(reserver(n) for n in range(20)))
    finally:
        reactions._handlers["rdv.cree"].remove(echouer_apres_les_messages)

    reussis = [r for r in resultats if isinstance(r, reservation.RdvCree)]
    assert [isinstance(r, Echec) for r in resultats] == [n % 2 == 1 for n in range(20)]
    rdvs = {r["id"] for r in await Rdv.select(Rdv.id).where(Rdv.motif == motif.id)}
    assert rdvs == {r.id for r in reussis}
    ecrits = await Message.select(Message.rdv, Message.genre, Message.destinataire).where(
        Message.territoire == territoire.id
    )
    assert {m["rdv"] for m in ecrits} == rdvs, "no message of a failed booking, none missing"
    confirmations = sorted(m["destinataire"] for m in ecrits if m["genre"] == "confirmation")
    assert confirmations == sorted(d.personne.telephone for d in demandes[::2])
    echoues = [d.personne.telephone for d in demandes[1::2]]
    assert await Usager.count().where(Usager.telephone.is_in(echoues)) == 0
