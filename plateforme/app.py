"""The application factory: the one place where the packages are wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from os import PathLike
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import ResponseHeader, State
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from plateforme import db
from plateforme.auth import session_config
from plateforme.health import HealthController
from plateforme.http_errors import EXCEPTION_HANDLERS
from plateforme.settings import PROJECT_ROOT, Settings, get_settings

TEMPLATE_DIRS: list[Path | PathLike[Any] | str] = [
    PROJECT_ROOT / "plateforme" / "templates",
    PROJECT_ROOT / "sites" / "templates",
    PROJECT_ROOT / "rdv" / "templates",
]


# Sent with every answer: no MIME sniffing, no framing of our pages by other
# sites (clickjacking of the admin forms), no full URL leaked to other sites.
SECURITY_HEADERS = [
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Referrer-Policy", value="strict-origin-when-cross-origin"),
]


def _lifespan(settings: Settings):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        await db.start(settings)
        app.state.ready = True
        try:
            yield
        finally:
            app.state.ready = False
            await db.stop()

    return database


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    from rdv.controllers import ROUTE_HANDLERS as RDV_HANDLERS
    from sites.controllers import ROUTE_HANDLERS as SITES_HANDLERS
    from sites.services.agents import load_principal

    return Litestar(
        route_handlers=[
            HealthController,
            *SITES_HANDLERS,
            *RDV_HANDLERS,
            create_static_files_router(
                path="/static", directories=[Path(PROJECT_ROOT / "plateforme" / "static")]
            ),
        ],
        lifespan=[_lifespan(settings)],
        middleware=[session_config(settings).middleware],
        csrf_config=CSRFConfig(
            secret=settings.csrf_secret,
            cookie_name="rdv_csrf",
            cookie_secure=settings.cookie_secure,
            cookie_samesite="lax",
            header_name="x-csrftoken",
        ),
        template_config=TemplateConfig(directory=TEMPLATE_DIRS, engine=JinjaTemplateEngine),
        openapi_config=OpenAPIConfig(
            title="RDV & file d'attente",
            version="0.1.0",
            description=(
                "Prise de rendez-vous, files d'attente, bornes et écrans des collectivités."
            ),
            path="/schema",
            use_handler_docstrings=True,
            render_plugins=[
                JsonRenderPlugin(path="/openapi.json"),
                SwaggerRenderPlugin(path="/swagger"),
            ],
            components=Components(
                security_schemes={
                    "session": SecurityScheme(
                        type="apiKey", name="rdv_session", security_scheme_in="cookie"
                    )
                }
            ),
        ),
        exception_handlers=EXCEPTION_HANDLERS,
        response_headers=SECURITY_HEADERS,
        logging_config=LoggingConfig(
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            log_exceptions="never",
        ),
        state=State({"principal_loader": load_principal, "settings": settings, "ready": False}),
        debug=False,
    )
