"""The pages of the queues: a ticket's public page and joining from home, the counter console,
and the administration of a site's queues and counters. Kiosk and screen: bornes package."""

from file_attente.controllers._pages_admin import FilesAdminController
from file_attente.controllers._pages_guichet import ConsoleController
from file_attente.controllers._pages_public import TicketPagesController

__all__ = ["ConsoleController", "FilesAdminController", "TicketPagesController"]
