"""The application factory: the one place where the packages are wired together."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from os import PathLike
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.asyncpg import AsyncPgChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import ResponseHeader, State
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from plateforme import db, evenements
from plateforme.auth import session_config
from plateforme.health import HealthController
from plateforme.http_errors import EXCEPTION_HANDLERS
from plateforme.planificateur import Tache, planificateur
from plateforme.settings import PROJECT_ROOT, Settings, get_settings

TEMPLATE_DIRS: list[Path | PathLike[Any] | str] = [
    PROJECT_ROOT / "plateforme" / "templates",
    PROJECT_ROOT / "sites" / "templates",
    PROJECT_ROOT / "rdv" / "templates",
    PROJECT_ROOT / "file_attente" / "templates",
    PROJECT_ROOT / "bornes" / "templates",
    PROJECT_ROOT / "notifications" / "templates",
]


# Sent with every answer: no MIME sniffing, no framing of our pages by other
# sites (clickjacking of the admin forms), no full URL leaked to other sites.
SECURITY_HEADERS = [
    ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
    ResponseHeader(name="X-Frame-Options", value="DENY"),
    ResponseHeader(name="Referrer-Policy", value="strict-origin-when-cross-origin"),
]


# Cyclic garbage collection: young objects every 10,000 allocations (700 by default),
# the whole heap after 100 passes over the middle generation (10 by default).
SEUILS_GC = (10_000, 10, 100)
_SEUILS_GC_PYTHON = gc.get_threshold()


def regler_le_ramasse_miettes() -> None:
    """Keep the collector's full passes rare and short: each stops the event loop.

    With 1,200 screens connected, a full pass walked the whole heap for 60 to 270
    ms, every ten seconds or so under load (gc.callbacks in the queue benchmark):
    every request and screen of the worker waited meanwhile. What is alive once
    started (modules, the app, templates, caches) is frozen out of the passes, and
    the thresholds make them about ten times rarer: the longest was then 51 ms.
    Unreachable cycles are still freed, only later.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SEUILS_GC)


def rendre_le_ramasse_miettes() -> None:
    """Back to Python's defaults when the app stops (a process may start another)."""
    gc.unfreeze()
    gc.set_threshold(*_SEUILS_GC_PYTHON)


def _lifespan(settings: Settings, taches: list[Tache]):  # type: ignore[no-untyped-def]
    @asynccontextmanager
    async def database(app: Litestar) -> AsyncIterator[None]:
        from notifications.fournisseurs import registre

        await db.start(settings)
        async with AsyncExitStack() as stack:
            if settings.scheduler_enabled and taches:
                await stack.enter_async_context(planificateur(taches))
            regler_le_ramasse_miettes()
            app.state.ready = True
            try:
                yield
            finally:
                app.state.ready = False
                rendre_le_ramasse_miettes()
        await registre.fermer_clients()
        await db.stop()

    return database


class _PoolNotifyBackend(AsyncPgChannelsBackend):
    """NOTIFY through the app's connection pool instead of a new connection per event;
    LISTEN keeps its one dedicated connection per worker."""

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        pool = getattr(db.engine(), "pool", None)
        if pool is None:
            await super().publish(data, channels)
            return
        texte = data.decode("utf-8")
        async with pool.acquire() as connection:
            for channel in channels:
                await connection.execute("SELECT pg_notify($1, $2)", channel, texte)


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    """Live events: in memory on one process; LISTEN/NOTIFY across workers on PostgreSQL."""
    backend: Any
    if settings.is_postgres:
        backend = _PoolNotifyBackend(dsn=settings.database_url)
    else:
        backend = MemoryChannelsBackend()
    return ChannelsPlugin(
        backend=backend,
        arbitrary_channels_allowed=True,
        create_ws_route_handlers=False,
        # A screen that stops reading loses its oldest events, not the server its memory;
        # it resyncs from the state when it reconnects.
        subscriber_max_backlog=200,
        subscriber_backlog_strategy="dropleft",
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    from bornes.controllers import ROUTE_HANDLERS as BORNES_HANDLERS
    from file_attente.controllers import ROUTE_HANDLERS as FILE_HANDLERS
    from file_attente.services.cloture import cloturer
    from notifications.controllers import ROUTE_HANDLERS as NOTIFICATIONS_HANDLERS
    from notifications.services import envoi, retention
    from rdv.controllers import ROUTE_HANDLERS as RDV_HANDLERS
    from sites.controllers import ROUTE_HANDLERS as SITES_HANDLERS
    from sites.services.agents import load_principal

    taches = [
        Tache("cloture_files", cloturer, secondes=60),
        Tache("envoi_messages", envoi.tour, secondes=settings.outbox_intervalle),
        Tache("retention", retention.appliquer, secondes=3600),
    ]
    channels = channels_plugin(settings)
    evenements.brancher(channels.publish)

    return Litestar(
        route_handlers=[
            HealthController,
            *SITES_HANDLERS,
            *RDV_HANDLERS,
            *FILE_HANDLERS,
            *BORNES_HANDLERS,
            *NOTIFICATIONS_HANDLERS,
            create_static_files_router(
                path="/static", directories=[Path(PROJECT_ROOT / "plateforme" / "static")]
            ),
        ],
        lifespan=[_lifespan(settings, taches)],
        plugins=[channels],
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
