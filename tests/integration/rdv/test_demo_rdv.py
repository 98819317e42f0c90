"""The demo lets a citizen book right away: motifs and plages for the demo agents, loaded once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rdv.services.demo import seed_demo_rdv
from rdv.services.recherche import disponibilites
from rdv.tables import Motif, PlageOuverture
from sites.services import proximite
from sites.services.communes import import_communes
from sites.services.demo import HAUTE_GARONNE, seed_demo
from sites.tables import Territoire


async def test_after_the_demo_a_citizen_of_colomiers_finds_a_pmi_creneau_within_the_week() -> None:
    await import_communes()
    await seed_demo()
    await seed_demo_rdv()
    again = await seed_demo_rdv()
    assert (again.motifs, again.plages) == (0, 0)

    territoire = (
        await Territoire.select(Territoire.id).where(Territoire.nom == HAUTE_GARONNE).first()
    )
    assert territoire is not None
    motif = (
        await Motif.select(Motif.id)
        .where(
            Motif.nom == "Consultation de nourrisson", Motif.service.territoire == territoire["id"]
        )
        .first()
    )
    assert motif is not None
    assert await PlageOuverture.count() > 300

    point = await proximite.resoudre_point(commune="31149", code_postal=None, lat=None, lon=None)
    maintenant = datetime.now(UTC)
    found = await disponibilites(motif["id"], point, limite=3, maintenant=maintenant)
    assert found[0].site.site.nom == "Maison des Solidarités de Colomiers"
    assert found[0].prochain is not None
    assert found[0].prochain.debut < maintenant + timedelta(days=7)


async def test_the_demo_centres_have_queues_and_counters_once() -> None:
    from file_attente.demo import seed_demo_files
    from file_attente.tables import FileAttente, Guichet
    from sites.tables import Site

    await import_communes()
    await seed_demo()
    await seed_demo_files()
    again = await seed_demo_files()
    assert (again.files, again.guichets) == (0, 0)
    colomiers = (
        await Site.select(Site.id).where(Site.nom == "Maison des Solidarités de Colomiers").first()
    )
    assert colomiers is not None
    files = await FileAttente.select(FileAttente.prefixe).where(FileAttente.site == colomiers["id"])
    assert len(files) >= 1 and len({f["prefixe"] for f in files}) == len(files)
    assert await Guichet.count().where(Guichet.site == colomiers["id"]) == 3
