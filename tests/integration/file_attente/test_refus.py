"""Bad input and denials: each gets a clear answer and changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from file_attente.tables import Ticket
from rdv.tables import Rdv, RdvHistorique
from tests import factories
from tests.integration.file_attente.conftest import SiteFile, site_avec_files


def bearer(jeton: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {jeton}"}


async def count_tickets(lieu: SiteFile) -> int:
    return await Ticket.count().where(Ticket.file.site == lieu.site.id)


async def rdv_today(lieu: SiteFile, **values: Any) -> Any:
    motif = await factories.motif(lieu.service)
    debut = values.pop("debut", factories.bientot_aujourdhui(20))
    row = Rdv(
        motif=motif.id,
        site=values.pop("site", lieu.site.id),
        agent=lieu.agents[1].id,
        debut=debut,
        fin=debut + timedelta(minutes=30),
        code=factories.code()[:8],
        **values,
    )
    await row.save()
    return row


async def test_devices_without_a_valid_token_get_nothing(
    client: httpx.AsyncClient, lieu: SiteFile
) -> None:
    body = {"file": lieu.file.id}
    unknown = await client.post("/api/borne/tickets", json=body, headers=bearer("nope"))
    assert unknown.status_code == 401 and unknown.json()["code"] == "appareil_inconnu"
    no_header = await client.post("/api/borne/tickets", json=body)
    assert no_header.status_code == 401
    ecran, ecran_jeton = await factories.appareil(lieu.site, "ecran")
    screen = await client.post("/api/borne/tickets", json=body, headers=bearer(ecran_jeton))
    assert screen.status_code == 403 and screen.json()["code"] == "pas_une_borne"
    _, pending = await factories.appareil(None, "borne")
    unpaired = await client.post("/api/borne/tickets", json=body, headers=bearer(pending))
    assert unpaired.json()["code"] == "appareil_non_appaire"
    _, revoked = await factories.appareil(lieu.site, "borne", revoque_at=datetime.now(UTC))
    gone = await client.post("/api/borne/tickets", json=body, headers=bearer(revoked))
    assert gone.status_code == 403 and gone.json()["code"] == "appareil_revoque"
    assert await count_tickets(lieu) == 0


async def test_a_kiosk_cannot_issue_for_another_sites_queue(
    client: httpx.AsyncClient, lieu: SiteFile
) -> None:
    ailleurs = await site_avec_files(n_guichets=0)
    response = await client.post(
        "/api/borne/tickets", json={"file": ailleurs.file.id}, headers=bearer(lieu.borne_jeton)
    )
    assert response.status_code == 404 and response.json()["code"] == "file_inconnue"
    assert await count_tickets(ailleurs) == 0


async def test_a_closed_queue_gives_no_ticket(client: httpx.AsyncClient) -> None:
    lieu = await site_avec_files(n_guichets=0)
    # Open only at an hour that is not now.
    now = datetime.now(ZoneInfo("Europe/Paris"))
    start = (now + timedelta(hours=3)).strftime("%H:00")
    end = (now + timedelta(hours=4)).strftime("%H:00")
    if end <= start:
        start, end = "00:00", "00:01"
    jours = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    from file_attente.tables import FileAttente

    await FileAttente.update({FileAttente.horaires: {j: [[start, end]] for j in jours}}).where(
        FileAttente.id == lieu.file.id
    )
    response = await client.post(
        "/api/borne/tickets", json={"file": lieu.file.id}, headers=bearer(lieu.borne_jeton)
    )
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "file_fermee"
    assert "fermée" in response.json()["message"]
    assert await count_tickets(lieu) == 0


async def test_a_kiosk_issuing_too_fast_is_refused(client: httpx.AsyncClient) -> None:
    lieu = await site_avec_files(n_guichets=0)
    statuses = []
    for _ in range(22):
        response = await client.post(
            "/api/borne/tickets", json={"file": lieu.file.id}, headers=bearer(lieu.borne_jeton)
        )
        statuses.append(response.status_code)
    assert statuses.count(201) == 20
    assert statuses[-1] == 429
    assert await count_tickets(lieu) == 20


async def test_check_in_refusals(client: httpx.AsyncClient, lieu: SiteFile) -> None:
    async def check_in(code: str) -> httpx.Response:
        return await client.post(
            "/api/borne/arrivees", json={"code": code}, headers=bearer(lieu.borne_jeton)
        )

    unknown = await check_in("ZZZZZZZZ")
    assert unknown.status_code == 404 and unknown.json()["code"] == "code_inconnu"
    ailleurs = await site_avec_files(n_guichets=0)
    other_site = await rdv_today(lieu, site=ailleurs.site.id)
    response = await check_in(other_site.code)
    assert response.status_code == 409 and response.json()["code"] == "autre_site"
    tomorrow = await rdv_today(lieu, debut=datetime.now(UTC) + timedelta(days=2))
    response = await check_in(tomorrow.code)
    assert response.status_code == 409 and response.json()["code"] == "autre_jour"
    cancelled = await rdv_today(lieu, statut="annule")
    response = await check_in(cancelled.code)
    assert response.status_code == 409 and response.json()["code"] == "rdv_plus_a_venir"
    assert await count_tickets(lieu) == 0
    arrived = await Rdv.count().where(
        Rdv.id.is_in([other_site.id, tomorrow.id, cancelled.id]), Rdv.arrive_at.is_not_null()
    )
    assert arrived == 0


async def test_check_in_marks_the_rdv_arrived_once_with_one_priority_ticket(
    client: httpx.AsyncClient, lieu: SiteFile
) -> None:
    rdv = await rdv_today(lieu)
    walk_in = await client.post(
        "/api/borne/tickets", json={"file": lieu.file.id}, headers=bearer(lieu.borne_jeton)
    )
    assert walk_in.status_code == 201
    first = await client.post(
        "/api/borne/arrivees",
        json={"code": rdv.code.lower()[:4] + " " + rdv.code.lower()[4:]},
        headers=bearer(lieu.borne_jeton),
    )
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["deja_arrive"] is False
    assert body["ticket"]["ticket"] == "A002"
    # The appointment goes before the walk-in who came earlier.
    assert body["ticket"]["devant"] == 0
    again = await client.post(
        "/api/borne/arrivees", json={"code": rdv.code}, headers=bearer(lieu.borne_jeton)
    )
    assert again.json()["deja_arrive"] is True
    assert again.json()["ticket"]["ticket"] == "A002"
    assert await count_tickets(lieu) == 2
    row = await Rdv.select(Rdv.arrive_at).where(Rdv.id == rdv.id).first()
    assert row is not None and row["arrive_at"] is not None
    logged = await RdvHistorique.count().where(
        RdvHistorique.rdv == rdv.id, RdvHistorique.evenement == "arrive"
    )
    assert logged == 1


async def test_remote_ticket_needs_a_mobile(client: httpx.AsyncClient, lieu: SiteFile) -> None:
    landline = await client.post(
        f"/api/files/{lieu.file.id}/tickets", json={"telephone": "05 61 00 00 00"}
    )
    assert landline.status_code == 422
    assert "telephone" in landline.json()["fields"]
    ok = await client.post(
        f"/api/files/{lieu.file.id}/tickets", json={"telephone": "06 12 34 56 78"}
    )
    assert ok.status_code == 201, ok.text
    twice = await client.post(
        f"/api/files/{lieu.file.id}/tickets", json={"telephone": "+33612345678"}
    )
    assert twice.status_code == 409 and twice.json()["code"] == "deja_en_file"
    assert await count_tickets(lieu) == 1


async def test_counter_permissions(new_browser: Any, client: httpx.AsyncClient) -> None:
    lieu = await site_avec_files()
    other_site_agent = await factories.agent(lieu.territoire)  # no site
    autre_territoire = await site_avec_files(n_guichets=1)
    guichet = lieu.guichets[0]

    anonymous = await client.post(f"/api/guichets/{guichet.id}/appeler-suivant")
    assert anonymous.status_code in (401, 403)

    stranger = new_browser()
    await stranger.sign_in(other_site_agent.email)
    response = await stranger.post_json(
        f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id]}
    )
    assert response.status_code == 403
    assert (await stranger.http.get(f"/api/sites/{lieu.site.id}/console")).status_code == 403

    foreign = new_browser()
    await foreign.sign_in(autre_territoire.agents[0].email)
    response = await foreign.post_json(
        f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id]}
    )
    assert response.status_code == 404
    assert (await foreign.http.get(f"/api/sites/{lieu.site.id}/console")).status_code == 404

    # A queue of another site cannot be served from this counter.
    agent = new_browser()
    await agent.sign_in(lieu.agents[0].email)
    response = await agent.post_json(
        f"/api/guichets/{guichet.id}/ouvrir", {"files": [autre_territoire.file.id]}
    )
    assert response.status_code == 422
    # Calling from a counter someone else opened.
    await agent.post_json(f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id]})
    colleague = new_browser()
    await colleague.sign_in(lieu.agents[1].email)
    response = await colleague.post_json(f"/api/guichets/{guichet.id}/appeler-suivant")
    assert response.status_code == 409 and response.json()["code"] == "guichet_non_ouvert"


async def test_a_ticket_taken_by_another_counter_is_a_409(
    new_browser: Any, client: httpx.AsyncClient, lieu: SiteFile
) -> None:
    ticket = await client.post(
        "/api/borne/tickets", json={"file": lieu.file.id}, headers=bearer(lieu.borne_jeton)
    )
    consoles = []
    for agent_row, guichet in zip(lieu.agents, lieu.guichets, strict=True):
        browser = new_browser()
        await browser.sign_in(agent_row.email)
        await browser.post_json(f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id]})
        consoles.append((browser, guichet))
    (one, g1), (two, g2) = consoles
    called = await one.post_json(f"/api/guichets/{g1.id}/appeler-suivant")
    tid = called.json()["ticket_id"]
    assert called.json()["ticket"] == ticket.json()["ticket"]
    for action in ("commencer", "terminer", "absent", "rappeler", "appeler"):
        response = await two.post_json(f"/api/guichets/{g2.id}/tickets/{tid}/{action}")
        assert response.status_code == 409, (action, response.text)
        assert response.json()["code"] == "ticket_pris"
    state = (await client.get(f"/api/tickets/{ticket.json()['jeton']}")).json()
    assert (state["statut"], state["guichet"]) == ("appele", g1.nom)


async def test_a_kiosk_check_in_shows_at_once_in_the_professionals_agenda(
    client: httpx.AsyncClient, new_browser: Any, lieu: SiteFile
) -> None:
    rdv = await rdv_today(lieu)
    professional = new_browser()
    await professional.sign_in(lieu.agents[1].email)
    jour = rdv.debut.astimezone(ZoneInfo("Europe/Paris")).date().isoformat()
    before = await professional.http.get("/agenda", params={"jour": jour})
    assert "Arrivé à" not in before.text
    checked = await client.post(
        "/api/borne/arrivees", json={"code": rdv.code}, headers=bearer(lieu.borne_jeton)
    )
    assert checked.status_code == 201
    after = await professional.http.get("/agenda", params={"jour": jour})
    arrived = datetime.now(ZoneInfo("Europe/Paris"))
    assert "Arrivé à" in after.text
    assert any(f"Arrivé à {(arrived - timedelta(minutes=m)):%H:%M}" in after.text for m in (0, 1))


async def test_a_kiosk_cannot_try_codes_forever(client: httpx.AsyncClient) -> None:
    lieu = await site_avec_files(n_guichets=0)
    statuses = []
    for i in range(31):
        response = await client.post(
            "/api/borne/arrivees",
            json={"code": f"ZZZZ{i:04d}"},
            headers=bearer(lieu.borne_jeton),
        )
        statuses.append(response.status_code)
    assert statuses[:30] == [404] * 30
    assert statuses[30] == 429
    # Another kiosk of the site is not locked out.
    _, other = await factories.appareil(lieu.site, "borne")
    response = await client.post(
        "/api/borne/arrivees", json={"code": "ZZZZ9999"}, headers=bearer(other)
    )
    assert response.status_code == 404


async def test_one_address_cannot_take_remote_tickets_without_limit() -> None:
    """Each remote ticket may cost SMS: one address gets a few per hour, then a 429."""
    from rdv.tables import TentativeCode
    from tests.integration.conftest import start_server, stop_server

    lieu = await site_avec_files(n_guichets=0)
    # Other tests of this run took some from 127.0.0.1 already.
    before = await TentativeCode.count().where(TentativeCode.ip == "distance:127.0.0.1")
    process, base_url = start_server({"TICKETS_DISTANCE_PAR_HEURE": str(before + 2)})
    try:
        async with httpx.AsyncClient(base_url=base_url) as http:
            statuses = [
                (
                    await http.post(
                        f"/api/files/{lieu.file.id}/tickets",
                        json={"telephone": f"06 12 34 56 7{i}"},
                    )
                ).status_code
                for i in range(3)
            ]
    finally:
        stop_server(process)
    assert statuses == [201, 201, 429]
    assert await count_tickets(lieu) == 2


async def test_a_check_in_when_the_walk_in_queue_is_closed_still_records_the_arrival(
    client: httpx.AsyncClient, lieu: SiteFile
) -> None:
    from file_attente.tables import FileAttente

    jours = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
    await FileAttente.update(
        {FileAttente.horaires: {j: [["00:00", "00:01"]] for j in jours}}
    ).where(FileAttente.id == lieu.file.id)
    rdv = await rdv_today(lieu)
    response = await client.post(
        "/api/borne/arrivees", json={"code": rdv.code}, headers=bearer(lieu.borne_jeton)
    )
    assert response.status_code == 201, response.text
    assert response.json()["ticket"] is None
    assert "on vient vous chercher" in response.json()["message"]
    row = await Rdv.select(Rdv.arrive_at).where(Rdv.id == rdv.id).first()
    assert row is not None and row["arrive_at"] is not None
