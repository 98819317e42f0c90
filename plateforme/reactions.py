"""Reactions inside the domain's transaction: how the notifications package writes its
outbox rows in the same transaction as the change that causes them (invariant 3),
while the domain packages never import it.

A domain service calls `await reagir("rdv.cree", rdv_id=...)` inside its write
transaction; the handlers registered for that name run there and then, so a
rollback takes their rows with it. Which packages react is the composition
root's business: `MODULES` are imported once, on first use, and register
themselves with `@reaction(...)`.
"""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

Handler = Callable[..., Awaitable[None]]

MODULES = ("notifications.reactions",)

_handlers: dict[str, list[Handler]] = defaultdict(list)
_charge = False


def reaction(nom: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if handler not in _handlers[nom]:
            _handlers[nom].append(handler)
        return handler

    return register


def _charger() -> None:
    global _charge
    if not _charge:
        for module in MODULES:
            importlib.import_module(module)
        _charge = True


async def reagir(nom: str, **donnees: Any) -> None:
    """Run the handlers of `nom` in the caller's transaction; their errors roll it back."""
    _charger()
    for handler in _handlers.get(nom, ()):
        await handler(**donnees)
