"""HTTP handlers of the notifications app."""

from litestar.types import ControllerRouterHandler

from notifications.controllers.webhooks import WebhooksController

ROUTE_HANDLERS: list[ControllerRouterHandler] = [WebhooksController]

__all__ = ["ROUTE_HANDLERS"]
