"""HTTP and websocket handlers of the bornes app."""

from litestar.types import ControllerRouterHandler

from bornes.controllers.api import (
    AppairageController,
    AppareilsAdminController,
    BorneController,
)
from bornes.controllers.live import ws_appareil
from bornes.controllers.pages import (
    AppareilsPagesController,
    BornePagesController,
    EcranPagesController,
)

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    AppairageController,
    BorneController,
    AppareilsAdminController,
    ws_appareil,
    BornePagesController,
    EcranPagesController,
    AppareilsPagesController,
]

__all__ = ["ROUTE_HANDLERS"]
