"""Two app processes behind one database: an event published by one reaches the screens
connected to the other, through PostgreSQL LISTEN/NOTIFY.

Only PostgreSQL carries events between processes (SQLite runs one process, with the
in-memory backend), so this module runs in the PostgreSQL pass of `make test`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from plateforme.settings import get_settings
from tests import factories
from tests.integration.conftest import start_server, stop_server
from tests.integration.file_attente.conftest import site_avec_files
from tests.integration.file_attente.test_websockets import jusqu_a, recevoir, ws_url

pytestmark = pytest.mark.skipif(
    not get_settings().is_postgres, reason="LISTEN/NOTIFY: PostgreSQL pass only"
)


@pytest.fixture(scope="module")
def second_server() -> Iterator[str]:
    process, base_url = start_server()
    yield base_url
    stop_server(process)


async def test_a_call_made_on_one_worker_reaches_screens_on_the_other(
    server: str, second_server: str, new_browser: Any
) -> None:
    lieu = await site_avec_files()
    _, jeton = await factories.appareil(lieu.site, "ecran")
    headers = {"Authorization": f"Bearer {jeton}"}
    async with connect(ws_url(server, "/ws/appareil"), additional_headers=headers) as on_first:
        async with connect(
            ws_url(second_server, "/ws/appareil"), additional_headers=headers
        ) as on_second:
            assert (await recevoir(on_first))["type"] == "etat"
            assert (await recevoir(on_second))["type"] == "etat"
            async with httpx.AsyncClient(base_url=second_server) as http:
                issued = await http.post(
                    "/api/borne/tickets",
                    json={"file": lieu.file.id},
                    headers={"Authorization": f"Bearer {lieu.borne_jeton}"},
                )
                assert issued.status_code == 201
            for socket in (on_first, on_second):
                event = await jusqu_a(socket, "ticket.emis")
                assert event["ticket"] == "A001"
            # And the other way: a counter on the first worker calls.
            agent = new_browser()  # talks to `server`
            await agent.sign_in(lieu.agents[0].email)
            guichet = lieu.guichets[0]
            await agent.post_json(f"/api/guichets/{guichet.id}/ouvrir", {"files": [lieu.file.id]})
            called = await agent.post_json(f"/api/guichets/{guichet.id}/appeler-suivant")
            assert called.status_code == 200
            event = await jusqu_a(on_second, "ticket.appele")
            assert json.dumps(event) and event["guichet"] == guichet.nom
