"""Websockets of the queues: a counter console (agent session) and a ticket's public page."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin

from file_attente.services import etat, guichets, lieux, tickets
from plateforme import direct, evenements
from plateforme.auth import load_principal
from plateforme.errors import DomainError


def meme_origine(socket: WebSocket[Any, Any, Any]) -> bool:
    """A cookie-authenticated socket must come from our own pages (cross-site hijacking)."""
    origin = socket.headers.get("origin")
    if origin is None:
        return True  # not a browser: no ambient cookie risk
    host = socket.headers.get("host", "")
    return urlsplit(origin).netloc == host


@websocket("/ws/sites/{site_id:int}/guichets")
async def ws_guichet(
    socket: WebSocket[Any, Any, Any], site_id: int, channels: ChannelsPlugin
) -> None:
    """Every event of the site, for the consoles of its counters (the agent's session)."""
    principal = await load_principal(socket)
    if principal is None:
        await direct.refuser(socket, direct.FERME_INCONNU, "non_authentifie")
        return
    if not meme_origine(socket):
        await direct.refuser(socket, direct.FERME_INTERDIT, "origine")
        return
    try:
        site = await lieux.site_info(site_id)
        guichets.verifier_site(principal, site)
    except DomainError:
        await direct.refuser(socket, direct.FERME_INTERDIT, "acces_refuse")
        return
    await socket.accept()
    await direct.diffuser(
        socket,
        channels,
        [evenements.canal_site(site_id)],
        lambda: etat.etat_public(site_id),
    )


@websocket("/ws/tickets/{jeton:str}")
async def ws_ticket(socket: WebSocket[Any, Any, Any], jeton: str, channels: ChannelsPlugin) -> None:
    """The holder's own ticket, sent again whenever something moves in its site's queues."""
    try:
        premier = await tickets.etat_ticket(jeton)
    except DomainError:
        await direct.refuser(socket, direct.FERME_INCONNU, "ticket_inconnu")
        return
    await socket.accept()
    dernier: dict[str, Any] = {}

    async def vue() -> dict[str, Any]:
        nonlocal dernier
        dernier = {"type": "ticket", **await tickets.etat_ticket(jeton)}
        return dernier

    async def adapter(_evenement: dict[str, Any]) -> dict[str, Any] | None:
        before = dernier
        now = await vue()
        return now if now != before else None

    await direct.diffuser(
        socket, channels, [evenements.canal_site(premier["site"])], vue, adapter=adapter
    )
