"""Sign-in and sign-out pages of the agents."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from plateforme.auth import close_session, open_session
from plateforme.errors import NotAuthenticated, TooManyRequests
from plateforme.settings import Settings
from sites.services.agents import authenticate


def safe_next(target: str | None) -> str:
    """Only paths of this site, never another host ("//evil.example")."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


class ConnexionController(Controller):
    include_in_schema = False

    @get("/connexion", name="connexion")
    async def page(self, suivant: str | None = None) -> Template:
        """The sign-in form."""
        return Template("connexion.html", context={"suivant": safe_next(suivant), "email": ""})

    @post("/connexion")
    async def sign_in(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        """Check the credentials, open the session, go where the agent was going."""
        form = await request.form()
        email = str(form.get("email") or "")
        settings: Settings = request.app.state.settings
        ip = request.client.host if request.client else "inconnue"
        try:
            agent_id, epoch = await authenticate(
                email,
                str(form.get("mot_de_passe") or ""),
                ip=ip,
                max_failures=settings.login_max_failures,
                window_seconds=settings.login_window_seconds,
            )
        except (NotAuthenticated, TooManyRequests) as error:
            headers = (
                {"Retry-After": str(error.retry_after)}
                if isinstance(error, TooManyRequests)
                else None
            )
            return Template(
                "connexion.html",
                context={
                    "suivant": safe_next(str(form.get("suivant") or "")),
                    "email": email,
                    "message": error.message,
                },
                status_code=error.status_code,
                headers=headers,
            )
        open_session(request, agent_id, epoch)
        return Redirect(safe_next(str(form.get("suivant") or "")), status_code=303)

    @post("/deconnexion")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        """Close the session."""
        close_session(request)
        return Redirect("/connexion", status_code=303)
