"""HTTP and websocket handlers of the file_attente app."""

from litestar.types import ControllerRouterHandler

from file_attente.controllers.api import (
    AccueilController,
    GuichetController,
    TicketPublicController,
)
from file_attente.controllers.live import ws_guichet, ws_ticket
from file_attente.controllers.pages import (
    ConsoleController,
    FilesAdminController,
    TicketPagesController,
)

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    TicketPublicController,
    GuichetController,
    AccueilController,
    ws_guichet,
    ws_ticket,
    TicketPagesController,
    ConsoleController,
    FilesAdminController,
]

__all__ = ["ROUTE_HANDLERS"]
