"""The import commands and the demo data on a real database (the session's shared one)."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plateforme.errors import Invalid, NotFound
from plateforme.passwords import verify_password
from sites.services import demo
from sites.services.communes import DEFAULT as COMMUNES_FILE
from sites.services.communes import import_communes
from sites.services.demo import DemoReport, seed_demo
from sites.services.importer import ImportRefuse, import_sites
from sites.tables import (
    Agent,
    AgentService,
    AgentSite,
    Commune,
    Sectorisation,
    Service,
    Site,
    SiteService,
    Territoire,
)
from tests import factories

DATA = COMMUNES_FILE.parent
MAIRIES_31 = DATA / "mairies-haute-garonne.csv"


@pytest.fixture(scope="module")
async def communes() -> AsyncIterator[None]:
    await import_communes()
    yield None


def first_rows(count: int) -> tuple[list[str], list[dict[str, str]]]:
    with MAIRIES_31.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file)
        return list(reader.fieldnames or []), [
            row for _, row in zip(range(count), reader, strict=False)
        ]


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return path


async def territoire_social() -> tuple[Territoire, Service]:
    territoire = await factories.territoire()
    return territoire, await factories.service(territoire, code="social", nom="Action sociale")


# --- import-communes -------------------------------------------------------------------


async def test_import_communes_loads_the_34_875_communes_and_a_second_run_adds_none() -> None:
    first = await import_communes()
    codes = {row["insee"] for row in await Commune.select(Commune.insee)}
    count = await Commune.count()

    second = await import_communes()

    with COMMUNES_FILE.open(encoding="utf-8") as file:
        in_file = {row["code_insee"] for row in csv.DictReader(file)}
    assert len(in_file) == 34_875
    assert in_file <= codes
    assert first.created + first.updated + first.unchanged == 34_875
    assert (second.created, second.updated, second.unchanged) == (0, 0, 34_875)
    assert await Commune.count() == count
    union = await Commune.objects().where(Commune.insee == "31561").first()
    assert union is not None
    assert (union.nom, union.nom_normalise, union.population) == ("Union", "union", 11715)
    assert (union.latitude, union.longitude) == (43.653099, 1.49412)
    lanester = await Commune.objects().where(Commune.insee == "56098").first()
    assert lanester is not None and lanester.latitude is None  # "nan" in the source


async def test_import_communes_puts_back_a_changed_commune(communes: None) -> None:
    await Commune.update({Commune.nom_normalise: "abime", Commune.population: 1}).where(
        Commune.insee == "62361"
    )

    report = await import_communes()

    frevent = await Commune.objects().where(Commune.insee == "62361").first()
    assert frevent is not None
    assert report.updated == 1
    assert (frevent.nom_normalise, frevent.population) == ("frevent", 3570)


async def test_a_communes_file_with_a_bad_line_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "communes.csv"
    path.write_text(
        "code_insee,nom,departement,region,codes_postaux,latitude,longitude,population\n"
        "99001,Nouvelle-Commune,99,99,99001,45.0,3.0,10\n"
        "99002,Commune-Bancale,99,99,99002,quarante,3.0,10\n",
        encoding="utf-8",
    )

    with pytest.raises(ImportRefuse) as caught:
        await import_communes(path)

    assert [number for number, _ in caught.value.lines] == [3]
    assert not await Commune.exists().where(Commune.insee.is_in(["99001", "99002"]))


# --- import-sites ----------------------------------------------------------------------


async def test_a_sites_file_with_one_bad_line_writes_nothing(
    communes: None, tmp_path: Path
) -> None:
    territoire, _ = await territoire_social()
    header, rows = first_rows(5)
    rows[3]["latitude"] = "quarante-trois"
    path = write_csv(tmp_path / "sites.csv", header, rows)
    sites_before, links_before = await Site.count(), await SiteService.count()

    with pytest.raises(ImportRefuse) as caught:
        await import_sites(path, territoire_id=territoire.id, service_codes=["social"])

    assert caught.value.lines == [(5, "latitude « quarante-trois » n'est pas un nombre")]
    assert caught.value.message == "Fichier refusé : 1 ligne invalide"
    assert await Site.count() == sites_before
    assert await SiteService.count() == links_before


async def test_a_good_sites_file_creates_linked_sites_and_a_second_run_updates_them(
    communes: None, tmp_path: Path
) -> None:
    territoire, social = await territoire_social()
    header, rows = first_rows(5)
    path = write_csv(tmp_path / "sites.csv", header, rows)

    first = await import_sites(path, territoire_id=territoire.id, service_codes=["social"])

    assert (first.created, first.updated) == (5, 0)
    sites = await Site.objects().where(Site.territoire == territoire.id).order_by(Site.reference)
    assert [site.reference for site in sites] == [f"mairie:{row['code_insee']}" for row in rows]
    agassac = sites[0]
    assert (agassac.nom, agassac.kind) == ("Mairie de Agassac", "permanence")
    assert agassac.adresse == "Le Village, 31230 Agassac"
    assert (agassac.latitude, agassac.longitude) == (43.370922, 0.887884)
    assert agassac.telephone == "05 61 88 14 41"
    horaires = {"lundi": [["13:30", "17:30"]], "vendredi": [["13:30", "17:30"]]}
    assert _loaded(agassac.horaires) == horaires
    commune = await Commune.objects().where(Commune.id == agassac.commune).first()
    assert commune is not None and commune.insee == "31001"
    linked = await SiteService.select(SiteService.site).where(SiteService.service == social.id)
    assert sorted(row["site"] for row in linked) == sorted(site.id for site in sites)

    rows[0]["nom"] = "Mairie d'Agassac"
    write_csv(path, header, rows)
    second = await import_sites(path, territoire_id=territoire.id, service_codes=["social"])

    assert (second.created, second.updated) == (0, 5)
    assert await Site.count().where(Site.territoire == territoire.id) == 5
    assert await SiteService.count().where(SiteService.service == social.id) == 5
    renamed = await Site.objects().where(Site.id == agassac.id).first()
    assert renamed is not None and renamed.nom == "Mairie d'Agassac"


async def test_an_unknown_service_code_is_refused_before_anything_is_written(
    communes: None, tmp_path: Path
) -> None:
    territoire, _ = await territoire_social()
    header, rows = first_rows(2)
    path = write_csv(tmp_path / "sites.csv", header, rows)

    with pytest.raises(Invalid) as caught:
        await import_sites(path, territoire_id=territoire.id, service_codes=["social", "pmi"])

    assert caught.value.code == "service_inconnu"
    assert "pmi" in caught.value.message
    assert await Site.count().where(Site.territoire == territoire.id) == 0


async def test_importing_into_an_unknown_territoire_is_not_found(tmp_path: Path) -> None:
    header, rows = first_rows(1)
    path = write_csv(tmp_path / "sites.csv", header, rows)

    with pytest.raises(NotFound):
        await import_sites(path, territoire_id=2_000_000_000)


# --- seed-demo -------------------------------------------------------------------------


async def test_the_demo_needs_the_communes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_communes() -> dict[str, object]:
        return {}

    monkeypatch.setattr(demo, "communes_positions", no_communes)

    with pytest.raises(demo.CommunesManquantes, match="import-communes"):
        await seed_demo()


async def test_the_demo_builds_both_territoires_from_the_real_data_and_runs_twice(
    communes: None,
) -> None:
    first = await seed_demo()
    counts = await _counts()
    second = await seed_demo()

    assert second == DemoReport()
    assert await _counts() == counts
    if first.territoires == 2:  # this session's first seed
        assert first == DemoReport(2, 3, 614, 337, 5540)

    haute_garonne = await _territoire(demo.HAUTE_GARONNE)
    assert (haute_garonne.kind, haute_garonne.code) == ("departement", "31")
    assert await _sites(haute_garonne, "permanence") == 586
    assert await _sites(haute_garonne, "centre") == 16
    mds = (
        await Site.objects()
        .where((Site.territoire == haute_garonne.id) & (Site.reference == "demo:mds:31149"))
        .first()
    )
    assert mds is not None and mds.nom == "Maison des Solidarités de Colomiers"
    assert (mds.latitude, mds.longitude) == (43.612541, 1.332637)
    assert mds.accessibilite

    hauts_de_france = await _territoire(demo.HAUTS_DE_FRANCE)
    assert (hauts_de_france.kind, hauts_de_france.code) == ("region", "32")
    antennes = {
        site["reference"]: (site["latitude"], site["longitude"])
        for site in await Site.select(Site.reference, Site.latitude, Site.longitude).where(
            (Site.territoire == hauts_de_france.id) & (Site.kind == "antenne")
        )
    }
    assert len(antennes) == 12
    assert antennes["demo:antenne:80021"] == (49.893422, 2.295408)  # Amiens
    assert antennes["demo:antenne:02168"] == (49.046001, 3.40271)  # Château-Thierry
    assert antennes["demo:antenne:60157"] == (49.380215, 2.415327)  # Clermont
    assert antennes["demo:antenne:59295"] == (50.7225, 2.53637)  # Hazebrouck
    assert antennes["demo:antenne:62361"] == (50.278301, 2.2932)  # Frévent

    agents_31 = await Agent.count().where(Agent.territoire == haute_garonne.id)
    agents_32 = await Agent.count().where(Agent.territoire == hauts_de_france.id)
    assert 250 <= agents_31 <= 350
    assert agents_32 == 37
    admins = await Agent.select(Agent.email, Agent.mot_de_passe).where(
        Agent.email.is_in([demo.ADMIN_HAUTE_GARONNE[0], demo.ADMIN_HAUTS_DE_FRANCE[0]])
        & (Agent.role == "admin")
    )
    assert len(admins) == 2
    passwords = dict([demo.ADMIN_HAUTE_GARONNE, demo.ADMIN_HAUTS_DE_FRANCE])
    assert all(verify_password(a["mot_de_passe"], passwords[a["email"]]) for a in admins)


async def test_the_demo_sectorises_every_commune_and_links_agents(communes: None) -> None:
    await seed_demo()
    haute_garonne = await _territoire(demo.HAUTE_GARONNE)
    hauts_de_france = await _territoire(demo.HAUTS_DE_FRANCE)
    services = {
        row["code"]: row["id"]
        for row in await Service.select(Service.id, Service.code).where(
            Service.territoire.is_in([haute_garonne.id, hauts_de_france.id])
        )
    }

    assert set(services) == {"pmi", "social", "antenne"}
    assert await Sectorisation.count().where(Sectorisation.service == services["pmi"]) == 586
    assert await Sectorisation.count().where(Sectorisation.service == services["social"]) == 1172
    assert await Sectorisation.count().where(Sectorisation.service == services["antenne"]) == 3782
    assert await _sectorised("60166", services["antenne"]) == ["Antenne régionale de Compiègne"]
    assert await _sectorised("31149", services["pmi"]) == ["Maison des Solidarités de Colomiers"]
    assert await _sectorised("31001", services["social"]) == [
        "Mairie de Agassac",
        "Maison des Solidarités de Saint-Gaudens",
    ]

    responsable = await Agent.objects().where(Agent.email == demo.RESPONSABLE_COLOMIERS[0]).first()
    assert responsable is not None and responsable.role == "responsable"
    assert verify_password(responsable.mot_de_passe, demo.RESPONSABLE_COLOMIERS[1])
    [link] = await AgentSite.select(AgentSite.site.reference).where(
        AgentSite.agent == responsable.id
    )
    assert link["site.reference"] == "demo:mds:31149"
    agent = (
        await Agent.objects()
        .where((Agent.territoire == haute_garonne.id) & (Agent.role == "agent"))
        .first()
    )
    assert agent is not None and agent.email.endswith("@demo.rdv-file.fr")
    assert verify_password(agent.mot_de_passe, demo.MOT_DE_PASSE_AGENTS)
    hashes = await Agent.select(Agent.mot_de_passe).where(
        (Agent.territoire == haute_garonne.id) & (Agent.role == "agent")
    )
    assert len({row["mot_de_passe"] for row in hashes}) == 1  # hashed once, reused
    unlinked = await Agent.count().where(
        (Agent.territoire == haute_garonne.id)
        & (Agent.role == "agent")
        & Agent.id.not_in(AgentSite.select(AgentSite.agent))
    )
    assert unlinked == 0
    assert await AgentService.count().where(AgentService.service == services["pmi"]) > 50


async def test_importing_the_real_town_halls_after_the_demo_updates_instead_of_duplicating(
    communes: None,
) -> None:
    await seed_demo()
    haute_garonne = await _territoire(demo.HAUTE_GARONNE)

    report = await import_sites(
        MAIRIES_31, territoire_id=haute_garonne.id, service_codes=["social"]
    )

    assert (report.created, report.updated) == (0, 586)
    assert await _sites(haute_garonne, "permanence") == 586


def _loaded(value: object) -> object:
    """JSON columns come back as text on both engines unless asked otherwise."""
    return json.loads(value) if isinstance(value, str) else value


async def _territoire(nom: str) -> Territoire:
    territoire = await Territoire.objects().where(Territoire.nom == nom).first()
    assert territoire is not None
    return territoire


async def _sites(territoire: Territoire, kind: str) -> int:
    return await Site.count().where((Site.territoire == territoire.id) & (Site.kind == kind))


async def _sectorised(insee: str, service_id: int) -> list[str]:
    rows = await Sectorisation.select(Sectorisation.site.nom).where(
        (Sectorisation.commune.insee == insee) & (Sectorisation.service == service_id)
    )
    return sorted(row["site.nom"] for row in rows)


async def _counts() -> dict[str, int]:
    tables = (Territoire, Service, Site, SiteService, Sectorisation, Agent, AgentSite, AgentService)
    return {table.__name__: await table.count() for table in tables}
