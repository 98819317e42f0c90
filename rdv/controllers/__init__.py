"""HTTP handlers of the rdv app."""

from rdv.controllers.public import RdvPublicController

ROUTE_HANDLERS = [RdvPublicController]

__all__ = ["ROUTE_HANDLERS"]
