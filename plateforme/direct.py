"""The live loop of every websocket: subscribe, send the state, then the events.

Subscribing comes first and the state is read after, so that no event can fall
between the two; an event that the state already reflects may then arrive
once more, which is why clients apply events idempotently. Clients send
`{"type": "ping"}` now and then; the server answers `{"type": "pong"}` and the
endpoint may record a heartbeat. The close codes tell a client what to do:

- 4401: unknown or missing credentials: stop and pair (or sign in) again;
- 4403: revoked, or not allowed here: stop;
- 1001/1012 (server going away or restarting), or a network cut: reconnect
  with backoff, then resync from the state sent first.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from litestar import WebSocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect

logger = logging.getLogger(__name__)

FERME_INCONNU = 4401
FERME_INTERDIT = 4403

# Turns an event into what this client gets (None: nothing), e.g. a ticket's own view.
Adapter = Callable[[dict[str, Any]], Awaitable[dict[str, Any] | None]]


async def refuser(socket: WebSocket[Any, Any, Any], code: int, raison: str) -> None:
    """Accept then close at once with a code and a reason a client can act on; nothing else
    is sent."""
    await socket.accept()
    await socket.close(code=code, reason=raison)


async def diffuser(
    socket: WebSocket[Any, Any, Any],
    channels: ChannelsPlugin,
    canaux: Iterable[str],
    etat: Callable[[], Awaitable[dict[str, Any]]],
    *,
    adapter: Adapter | None = None,
    fermer_si: Callable[[dict[str, Any]], int | None] | None = None,
    battement: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run one accepted socket until the client leaves (or `fermer_si` says to close)."""
    async with channels.start_subscription(list(canaux)) as subscriber:
        await socket.send_json(await etat())

        async def envoyer(data: bytes) -> None:
            evenement = json.loads(data)
            if fermer_si is not None and (code := fermer_si(evenement)) is not None:
                await socket.close(code=code, reason="revoque")
                return
            message = await adapter(evenement) if adapter else evenement
            if message is not None:
                await socket.send_json(message)

        try:
            async with subscriber.run_in_background(envoyer, join=False):
                while True:
                    texte = await socket.receive_text()
                    if _est_ping(texte):
                        if battement is not None:
                            await battement()
                        await socket.send_json({"type": "pong"})
        except WebSocketDisconnect:
            return
        except RuntimeError:
            # Sending on a socket the worker task just closed.
            return


def _est_ping(texte: str) -> bool:
    try:
        return bool(json.loads(texte).get("type") == "ping")
    except (ValueError, AttributeError):
        return False
