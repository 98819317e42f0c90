"""Public page: find the contact points nearest to a commune, with their hours for the week."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from plateforme.db import lecture
from plateforme.errors import Invalid, NotFound
from sites.services import annuaire, proximite

JOURS_COURTS = {
    "lundi": "lun.",
    "mardi": "mar.",
    "mercredi": "mer.",
    "jeudi": "jeu.",
    "vendredi": "ven.",
    "samedi": "sam.",
    "dimanche": "dim.",
}


class AnnuairePageController(Controller):
    include_in_schema = False

    @get("/", name="annuaire")
    async def search(self, lieu: str = "", service: str = "", commune: str = "") -> Template:
        """The search form, and the nearest contact points once a place is given.

        `commune` (an INSEE code) comes from the links offered when several
        communes match what was typed; `lieu` is what the person typed.
        """
        async with lecture():
            return await self._search(lieu, service, commune)

    async def _search(self, lieu: str, service: str, commune: str) -> Template:
        services = await annuaire.services_publics()
        context: dict[str, object] = {
            "lieu": lieu,
            "service": service or (services[0][0] if services else ""),
            "services": services,
            "errors": {},
            "resultats": None,
            "choix": [],
            "jours_courts": JOURS_COURTS,
        }
        status_code = 200
        if lieu or commune:
            try:
                recherche = (
                    annuaire.Recherche(
                        point=await proximite.resoudre_point(
                            commune=commune, code_postal=None, lat=None, lon=None
                        )
                    )
                    if commune
                    else await annuaire.lire_lieu(lieu)
                )
                if recherche.point is not None:
                    context["point"] = recherche.point
                    context["resultats"] = await proximite.sites_proches(
                        recherche.point, service=str(context["service"]), limite=10
                    )
                context["choix"] = recherche.choix
            except Invalid as error:
                context["errors"] = error.fields
                status_code = 422
            except NotFound:
                context["errors"] = {"lieu": "Commune inconnue."}
                status_code = 404
        return Template("annuaire.html", context=context, status_code=status_code)
