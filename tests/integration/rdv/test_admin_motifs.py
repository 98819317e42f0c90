"""The territoire admin manages the motifs through the pages; the others read them."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import Any

import httpx
import pytest

from rdv.tables import Motif
from tests import factories
from tests.integration.conftest import Browser


def motif_form(service: Any, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service": service.id,
        "nom": factories.unique("Consultation de nourrisson"),
        "duree_minutes": "30",
        "canal": "sur_place",
        "reservable_en_ligne": "on",
        "delai_min_minutes": "0",
        "delai_max_jours": "60",
        "capacite": "",
        "annulable_par_usager": "on",
        "deplacable_par_usager": "on",
        "delai_annulation_heures": "24",
        "instructions": "Apportez le carnet de santé.",
        "actif": "on",
    }
    values.update(overrides)
    return {k: v for k, v in values.items() if v is not None}


@pytest.fixture
async def setup() -> dict[str, Any]:
    territoire = await factories.territoire()
    code = factories.unique("pmi").replace(" ", "").lower()
    pmi = await factories.service(territoire, code=code, nom="Protection maternelle")
    site = await factories.site(territoire, services=[pmi])
    motif = await factories.motif(pmi, nom=factories.unique("Consultation prénatale"))
    other = await factories.territoire()
    other_service = await factories.service(other, code="pmi", nom="PMI d'ailleurs")
    other_motif = await factories.motif(other_service, nom="Motif d'un autre territoire")
    return {
        "territoire": territoire,
        "pmi": pmi,
        "site": site,
        "motif": motif,
        "other_service": other_service,
        "other_motif": other_motif,
        "admin": await factories.agent(territoire, role="admin"),
        "responsable": await factories.agent(territoire, role="responsable", sites=[site]),
        "agent": await factories.agent(territoire, role="agent", sites=[site], services=[pmi]),
    }


async def motif_nom(motif_id: int) -> str:
    row = await Motif.select(Motif.nom).where(Motif.id == motif_id).first()
    assert row is not None
    return str(row["nom"])


@pytest.mark.parametrize("role", ["admin", "responsable", "agent"])
async def test_every_role_reads_the_motifs_of_its_own_territoire_by_service(
    browser: Browser, setup: dict[str, Any], role: str
) -> None:
    await browser.sign_in(setup[role].email)
    page = await browser.http.get("/admin/motifs")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Protection maternelle" in text and setup["motif"].nom in text
    assert "autre territoire" not in text
    assert ("Créer un motif" in text) is (role == "admin")
    detail = await browser.http.get(f"/admin/motifs/{setup['motif'].id}")
    assert detail.status_code == 200
    has_form = f'action="/admin/motifs/{setup["motif"].id}"' in detail.text
    assert has_form is (role == "admin")
    tableau = await browser.http.get("/admin")
    assert 'href="/admin/motifs"' in tableau.text


@pytest.mark.parametrize("role", ["responsable", "agent"])
async def test_responsables_and_agents_can_neither_create_nor_edit_a_motif(
    browser: Browser, setup: dict[str, Any], role: str
) -> None:
    await browser.sign_in(setup[role].email)
    before = await Motif.count()
    assert (await browser.http.get("/admin/motifs/nouveau")).status_code == 403
    created = await browser.post_form("/admin/motifs/nouveau", motif_form(setup["pmi"]))
    assert created.status_code == 403
    motif_id = setup["motif"].id
    edited = await browser.post_form(
        f"/admin/motifs/{motif_id}", motif_form(setup["pmi"], nom="Renommé")
    )
    assert edited.status_code == 403
    assert (await browser.post_form(f"/admin/motifs/{motif_id}/desactiver", {})).status_code == 403
    assert await Motif.count() == before
    assert await motif_nom(motif_id) == setup["motif"].nom


@pytest.mark.parametrize("role", ["admin", "responsable", "agent"])
async def test_a_motif_of_another_territoire_does_not_exist_for_any_role(
    browser: Browser, setup: dict[str, Any], role: str
) -> None:
    await browser.sign_in(setup[role].email)
    other_id = setup["other_motif"].id
    assert (await browser.http.get(f"/admin/motifs/{other_id}")).status_code == 404
    posted = await browser.post_form(
        f"/admin/motifs/{other_id}", motif_form(setup["pmi"], nom="Détourné")
    )
    assert posted.status_code == (404 if role == "admin" else 403)
    assert await motif_nom(other_id) == "Motif d'un autre territoire"


async def test_an_admin_creates_then_edits_and_deactivates_a_motif(
    browser: Browser, setup: dict[str, Any]
) -> None:
    await browser.sign_in(setup["admin"].email)
    form = motif_form(setup["pmi"], canal="telephone", duree_minutes="45")
    created = await browser.post_form("/admin/motifs/nouveau", form)
    assert created.status_code == 303, created.text
    motif = await Motif.objects().where(Motif.nom == form["nom"]).first()
    assert motif is not None and motif.service == setup["pmi"].id
    assert (motif.duree_minutes, motif.canal, motif.collectif) == (45, "telephone", False)
    assert motif.capacite is None
    assert created.headers["location"] == f"/admin/motifs/{motif.id}?enregistre=1"
    page = await browser.http.get(created.headers["location"])
    assert "Modifications enregistrées." in page.text

    edited = await browser.post_form(
        f"/admin/motifs/{motif.id}", motif_form(setup["pmi"], nom="Bilan de santé", accoler="on")
    )
    assert edited.status_code == 303
    row = await Motif.objects().where(Motif.id == motif.id).first()
    assert (row.nom, row.accoler, row.actif) == ("Bilan de santé", True, True)

    deactivated = await browser.post_form(f"/admin/motifs/{motif.id}/desactiver", {})
    assert deactivated.status_code == 303
    row = await Motif.objects().where(Motif.id == motif.id).first()
    assert row is not None and row.actif is False, "kept, not deleted"


@pytest.mark.parametrize(
    ("overrides", "messages"),
    [
        (
            {"nom": "", "duree_minutes": "3", "canal": "pigeon"},
            [
                "Le nom est obligatoire.",
                "La durée doit être entre 5 et 480.",
                "Choisissez un canal.",
            ],
        ),
        (
            {"nom": "x" * 151, "duree_minutes": "481", "delai_min_minutes": "-5"},
            [
                "150 caractères au plus.",
                "La durée doit être entre 5 et 480.",
                "Le délai minimum doit être entre 0 et 525600.",
            ],
        ),
        (
            {"delai_min_minutes": "2880", "delai_max_jours": "2", "duree_minutes": "12,5"},
            [
                "Le délai maximum doit laisser le temps de réserver",
                "La durée doit être un nombre entier.",
            ],
        ),
        (
            {"collectif": "on", "capacite": ""},
            ["La capacité est obligatoire."],
        ),
        (
            {"collectif": "on", "capacite": "501"},
            ["La capacité doit être entre 2 et 500."],
        ),
        (
            {"capacite": "8"},
            ["La capacité ne vaut que pour un atelier collectif"],
        ),
    ],
)
async def test_a_bad_motif_form_is_refused_field_by_field_and_nothing_is_created(
    browser: Browser, setup: dict[str, Any], overrides: dict[str, Any], messages: list[str]
) -> None:
    await browser.sign_in(setup["admin"].email)
    before = await Motif.count()
    response = await browser.post_form(
        "/admin/motifs/nouveau", motif_form(setup["pmi"], **overrides)
    )
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert "Le formulaire contient" in text and 'aria-invalid="true"' in text
    for message in messages:
        assert message in text
    assert await Motif.count() == before


async def test_a_service_of_another_territoire_is_refused(
    browser: Browser, setup: dict[str, Any]
) -> None:
    await browser.sign_in(setup["admin"].email)
    before = await Motif.count()
    response = await browser.post_form("/admin/motifs/nouveau", motif_form(setup["other_service"]))
    assert response.status_code == 422
    assert "Choisissez un service du territoire." in html.unescape(response.text)
    assert await Motif.count() == before


async def test_a_motif_with_rdvs_keeps_its_service_and_its_kind(
    browser: Browser, client: httpx.AsyncClient, setup: dict[str, Any]
) -> None:
    territoire, pmi, site = setup["territoire"], setup["pmi"], setup["site"]
    social = await factories.service(territoire, code=factories.unique("s").replace(" ", ""))
    motif = await factories.motif(pmi)
    await factories.plage(setup["agent"], site, [motif], heure_debut="09:00", heure_fin="12:00")
    debut = factories.monday_at("09:00")
    booked = await client.post(
        "/api/rdv",
        json={
            "motif_id": motif.id,
            "site_id": site.id,
            "debut": debut.isoformat(),
            "usager": {"prenom": "Camille", "nom": "Martin", "telephone": "06 12 34 56 78"},
        },
    )
    assert booked.status_code == 201, booked.text

    await browser.sign_in(setup["admin"].email)
    moved = await browser.post_form(
        f"/admin/motifs/{motif.id}", motif_form(social, nom="Déplacé", collectif="on", capacite="5")
    )
    assert moved.status_code == 422
    text = html.unescape(moved.text)
    assert "Ce motif a déjà des rendez-vous : son service ne peut plus changer." in text
    assert "Ce motif a déjà des rendez-vous : il ne peut plus passer à collectif." in text
    row = await Motif.objects().where(Motif.id == motif.id).first()
    assert (row.service, row.nom, row.collectif) == (pmi.id, motif.nom, False)
    # Anything else still changes.
    renamed = await browser.post_form(f"/admin/motifs/{motif.id}", motif_form(pmi, nom="Renommé"))
    assert renamed.status_code == 303
    assert await motif_nom(motif.id) == "Renommé"


async def test_a_collective_motif_created_in_the_page_is_offered_once_an_agent_opens_a_session(
    new_browser: Any, client: httpx.AsyncClient, setup: dict[str, Any]
) -> None:
    admin: Browser = new_browser()
    await admin.sign_in(setup["admin"].email)
    form = motif_form(
        setup["pmi"],
        nom=factories.unique("Atelier massage bébé"),
        duree_minutes="90",
        collectif="on",
        capacite="8",
    )
    created = await admin.post_form("/admin/motifs/nouveau", form)
    assert created.status_code == 303, created.text
    motif = await Motif.objects().where(Motif.nom == form["nom"]).first()
    assert motif is not None and (motif.collectif, motif.capacite) == (True, 8)

    agent: Browser = new_browser()
    assert (await agent.sign_in(setup["agent"].email)).status_code == 303
    jeudi = factories.monday_at("14:00") + timedelta(days=3)
    opened = await agent.post_form(
        "/agenda/rdv/nouveau",
        {
            "motif": motif.id,
            "site": setup["site"].id,
            "jour": jeudi.date().isoformat(),
            "heure": "14:00",
            "prenom": "",
            "nom": "",
        },
    )
    assert opened.status_code == 303, opened.text

    week = await client.get(
        f"/api/motifs/{motif.id}/sites/{setup['site'].id}/creneaux",
        params={"du": (jeudi - timedelta(days=3)).date().isoformat()},
    )
    assert week.status_code == 200, week.text
    offered = [
        (c["debut"][:16], c["places"]) for jour in week.json()["jours"] for c in jour["creneaux"]
    ]
    assert offered == [(jeudi.isoformat()[:16], 8)]


async def test_the_demo_has_one_collective_pmi_atelier_per_territoire_even_seeded_twice() -> None:
    from rdv.services.demo import seed_demo_rdv
    from sites.services.communes import import_communes
    from sites.services.demo import HAUTE_GARONNE, seed_demo

    await import_communes()
    await seed_demo()
    await seed_demo_rdv()
    await seed_demo_rdv()
    ateliers = await Motif.select(Motif.duree_minutes, Motif.collectif, Motif.capacite).where(
        Motif.nom == "Atelier massage bébé",
        Motif.service.code == "pmi",
        Motif.service.territoire.nom == HAUTE_GARONNE,
    )
    assert ateliers == [{"duree_minutes": 90, "collectif": True, "capacite": 8}]
