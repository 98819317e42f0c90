"""The pages of the queues: the administration of a site's queues and counters. Kiosk and
screen: bornes package."""

from file_attente.controllers._pages_admin import FilesAdminController

__all__ = ["FilesAdminController"]
