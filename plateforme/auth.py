"""Agent sessions and guards: who is signed in, and may they use this route.

The session cookie is encrypted (AES-GCM) and carries only the agent's id and
session epoch; the agent is read again on every request, so a deactivated
agent or a bumped epoch signs them out at once on every worker. Which agent
data makes a Principal is the sites package's business: it is wired in
`create_app` as `app.state.principal_loader`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.client_side import CookieBackendConfig

from plateforme.errors import Forbidden, NotAuthenticated
from plateforme.settings import Settings

SESSION_KEY = "agent"

ROLE_ADMIN = "admin"
ROLE_RESPONSABLE = "responsable"
ROLE_AGENT = "agent"


@dataclass(frozen=True)
class Principal:
    """The signed-in agent, as the guards and services need them."""

    agent_id: int
    territoire_id: int
    role: str
    prenom: str
    nom: str
    email: str
    site_ids: frozenset[int] = field(default_factory=frozenset)
    service_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_admin(self) -> bool:
        return self.role == ROLE_ADMIN

    def manages_site(self, site_id: int) -> bool:
        """Admins manage every site of their territoire; a responsable only theirs."""
        if self.is_admin:
            return True
        return self.role == ROLE_RESPONSABLE and site_id in self.site_ids


PrincipalLoader = Callable[[int, int], Awaitable[Principal | None]]


def session_config(settings: Settings) -> CookieBackendConfig:
    return CookieBackendConfig(
        secret=settings.session_key,
        key="rdv_session",
        max_age=settings.session_max_age_seconds,
        httponly=True,
        secure=settings.cookie_secure,
        samesite="lax",
    )


def open_session(connection: ASGIConnection[Any, Any, Any, Any], agent_id: int, epoch: int) -> None:
    connection.set_session({SESSION_KEY: {"id": agent_id, "epoch": epoch}})


def close_session(connection: ASGIConnection[Any, Any, Any, Any]) -> None:
    connection.clear_session()


async def load_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal | None:
    cached = connection.scope.get("state", {}).get("principal")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    session = connection.scope.get("session") or {}
    data = session.get(SESSION_KEY) if isinstance(session, dict) else None
    if not isinstance(data, dict) or not isinstance(data.get("id"), int):
        return None
    loader: PrincipalLoader = connection.app.state.principal_loader
    principal = await loader(data["id"], int(data.get("epoch", -1)))
    if principal is not None:
        connection.state.principal = principal
    return principal


async def requires_agent(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: a signed-in agent, and one of the route's `roles` when it names some."""
    principal = await load_principal(connection)
    if principal is None:
        raise NotAuthenticated()
    roles = handler.opt.get("roles")
    if roles and principal.role not in roles:
        raise Forbidden()


async def provide_principal(request: Any) -> Principal:
    """Dependency for handlers behind `requires_agent`."""
    principal = await load_principal(request)
    if principal is None:
        raise NotAuthenticated()
    return principal
