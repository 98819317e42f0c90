"""The administration of a site's queues, counters and devices: who may (role by role), and
bad input refused with a French message next to its field, changing nothing."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bornes.services import appareils
from bornes.tables import Appareil
from file_attente.tables import FileAttente, Guichet
from tests import factories
from tests.integration.conftest import Browser
from tests.integration.file_attente.conftest import SiteFile, site_avec_files


async def une(query: Any) -> dict[str, Any]:
    """The one row a query must find."""
    row = await query.first()
    assert row is not None
    return dict(row)


def t(response: Any) -> str:
    return html.unescape(response.text)


def file_form(lieu: SiteFile, **overrides: Any) -> dict[str, Any]:
    values = {
        "nom": "Accueil PMI",
        "service": lieu.service.id,
        "prefixe": "P",
        "priorites_consecutives_max": "2",
        "alerte_avant": "3",
        "transfert_garde_rang": "on",
        "actif": "on",
    }
    values.update(overrides)
    return values


@dataclass
class Roles:
    lieu: SiteFile
    comptes: dict[str, Any]


async def construire_roles() -> Roles:
    lieu = await site_avec_files()
    voisin = await factories.site(lieu.territoire, services=[lieu.service])
    ailleurs = await factories.territoire()
    return Roles(
        lieu,
        {
            "admin": await factories.agent(lieu.territoire, role="admin"),
            "responsable": await factories.agent(
                lieu.territoire, role="responsable", sites=[lieu.site]
            ),
            "responsable_voisin": await factories.agent(
                lieu.territoire, role="responsable", sites=[voisin]
            ),
            "agent": lieu.agents[0],
            "admin_ailleurs": await factories.agent(ailleurs, role="admin"),
        },
    )


@pytest.fixture(scope="module")
async def roles_partages() -> Roles:
    """One site and its five accounts for the role-by-role test (hashing passwords is slow)."""
    return await construire_roles()


async def responsable(lieu: SiteFile) -> Any:
    return await factories.agent(lieu.territoire, role="responsable", sites=[lieu.site])


async def connecte(new_browser: Any, agent: Any) -> Browser:
    navigateur: Browser = new_browser()
    await navigateur.sign_in(agent.email)
    return navigateur


PAGES = ("files", "files/nouvelle", "guichets", "appareils")
ATTENDU = {
    "admin": 200,
    "responsable": 200,
    "responsable_voisin": 403,
    "agent": 403,
    "admin_ailleurs": 404,
}


@pytest.mark.parametrize("role", list(ATTENDU))
async def test_each_role_sees_the_queue_counter_and_device_pages_only_where_it_manages(
    new_browser: Any, roles_partages: Roles, role: str
) -> None:
    lieu = roles_partages.lieu
    navigateur = await connecte(new_browser, roles_partages.comptes[role])
    for page in (*PAGES, f"files/{lieu.file.id}"):
        response = await navigateur.http.get(f"/admin/sites/{lieu.site.id}/{page}")
        assert response.status_code == ATTENDU[role], (page, response.status_code)

    base = f"/admin/sites/{lieu.site.id}"
    appareil, _ = await factories.appareil(lieu.site, "ecran")
    guichet = lieu.guichets[0].id
    avant = await une(Guichet.select(Guichet.nom).where(Guichet.id == guichet))
    created = await navigateur.post_form(f"{base}/files/nouvelle", file_form(lieu, service=""))
    renamed = await navigateur.post_form(f"{base}/guichets/{guichet}", {"nom": f"G {role}"})
    revoked = await navigateur.post_form(f"{base}/appareils/{appareil.id}/revoquer", {})
    apres = await une(Guichet.select(Guichet.nom).where(Guichet.id == guichet))
    revoque = (await une(Appareil.select().where(Appareil.id == appareil.id)))["revoque_at"]
    if ATTENDU[role] == 200:
        assert created.status_code == 422  # reached the form's checks
        assert renamed.status_code == 303 and revoked.status_code == 303
        assert apres["nom"] == f"G {role}" and revoque is not None
    else:
        for response in (created, renamed, revoked):
            assert response.status_code == ATTENDU[role]
        assert apres == avant and revoque is None


async def test_someone_signed_out_is_sent_to_the_sign_in_page(new_browser: Any) -> None:
    lieu = await site_avec_files()
    response = await new_browser().http.get(f"/admin/sites/{lieu.site.id}/files")
    assert response.status_code in (302, 303) and "/connexion" in response.headers["location"]


async def test_a_manager_creates_then_edits_a_queue_with_its_own_hours(new_browser: Any) -> None:
    lieu = await site_avec_files()
    troisieme = await factories.service(lieu.territoire, code="rsa", nom="RSA")
    from sites.tables import SiteService

    await SiteService(site=lieu.site.id, service=troisieme.id).save()
    navigateur = await connecte(new_browser, await responsable(lieu))
    base = f"/admin/sites/{lieu.site.id}/files"
    form = await navigateur.http.get(f"{base}/nouvelle")
    assert "RSA" in t(form)
    created = await navigateur.post_form(
        f"{base}/nouvelle",
        file_form(
            lieu,
            service=troisieme.id,
            prefixe="r",
            horaires_lundi="09:00-12:00, 13:30-16:30",
            priorites_consecutives_max="0",
            transfert_garde_rang="",
        ),
    )
    assert created.status_code == 303, t(created)
    row = await une(
        FileAttente.select()
        .where(FileAttente.site == lieu.site.id, FileAttente.prefixe == "R")
        .output(load_json=True)
    )
    assert row["horaires"] == {"lundi": [["09:00", "12:00"], ["13:30", "16:30"]]}
    assert row["priorites_consecutives_max"] == 0 and row["transfert_garde_rang"] is False
    assert created.headers["location"] == f"{base}/{row['id']}?enregistre=1"

    # All days empty: the queue follows the site's hours again; its own prefix is no clash.
    saved = await navigateur.post_form(
        f"{base}/{row['id']}", file_form(lieu, service=troisieme.id, prefixe="R", nom="RSA")
    )
    assert saved.status_code == 303, t(saved)
    row = await une(FileAttente.select().where(FileAttente.id == row["id"]))
    assert row["horaires"] is None and row["nom"] == "RSA"
    listing = await navigateur.http.get(base)
    assert "RSA" in t(listing) and "Ceux du site" in t(listing)


async def test_bad_queue_input_is_refused_field_by_field_and_saves_nothing(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    navigateur = await connecte(new_browser, await factories.agent(lieu.territoire, role="admin"))
    autre_service = await factories.service(lieu.territoire, code="autre", nom="Non proposé")
    url = f"/admin/sites/{lieu.site.id}/files/nouvelle"
    cases = [
        (file_form(lieu, prefixe="A"), "prefixe", "Ce préfixe est déjà pris"),
        (file_form(lieu, prefixe="A1"), "prefixe", "Une à trois lettres"),
        (file_form(lieu, prefixe=""), "prefixe", "Le préfixe est obligatoire."),
        (file_form(lieu, service=autre_service.id), "service", "proposé par ce site"),
        (file_form(lieu), "service", "Ce service a déjà sa file"),
        (file_form(lieu, horaires_mardi="18:00-09:00"), "horaires_mardi", "finit avant"),
        (file_form(lieu, priorites_consecutives_max="99"), "priorites_consecutives_max", "entre"),
        (file_form(lieu, nom=""), "nom", "Le nom est obligatoire."),
    ]
    avant = await FileAttente.count().where(FileAttente.site == lieu.site.id)
    for values, champ, message in cases:
        response = await navigateur.post_form(url, values)
        assert response.status_code == 422, (champ, response.status_code)
        assert message in t(response), champ
        assert f'id="{champ}"' in response.text
    assert await FileAttente.count().where(FileAttente.site == lieu.site.id) == avant

    # Editing the other queue to take "A" is refused too.
    edit = await navigateur.post_form(
        f"/admin/sites/{lieu.site.id}/files/{lieu.autre_file.id}",
        file_form(lieu, service=lieu.autre_service.id, prefixe="a"),
    )
    assert edit.status_code == 422 and "Ce préfixe est déjà pris" in t(edit)
    row = await une(FileAttente.select().where(FileAttente.id == lieu.autre_file.id))
    assert row["prefixe"] == "B"


async def test_counters_are_added_renamed_and_deactivated_with_unique_names(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    navigateur = await connecte(new_browser, await responsable(lieu))
    base = f"/admin/sites/{lieu.site.id}/guichets"
    added = await navigateur.post_form(base, {"nom": "Accueil"})
    assert added.status_code == 303
    taken = await navigateur.post_form(base, {"nom": "1"})
    assert taken.status_code == 422 and "porte déjà ce nom" in t(taken)
    empty = await navigateur.post_form(base, {"nom": " "})
    assert empty.status_code == 422 and "obligatoire" in t(empty)
    rename = await navigateur.post_form(f"{base}/{lieu.guichets[1].id}", {"nom": "1"})
    assert rename.status_code == 422 and "porte déjà ce nom" in t(rename)
    assert await Guichet.count().where(Guichet.site == lieu.site.id) == 3

    # A counter serving someone is not deactivated under their feet.
    agent = await connecte(new_browser, lieu.agents[0])
    await agent.post_json(f"/api/guichets/{lieu.guichets[0].id}/ouvrir", {"files": [lieu.file.id]})
    kiosque: Browser = new_browser()
    await kiosque.http.post(
        "/api/borne/tickets",
        json={"file": lieu.file.id},
        headers={"Authorization": f"Bearer {lieu.borne_jeton}"},
    )
    await agent.post_json(f"/api/guichets/{lieu.guichets[0].id}/appeler-suivant")
    busy = await navigateur.post_form(f"{base}/{lieu.guichets[0].id}/desactiver", {})
    assert busy.status_code == 409 and "reçoit quelqu'un" in t(busy)

    off = await navigateur.post_form(f"{base}/{lieu.guichets[1].id}/desactiver", {})
    assert off.status_code == 303
    row = await une(Guichet.select().where(Guichet.id == lieu.guichets[1].id))
    assert row["actif"] is False
    page = await navigateur.http.get(base)
    assert "Désactivé" in t(page) and "Réactiver" in t(page)
    on = await navigateur.post_form(f"{base}/{lieu.guichets[1].id}/activer", {})
    assert on.status_code == 303
    assert (await une(Guichet.select().where(Guichet.id == lieu.guichets[1].id)))["actif"]


async def test_pairing_refuses_unknown_and_expired_codes_then_pairs_and_revokes(
    new_browser: Any,
) -> None:
    lieu = await site_avec_files()
    navigateur = await connecte(new_browser, await responsable(lieu))
    base = f"/admin/sites/{lieu.site.id}/appareils"
    appareil, jeton = await factories.appareil(
        None,
        "ecran",
        code_appairage="K7M2XQ",
        code_expire_at=datetime.now(UTC) + timedelta(minutes=15),
    )
    row = await une(Appareil.select().where(Appareil.id == appareil.id))
    code = row["code_appairage"]

    unknown = await navigateur.post_form(base, {"code": "ZZZ999", "nom": "Écran", "kind": "ecran"})
    assert unknown.status_code == 422 and "Ce code est inconnu ou a expiré" in t(unknown)
    nameless = await navigateur.post_form(base, {"code": code, "nom": "", "kind": "ecran"})
    assert nameless.status_code == 422 and "Donnez un nom" in t(nameless)
    await Appareil.update(
        {Appareil.code_expire_at: datetime.now(UTC) - timedelta(seconds=1)}
    ).where(Appareil.id == row["id"])
    expired = await navigateur.post_form(base, {"code": code, "nom": "Écran", "kind": "ecran"})
    assert expired.status_code == 422 and "Ce code est inconnu ou a expiré" in t(expired)
    assert (await une(Appareil.select().where(Appareil.id == row["id"])))["site"] is None

    # The device shows a fresh code; that one pairs.
    code = (await appareils.nouveau_code(jeton)).code
    paired = await navigateur.post_form(
        base, {"code": code.lower(), "nom": "Écran du hall", "kind": "ecran"}
    )
    assert paired.status_code == 303
    page = await navigateur.http.get(paired.headers["location"])
    assert "Appareil appairé" in t(page) and "Écran du hall" in t(page)
    assert "Hors ligne" in t(page)

    revoked = await navigateur.post_form(f"{base}/{row['id']}/revoquer", {})
    assert revoked.status_code == 303
    assert (await une(Appareil.select().where(Appareil.id == row["id"])))["revoque_at"]
    assert "Révoqué" in t(await navigateur.http.get(base))

    # A device of another site is not revoked through this site's page.
    ailleurs = await factories.site(lieu.territoire, services=[lieu.service])
    autre, _ = await factories.appareil(ailleurs, "borne")
    admin = await connecte(new_browser, await factories.agent(lieu.territoire, role="admin"))
    wrong = await admin.post_form(f"{base}/{autre.id}/revoquer", {})
    assert wrong.status_code == 404
    assert (await une(Appareil.select().where(Appareil.id == autre.id)))["revoque_at"] is None


async def test_a_heartbeat_shows_the_device_online_and_is_written_at_most_once_a_minute(
    new_browser: Any, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lieu = await site_avec_files()
    navigateur = await connecte(new_browser, await responsable(lieu))
    base = f"/admin/sites/{lieu.site.id}/appareils"
    bearer = {"Authorization": f"Bearer {lieu.borne_jeton}"}
    assert "Hors ligne" in t(await navigateur.http.get(base))

    beat = await client.post("/api/appareils/battement", headers=bearer)
    assert beat.status_code == 204, beat.text
    assert "En ligne" in t(await navigateur.http.get(base))
    first = (await une(Appareil.select().where(Appareil.id == lieu.borne.id)))["dernier_contact_at"]
    assert first is not None

    # In the test process: a second beat within a minute writes nothing, one after it does.
    await appareils.battement(lieu.borne.id)
    assert (await une(Appareil.select().where(Appareil.id == lieu.borne.id)))[
        "dernier_contact_at"
    ] == first
    later = datetime.now(UTC) + timedelta(seconds=61)
    monkeypatch.setattr(appareils, "_maintenant", lambda: later)
    await appareils.battement(lieu.borne.id)
    assert (await une(Appareil.select().where(Appareil.id == lieu.borne.id)))[
        "dernier_contact_at"
    ] == later

    unknown = await client.post("/api/appareils/battement", headers={"Authorization": "Bearer x"})
    assert unknown.status_code == 401
