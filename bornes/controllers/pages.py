"""The pages of the devices: for now the managers' page of a site's devices (`_pages_admin`)."""

from bornes.controllers._pages_admin import AppareilsPagesController

__all__ = ["AppareilsPagesController"]
