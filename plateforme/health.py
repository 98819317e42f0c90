"""Liveness and readiness probes for load balancers and compose."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get

from plateforme import db


class Sante(msgspec.Struct):
    status: str
    database: str


class HealthController(Controller):
    tags = ["Exploitation"]

    @get("/health", operation_id="sante", cache=False)
    async def health(self) -> Response[Sante]:
        """Liveness: the process answers and the database is reachable."""
        reachable = await db.ping()
        body = Sante(
            status="ok" if reachable else "degrade", database="ok" if reachable else "injoignable"
        )
        return Response(body, status_code=200 if reachable else 503)

    @get("/ready", operation_id="pret", cache=False)
    async def ready(self, request: Request[Any, Any, Any]) -> Response[Sante]:
        """Readiness: started, not shutting down, and the database is reachable."""
        started = bool(getattr(request.app.state, "ready", False))
        reachable = await db.ping()
        ok = started and reachable
        body = Sante(
            status="pret" if ok else "pas_pret", database="ok" if reachable else "injoignable"
        )
        return Response(body, status_code=200 if ok else 503)
