"""What the database says is closed or away is never offered nor bookable: a site's
closure days and an agent's recurring absence, read by the engine's loader."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from plateforme.db import write_transaction
from plateforme.errors import Invalid, NotFound
from rdv.services import recherche, reservation
from rdv.services.reservation import DemandeRdv, Personne
from rdv.tables import Absence, Motif
from sites.tables import Fermeture
from tests import factories

PARIS = ZoneInfo("Europe/Paris")
CAMILLE = Personne("Camille", "Martin", "+33612345678")


async def test_a_closed_day_and_a_weekly_absence_are_neither_offered_nor_bookable() -> None:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    agent = await factories.agent(territoire, services=[service], sites=[site])
    motif = await factories.motif(service, duree_minutes=30)
    await factories.plage(agent, site, [motif], heure_debut="09:00", heure_fin="11:00")
    # A Monday with no public holiday in the days looked at.
    lundi = factories.monday_ouvre_at("09:00", territoire.code, jours=(0, 1, 2, 7, 8)).date()
    # The site is closed on that Monday (one day), and the agent is away every
    # Tuesday from 09:00 to 10:00, from the week before.
    mardi_avant = lundi - timedelta(days=6)
    async with write_transaction():
        await Fermeture(site=site.id, debut=lundi, fin=lundi, motif="Inventaire").save()
        await Absence(
            agent=agent.id,
            debut=datetime.combine(mardi_avant, time(9), PARIS),
            fin=datetime.combine(mardi_avant, time(10), PARIS),
            rrule="FREQ=WEEKLY",
        ).save()

    semaine = await recherche.semaine(motif.id, site.id, du=lundi, jours=14)
    offerts = {
        jour.date: [c.debut.astimezone(PARIS).time() for c in jour.creneaux]
        for jour in semaine.jours
    }
    quarts = [time(h, m) for h in (9, 10) for m in (0, 30)]
    assert offerts[lundi] == [], "closed that day"
    assert offerts[lundi + timedelta(days=7)] == quarts, "open the Monday after"
    for mardi in (lundi + timedelta(days=1), lundi + timedelta(days=8)):
        assert offerts[mardi] == [time(10), time(10, 30)], "away 09:00-10:00 every Tuesday"
    assert offerts[lundi + timedelta(days=2)] == quarts

    for debut in (
        datetime.combine(lundi, time(9, 30), PARIS),
        datetime.combine(lundi + timedelta(days=8), time(9), PARIS),
    ):
        with pytest.raises(Invalid) as refus:
            await reservation.reserver(DemandeRdv(motif.id, site.id, debut, CAMILLE))
        assert refus.value.code == "creneau_invalide"
    cree = await reservation.reserver(
        DemandeRdv(
            motif.id,
            site.id,
            datetime.combine(lundi, time(9), PARIS) + timedelta(days=8, hours=1),
            CAMILLE,
        )
    )
    assert cree.debut == datetime.combine(lundi + timedelta(days=8), time(10), PARIS).astimezone(
        UTC
    )


async def test_a_motif_withdrawn_from_booking_is_unknown_to_the_public() -> None:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    site = await factories.site(territoire, services=[service])
    agent = await factories.agent(territoire, services=[service], sites=[site])
    motif = await factories.motif(service)
    await factories.plage(agent, site, [motif])
    async with write_transaction():
        await Motif.update({Motif.actif: False}).where(Motif.id == motif.id)
    with pytest.raises(NotFound) as refus:
        await reservation.reserver(
            DemandeRdv(motif.id, site.id, factories.monday_at("09:00"), CAMILLE)
        )
    assert refus.value.code == "motif_inconnu"
