"""HTTP handlers of the rdv app."""

from litestar.types import ControllerRouterHandler

from rdv.controllers._agenda_disponibilites import DisponibilitesController
from rdv.controllers.agenda import AgendaController
from rdv.controllers.flux import FluxController, flux_ics
from rdv.controllers.pages_usager import PagesUsagerController
from rdv.controllers.public import RdvPublicController

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    RdvPublicController,
    PagesUsagerController,
    AgendaController,
    DisponibilitesController,
    FluxController,
    flux_ics,
]

__all__ = ["ROUTE_HANDLERS"]
