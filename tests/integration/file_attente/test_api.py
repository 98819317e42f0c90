"""The queue as people use it: a kiosk ticket, a counter calls it, serves it; the public page."""

from __future__ import annotations

import httpx

from tests.integration.file_attente.conftest import SiteFile


def borne(jeton: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {jeton}"}


async def test_kiosk_ticket_then_counter_serves_it(
    client: httpx.AsyncClient, new_browser, lieu: SiteFile
) -> None:
    first = await client.post(
        "/api/borne/tickets", json={"file": lieu.file.id}, headers=borne(lieu.borne_jeton)
    )
    assert first.status_code == 201, first.text
    second = await client.post(
        "/api/borne/tickets", json={"file": lieu.file.id}, headers=borne(lieu.borne_jeton)
    )
    assert [first.json()["ticket"], second.json()["ticket"]] == ["A001", "A002"]
    assert second.json()["devant"] == 1

    agent = new_browser()
    assert (await agent.sign_in(lieu.agents[0].email)).status_code in (200, 302, 303)
    guichet = lieu.guichets[0]
    opened = await agent.post_json(f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id]})
    assert opened.status_code == 200, opened.text
    called = await agent.post_json(f"/api/guichets/{guichet.id}/appeler-suivant")
    assert called.status_code == 200, called.text
    assert called.json()["ticket"] == "A001"

    public = await client.get(f"/api/tickets/{first.json()['jeton']}")
    assert public.json()["statut"] == "appele"
    assert public.json()["guichet"] == guichet.nom
    assert (await client.get(f"/api/tickets/{second.json()['jeton']}")).json()["devant"] == 0

    tid = called.json()["ticket_id"]
    for action, statut in (("commencer", "en_cours"), ("terminer", "termine")):
        response = await agent.post_json(f"/api/guichets/{guichet.id}/tickets/{tid}/{action}")
        assert response.status_code == 200, response.text
        assert response.json()["statut"] == statut

    state = (await client.get(f"/api/sites/{lieu.site.id}/files")).json()
    pmi = next(f for f in state["files"] if f["id"] == lieu.file.id)
    assert pmi["en_attente"] == 1
    assert state["appels"][0] == {
        "ticket": "A001",
        "guichet": guichet.nom,
        "at": state["appels"][0]["at"],
    }
