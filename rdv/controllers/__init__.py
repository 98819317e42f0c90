"""HTTP handlers of the rdv app."""

from litestar.types import ControllerRouterHandler

from rdv.controllers._agenda_disponibilites import DisponibilitesController
from rdv.controllers.admin_motifs import AdminMotifsController
from rdv.controllers.agenda import AgendaController
from rdv.controllers.api_agenda import AgendaApiController
from rdv.controllers.api_usager import RdvUsagerController
from rdv.controllers.flux import FluxController, flux_ics
from rdv.controllers.lien_court import lien_court
from rdv.controllers.pages_usager import PagesUsagerController
from rdv.controllers.public import RdvPublicController

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    RdvPublicController,
    RdvUsagerController,
    AgendaApiController,
    PagesUsagerController,
    AgendaController,
    DisponibilitesController,
    FluxController,
    flux_ics,
    lien_court,
    AdminMotifsController,
]

__all__ = ["ROUTE_HANDLERS"]
