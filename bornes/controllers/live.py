"""The websocket of kiosks and displays: the site's state, then its events; never a person."""

from __future__ import annotations

from typing import Any

from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin

from bornes.controllers.auth import jeton
from bornes.services import appareils
from file_attente.services import etat
from plateforme import direct, evenements


@websocket("/ws/appareil")
async def ws_appareil(socket: WebSocket[Any, Any, Any], channels: ChannelsPlugin) -> None:
    info = await appareils.authentifier(jeton(socket, cookie=True))
    if info is None:
        await direct.refuser(socket, direct.FERME_INCONNU, "appareil_inconnu")
        return
    if info.revoque:
        await direct.refuser(socket, direct.FERME_INTERDIT, "appareil_revoque")
        return
    if info.site_id is None:
        await direct.refuser(socket, direct.FERME_INCONNU, "appareil_non_appaire")
        return
    site_id = info.site_id
    await socket.accept()
    await appareils.battement(info.id)

    def revoque(evenement: dict[str, Any]) -> int | None:
        if evenement.get("type") == "appareil.revoque" and evenement.get("appareil") == info.id:
            return direct.FERME_INTERDIT
        return None

    await direct.diffuser(
        socket,
        channels,
        [evenements.canal_site(site_id), evenements.canal_appareil(info.id)],
        lambda: etat.etat_public(site_id),
        fermer_si=revoque,
        battement=lambda: appareils.battement(info.id),
    )
