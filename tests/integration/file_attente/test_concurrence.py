"""Invariant 2 and the counters' race, against the real server, on both engines: many
kiosks issuing at once get consecutive distinct numbers; counters calling at once never get
the same ticket."""

from __future__ import annotations

import asyncio

import httpx

from file_attente.tables import Ticket, TicketHistorique
from tests import factories
from tests.integration.file_attente.conftest import site_avec_files


async def test_twenty_kiosks_at_once_get_twenty_consecutive_numbers(server: str) -> None:
    lieu = await site_avec_files(n_guichets=0)
    jetons = [(await factories.appareil(lieu.site, "borne"))[1] for _ in range(20)]

    async def prendre(http: httpx.AsyncClient, jeton: str) -> httpx.Response:
        return await http.post(
            "/api/borne/tickets",
            json={"file": lieu.file.id},
            headers={"Authorization": f"Bearer {jeton}"},
        )

    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        responses = await asyncio.gather(*(prendre(http, j) for j in jetons))
    assert [r.status_code for r in responses] == [201] * 20, [r.text for r in responses]
    codes = sorted(r.json()["ticket"] for r in responses)
    assert codes == [f"A{n:03d}" for n in range(1, 21)]
    numeros = await Ticket.select(Ticket.numero).where(Ticket.file == lieu.file.id)
    assert sorted(r["numero"] for r in numeros) == list(range(1, 21))
    # Every issue is in the log.
    logged = await TicketHistorique.count().where(
        TicketHistorique.ticket.file == lieu.file.id, TicketHistorique.evenement == "emis"
    )
    assert logged == 20


async def test_ten_counters_calling_at_once_never_share_a_ticket(new_browser) -> None:
    lieu = await site_avec_files(n_guichets=10)
    agents = []
    for agent_row, guichet in zip(lieu.agents, lieu.guichets, strict=True):
        browser = new_browser()
        await browser.sign_in(agent_row.email)
        response = await browser.post_json(
            f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id, lieu.autre_file.id]}
        )
        assert response.status_code == 200, response.text
        agents.append((browser, guichet))
    # Fewer people than counters: 6 tickets for 10 counters.
    http = agents[0][0].http
    for i in range(6):
        file_id = lieu.file.id if i % 2 else lieu.autre_file.id
        response = await http.post(
            "/api/borne/tickets",
            json={"file": file_id},
            headers={"Authorization": f"Bearer {lieu.borne_jeton}"},
        )
        assert response.status_code == 201

    responses = await asyncio.gather(
        *(b.post_json(f"/api/guichets/{g.id}/appeler-suivant") for b, g in agents)
    )
    ok = [r.json() for r in responses if r.status_code == 200]
    refused = [r.json() for r in responses if r.status_code != 200]
    assert len(ok) == 6, [r.text for r in responses]
    assert len({c["ticket_id"] for c in ok}) == 6
    assert len({c["guichet"] for c in ok}) == 6
    assert {r["code"] for r in refused} == {"personne_en_attente"}
    called = await TicketHistorique.count().where(
        TicketHistorique.ticket.file_actuelle.site == lieu.site.id,
        TicketHistorique.evenement == "appele",
    )
    assert called == 6
