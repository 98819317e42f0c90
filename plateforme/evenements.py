"""Live events: small public facts that domain services publish after commit.

One channel per site (`site_<id>`), plus one per device for its revocation.
The transport is Litestar's Channels plugin, wired in `create_app`: in memory
on one process, PostgreSQL LISTEN/NOTIFY when the database is PostgreSQL, so
that every worker delivers every event to its own sockets.

Displays and kiosks receive these events as they are (invariant 4 of
DESIGN.md), so `publier` refuses any key outside `CHAMPS_PUBLICS`: a field
with personal data cannot reach a socket by mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

logger = logging.getLogger(__name__)

# Ticket codes, counter names, queue ids and names, counts and times: nothing personal.
CHAMPS_PUBLICS = frozenset(
    {
        "type",
        "site",
        "file",
        "file_cible",
        "ticket",
        "guichet",
        "at",
        "statut",
        "en_attente",
        "appareil",
    }
)

Transport = Callable[[Any, Iterable[str]], None]
_transport: Transport | None = None


class ChampPersonnel(ValueError):
    pass


def canal_site(site_id: int) -> str:
    return f"site_{site_id}"


def canal_appareil(appareil_id: int) -> str:
    return f"appareil_{appareil_id}"


def brancher(transport: Transport | None) -> None:
    """Set by the app (Channels' `publish`); None in scripts and unit tests: events are dropped."""
    global _transport
    _transport = transport


def verifier(evenement: Mapping[str, Any]) -> dict[str, Any]:
    interdits = set(evenement) - CHAMPS_PUBLICS
    if interdits:
        raise ChampPersonnel(f"champs non publics dans un événement : {sorted(interdits)}")
    return dict(evenement)


def publier(canal: str, evenement: Mapping[str, Any]) -> None:
    """Queue one event for the channel's subscribers; call it after the commit."""
    data = verifier(evenement)
    if _transport is None:
        return
    try:
        _transport(data, [canal])
    except Exception:  # noqa: BLE001 - a lost live event must not fail the request
        logger.exception("événement non publié sur %s", canal)
