"""The next créneau of every site in two passes gives what one load of the whole window gives."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from plateforme.db import engine, lecture, lignes, write_transaction
from rdv.services import chargement
from rdv.services.chargement import charger, motif_info
from rdv.services.recherche import PREMIERE_PASSE, prochains_par_site
from rdv.tables import Absence, Rdv
from sites.services.jours_feries import jours_feries
from sites.tables import Fermeture
from tests import factories

PARIS = ZoneInfo("Europe/Paris")


async def insert_rdv(motif: Any, site: Any, agent: Any, debut: datetime, **values: Any) -> None:
    row = Rdv(
        motif=motif.id,
        site=site.id,
        agent=agent.id,
        debut=debut,
        fin=debut + timedelta(minutes=60),
        code=factories.code(),
        **values,
    )
    async with write_transaction():
        await row.save()


async def test_the_second_pass_finds_what_one_load_of_the_whole_window_finds() -> None:
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    motif = await factories.motif(service, duree_minutes=60, delai_max_jours=40)
    sites = [await factories.site(territoire, services=[service]) for _ in range(5)]
    agents = [await factories.agent(territoire) for _ in range(4)]
    today = datetime.now(PARIS).date()
    # Every weekday 09:00-10:00, one créneau a day: busy for the first two weeks.
    await factories.plage(agents[0], sites[0], [motif], heure_debut="09:00", heure_fin="10:00")
    # The same agent at another site too: a busy interval at one site counts at the other.
    await factories.plage(agents[0], sites[1], [motif], heure_debut="09:00", heure_fin="11:00")
    # A plage of one day after the first pass only (a working day: not Christmas).
    feries = jours_feries(territoire.code, [today.year, today.year + 1])
    jour_unique = today + timedelta(days=20)
    while jour_unique.weekday() >= 5 or jour_unique in feries:
        jour_unique += timedelta(days=1)
    await factories.plage(agents[1], sites[2], [motif], premier_jour=jour_unique, rrule=None)
    # Open from today, but away for the first three weeks.
    await factories.plage(agents[2], sites[3], [motif], heure_debut="14:00", heure_fin="16:00")
    async with write_transaction():
        await Absence(
            agent=agents[2].id,
            debut=datetime.combine(today, time(), PARIS),
            fin=datetime.combine(today + timedelta(days=21), time(), PARIS),
        ).save()
    # sites[4]: no plage at all.
    for day in range(15):
        jour = today + timedelta(days=day)
        await insert_rdv(motif, sites[0], agents[0], datetime.combine(jour, time(9), PARIS))
        await insert_rdv(motif, sites[1], agents[0], datetime.combine(jour, time(10), PARIS))
    # A cancelled rdv leaves its créneau free.
    await insert_rdv(
        motif, sites[0], agents[0],
        datetime.combine(today + timedelta(days=15), time(9), PARIS), statut="excuse",
    )  # fmt: skip

    ids = [s.id for s in sites]
    maintenant = datetime.now(UTC)
    async with lecture():
        info = await motif_info(motif.id)
        horizon = maintenant + info.regles.delai_max
        found = await prochains_par_site(info, ids, maintenant)
        whole = await charger(info, debut=maintenant, fin=horizon, site_ids=ids)
    assert found == whole.prochains(maintenant, horizon, maintenant)
    assert set(found) == {s.id for s in sites[:4]}
    for site in sites[:4]:
        # Each of them only found by the second pass.
        assert found[site.id].debut > maintenant + PREMIERE_PASSE - timedelta(days=1)
    assert found[sites[2].id].debut.astimezone(PARIS).date() == jour_unique
    first_free = today + timedelta(days=15)
    assert found[sites[0].id].debut.astimezone(PARIS).date() >= first_free
    assert found[sites[3].id].debut.astimezone(PARIS).date() >= today + timedelta(days=21)


async def test_a_search_makes_as_many_queries_for_eight_sites_as_for_two(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The engine's inputs load in a fixed small number of queries for a whole search:
    never one per site, agent or day (Piccolo's queries and the raw ones both counted)."""
    territoire = await factories.territoire()
    service = await factories.service(territoire)
    motif = await factories.motif(service, duree_minutes=30, delai_max_jours=30)
    today = datetime.now(PARIS).date()
    sites = []
    for numero in range(8):
        site = await factories.site(territoire, services=[service])
        sites.append(site.id)
        for heures in (("09:00", "12:00"), ("14:00", "17:00")):
            agent = await factories.agent(territoire)
            await factories.plage(agent, site, [motif], heure_debut=heures[0], heure_fin=heures[1])
            async with write_transaction():
                await Absence(
                    agent=agent.id,
                    debut=datetime.combine(today + timedelta(days=numero), time(9), PARIS),
                    fin=datetime.combine(today + timedelta(days=numero + 2), time(9), PARIS),
                ).save()
                await Fermeture(
                    site=site.id, debut=today + timedelta(days=5), fin=today + timedelta(days=6)
                ).save()
            for jour in range(10):
                debut = datetime.combine(
                    today + timedelta(days=jour), time(int(heures[0][:2])), PARIS
                )
                await insert_rdv(motif, site, agent, debut)

    compte = 0
    moteur = type(engine())
    piccolo = moteur.run_querystring

    async def run_querystring(self: Any, *args: Any, **kwargs: Any) -> Any:
        nonlocal compte
        compte += 1
        return await piccolo(self, *args, **kwargs)

    async def compter_lignes(sql: str, *args: Any) -> Any:
        nonlocal compte
        compte += 1
        return await lignes(sql, *args)

    monkeypatch.setattr(moteur, "run_querystring", run_querystring)
    monkeypatch.setattr(chargement, "lignes", compter_lignes)

    async def requetes(site_ids: list[int]) -> tuple[int, int]:
        nonlocal compte
        compte = 0
        maintenant = datetime.now(UTC)
        async with lecture():
            info = await motif_info(motif.id)
            trouves = await prochains_par_site(info, site_ids, maintenant)
        return compte, len(trouves)

    deux, huit = await requetes(sites[:2]), await requetes(sites)
    assert (deux[1], huit[1]) == (2, 8), "every site has a free créneau"
    assert deux[0] == huit[0] <= 6, (deux, huit)
