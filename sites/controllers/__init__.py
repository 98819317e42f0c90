"""HTTP handlers of the sites app: public directory API, sign-in, administration pages."""

from litestar.types import ControllerRouterHandler

from sites.controllers.admin import AdminController
from sites.controllers.connexion import ConnexionController
from sites.controllers.pages import AnnuairePageController
from sites.controllers.public import PublicController

ROUTE_HANDLERS: list[ControllerRouterHandler] = [
    AnnuairePageController,
    PublicController,
    ConnexionController,
    AdminController,
]

__all__ = ["ROUTE_HANDLERS"]
