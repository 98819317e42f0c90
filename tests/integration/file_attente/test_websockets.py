"""Live events with real websocket clients against the running server: a call reaches every
screen of the site and none of another site; screens never see a person (invariant 4);
unknown and revoked devices are shut out with a clear close code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from plateforme.evenements import CHAMPS_PUBLICS
from rdv.tables import Rdv, RdvParticipant
from tests import factories
from tests.integration.file_attente.conftest import SiteFile, site_avec_files


def ws_url(server: str, path: str) -> str:
    return server.replace("http://", "ws://") + path


@asynccontextmanager
async def ecran(server: str, jeton: str) -> AsyncIterator[ClientConnection]:
    async with connect(
        ws_url(server, "/ws/appareil"), additional_headers={"Authorization": f"Bearer {jeton}"}
    ) as socket:
        yield socket


async def recevoir(socket: ClientConnection, delai: float = 5) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(socket.recv(), delai))


async def jusqu_a(socket: ClientConnection, type_: str, delai: float = 5) -> dict[str, Any]:
    while True:
        message = await recevoir(socket, delai)
        if message["type"] == type_:
            return message


async def ouvrir_guichet(new_browser: Any, lieu: SiteFile, index: int = 0) -> Any:
    browser = new_browser()
    await browser.sign_in(lieu.agents[index].email)
    guichet = lieu.guichets[index]
    response = await browser.post_json(
        f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id, lieu.autre_file.id]}
    )
    assert response.status_code == 200, response.text
    return browser


async def test_a_call_reaches_every_screen_of_the_site_and_no_other(
    server: str, client: httpx.AsyncClient, new_browser: Any
) -> None:
    lieu = await site_avec_files()
    ailleurs = await site_avec_files()
    jetons = [(await factories.appareil(lieu.site, "ecran"))[1] for _ in range(2)]
    (_, autre_jeton) = await factories.appareil(ailleurs.site, "ecran")
    agent = await ouvrir_guichet(new_browser, lieu)
    ticket = await client.post(
        "/api/borne/tickets",
        json={"file": lieu.file.id},
        headers={"Authorization": f"Bearer {lieu.borne_jeton}"},
    )
    async with (
        ecran(server, jetons[0]) as un,
        ecran(server, jetons[1]) as deux,
        ecran(server, autre_jeton) as autre,
    ):
        for socket in (un, deux, autre):
            assert (await recevoir(socket))["type"] == "etat"
        response = await agent.post_json(f"/api/guichets/{lieu.guichets[0].id}/appeler-suivant")
        assert response.status_code == 200
        for socket in (un, deux):
            event = await jusqu_a(socket, "ticket.appele")
            assert event["ticket"] == ticket.json()["ticket"] == "A001"
            assert event["guichet"] == lieu.guichets[0].nom
            assert event["site"] == lieu.site.id
        with pytest.raises(TimeoutError):
            await recevoir(autre, delai=1)


async def test_screens_never_receive_personal_data(
    server: str, client: httpx.AsyncClient, new_browser: Any
) -> None:
    """Every event type, with a checked-in rdv and a phone on a ticket."""
    lieu = await site_avec_files()
    (_, jeton) = await factories.appareil(lieu.site, "ecran")
    usager = await factories.usager(
        lieu.territoire, prenom="Zoé", nom="Personnelle", telephone="+33698765432"
    )
    motif = await factories.motif(lieu.service, nom="Vaccination de Zoé")
    debut = factories.bientot_aujourdhui(30)
    rdv = Rdv(
        motif=motif.id,
        site=lieu.site.id,
        agent=lieu.agents[1].id,
        debut=debut,
        fin=debut + timedelta(minutes=30),
        code=factories.code()[:8],
    )
    await rdv.save()
    await RdvParticipant(rdv=rdv.id, usager=usager.id).save()
    personnels = ["Zoé", "Personnelle", "698765432", "0698765432", "Vaccination", rdv.code]

    agent = await ouvrir_guichet(new_browser, lieu)
    g = lieu.guichets[0].id
    received: list[str] = []
    async with ecran(server, jeton) as socket:
        received.append(await asyncio.wait_for(socket.recv(), 5))
        borne = {"Authorization": f"Bearer {lieu.borne_jeton}"}
        checked = await client.post("/api/borne/arrivees", json={"code": rdv.code}, headers=borne)
        assert checked.status_code == 201, checked.text
        walk_in = await client.post(
            "/api/borne/tickets",
            json={"file": lieu.file.id, "telephone": "06 98 76 54 32"},
            headers=borne,
        )
        assert walk_in.status_code == 201, walk_in.text
        other = await client.post("/api/borne/tickets", json={"file": lieu.file.id}, headers=borne)
        # The rdv check-in goes first (priority), then the walk-in with a phone.
        steps = [
            ("appeler-suivant", None),
            ("tickets/{t}/rappeler", None),
            ("tickets/{t}/commencer", None),
            ("tickets/{t}/terminer", None),
            ("appeler-suivant", None),
            ("tickets/{t}/transferer", {"file": lieu.autre_file.id}),
            ("appeler-suivant", None),
            ("tickets/{t}/absent", None),
        ]
        current = None
        for path, body in steps:
            response = await agent.post_json(f"/api/guichets/{g}/" + path.format(t=current), body)
            assert response.status_code == 200, (path, response.text)
            current = response.json()["ticket_id"]
        cancelled = await client.post(f"/api/tickets/{other.json()['jeton']}/annuler")
        assert cancelled.status_code == 200
        types = set()
        while True:
            try:
                raw = await asyncio.wait_for(socket.recv(), 1.5)
            except TimeoutError:
                break
            received.append(raw)
            types.add(json.loads(raw)["type"])
    assert types >= {
        "ticket.emis",
        "ticket.appele",
        "ticket.rappele",
        "ticket.commence",
        "ticket.termine",
        "ticket.transfere",
        "ticket.absent",
        "ticket.annule",
    }
    for raw in received:
        for word in personnels:
            assert word not in raw, (word, raw)
        message = json.loads(raw)
        if message["type"] != "etat":
            assert set(message) <= CHAMPS_PUBLICS, message


async def test_unknown_and_revoked_devices_are_closed_with_a_code_and_nothing_sent(
    server: str, new_browser: Any
) -> None:
    lieu = await site_avec_files()
    with pytest.raises(ConnectionClosed) as unknown:
        async with ecran(server, "pas-un-jeton") as socket:
            await recevoir(socket)
    assert unknown.value.rcvd is not None and unknown.value.rcvd.code == 4401

    appareil, jeton = await factories.appareil(lieu.site, "ecran")
    admin = await factories.agent(lieu.territoire, role="admin")
    manager = new_browser()
    await manager.sign_in(admin.email)
    async with ecran(server, jeton) as socket:
        assert (await recevoir(socket))["type"] == "etat"
        revoked = await manager.post_json(f"/api/appareils/{appareil.id}/revoquer")
        assert revoked.status_code == 204, revoked.text
        with pytest.raises(ConnectionClosed) as closed:
            await recevoir(socket)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    with pytest.raises(ConnectionClosed) as again:
        async with ecran(server, jeton) as socket:
            await recevoir(socket)
    assert again.value.rcvd is not None and again.value.rcvd.code == 4403


async def test_a_ticket_holder_follows_their_place_live(
    server: str, client: httpx.AsyncClient, new_browser: Any
) -> None:
    lieu = await site_avec_files()
    borne = {"Authorization": f"Bearer {lieu.borne_jeton}"}
    first = (
        await client.post("/api/borne/tickets", json={"file": lieu.file.id}, headers=borne)
    ).json()
    second = (
        await client.post("/api/borne/tickets", json={"file": lieu.file.id}, headers=borne)
    ).json()
    agent = await ouvrir_guichet(new_browser, lieu)
    async with connect(ws_url(server, f"/ws/tickets/{second['jeton']}")) as socket:
        state = await recevoir(socket)
        assert (state["ticket"], state["devant"]) == ("A002", 1)
        await agent.post_json(f"/api/guichets/{lieu.guichets[0].id}/appeler-suivant")
        update = await jusqu_a(socket, "ticket")
        assert update["devant"] == 0
        assert first["ticket"] == "A001"
