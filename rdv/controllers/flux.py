"""The agent's private calendar feed: the page that gives its address, and the feed itself.

The feed is read by calendar clients (Outlook, Google, Thunderbird, Apple),
which send no cookie and no header of ours: the secret token has to be in
the URL, `/flux/<token>.ics`. The application never logs it; uvicorn's
access log would print the path, so `MasquerJetonFlux` replaces the token
with "…" in the "uvicorn.access" records (installed when this module is
imported, that is when the app is built, after uvicorn has set up its
logging). A reverse proxy in front must do the same in its own logs.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template

from plateforme.auth import Principal, provide_principal, requires_agent
from plateforme.errors import NotFound
from plateforme.settings import Settings
from rdv.controllers.agenda import page_agenda
from rdv.services import agenda

SUFFIXE = ".ics"
_CHEMIN_FLUX = re.compile(r"(/flux/)[^/?\s\"]+")


class MasquerJetonFlux(logging.Filter):
    """Hides the token of feed URLs in log records (uvicorn puts the path in `args`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(
            isinstance(a, str) and "/flux/" in a for a in record.args
        ):
            record.args = tuple(
                _CHEMIN_FLUX.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
        if isinstance(record.msg, str) and "/flux/" in record.msg:
            record.msg = _CHEMIN_FLUX.sub(r"\1…", record.msg)
        return True


def masquer_jetons_dans_les_journaux() -> None:
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, MasquerJetonFlux) for f in access.filters):
        access.addFilter(MasquerJetonFlux())


masquer_jetons_dans_les_journaux()


def _adresse(settings: Settings, jeton: str) -> str:
    return f"{settings.public_url}/flux/{jeton}{SUFFIXE}"


class FluxController(Controller):
    path = "/agenda/flux"
    guards = [requires_agent]
    dependencies = {"principal": Provide(provide_principal)}
    include_in_schema = False

    @get("/")
    async def page(self, request: Request[Any, Any, Any], principal: Principal) -> Template:
        """The agent's subscription address: shown once, when it is created."""
        jeton = await agenda.creer_flux(principal.agent_id)
        actif = await agenda.flux_actif(principal.agent_id)
        settings: Settings = request.app.state.settings
        return page_agenda(
            "flux.html",
            principal,
            "flux",
            # The address is a secret: not kept in the browser's cache or history.
            headers={"Cache-Control": "no-store"},
            adresse=_adresse(settings, jeton) if jeton else None,
            actif=actif,
        )

    @post("/revoquer")
    async def revoquer(self, principal: Principal) -> Redirect:
        """Revoke the current address; the page then makes and shows a new one."""
        await agenda.revoquer_flux(principal.agent_id)
        return Redirect("/agenda/flux", status_code=303)


@get("/flux/{fichier:str}", include_in_schema=False)
async def flux_ics(request: Request[Any, Any, Any], fichier: str) -> Response[bytes]:
    """The agent's rdvs from 30 days ago to 180 days ahead, as an iCalendar feed."""
    if not fichier.endswith(SUFFIXE):
        return _introuvable()
    settings: Settings = request.app.state.settings
    try:
        contenu = await agenda.calendrier_du_jeton(
            fichier.removesuffix(SUFFIXE),
            host=urlsplit(settings.public_url).hostname or "localhost",
            public_url=settings.public_url,
        )
    except NotFound:
        return _introuvable()
    return Response(
        contenu,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"},
    )


def _introuvable() -> Response[bytes]:
    # Nothing that tells a guessed token from a revoked one.
    return Response(b"", status_code=404, media_type="text/plain")
