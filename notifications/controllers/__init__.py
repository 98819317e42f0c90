"""HTTP handlers of the notifications app."""

from litestar.types import ControllerRouterHandler

from notifications.controllers.admin import NotificationsAdminController
from notifications.controllers.webhooks import WebhooksController

ROUTE_HANDLERS: list[ControllerRouterHandler] = [WebhooksController, NotificationsAdminController]

__all__ = ["ROUTE_HANDLERS"]
