"""Public JSON API of the usager's own rdv, without an account: see it, cancel it, move it.

The same checks as the pages (`acces_usager`): the key of the SMS link (`cle`), or the
code with the first two letters of the last name (`lettres`), the latter limited to 10
misses per address per 15 minutes. No cookie is involved, so no CSRF token either.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import Parameter

from plateforme.errors import Invalid
from rdv.controllers._pages_usager import ip
from rdv.controllers.public import joindre_prochains
from rdv.schemas import (
    AccesRdv,
    DeplacementRdv,
    RdvUsagerPublic,
    SiteCourt,
)
from rdv.services import acces_usager, reservation

Code = Annotated[str, Parameter(max_length=20, description="The rdv's code, as in the SMS")]


def _public(rdv: acces_usager.RdvUsager) -> RdvUsagerPublic:
    zone = ZoneInfo(rdv.motif.fuseau)
    raison = rdv.modifiable(datetime.now(UTC))
    return RdvUsagerPublic(
        code=rdv.code,
        statut=rdv.statut,
        debut=rdv.debut.astimezone(zone),
        fin=rdv.fin.astimezone(zone),
        fuseau=rdv.motif.fuseau,
        motif=rdv.motif.nom,
        service=rdv.motif.service_nom,
        site=SiteCourt(id=rdv.site["id"], nom=rdv.site["nom"], adresse=rdv.site["adresse"]),
        instructions=rdv.motif.instructions,
        collectif=rdv.collectif,
        pour=f"{rdv.prenom} {rdv.nom}",
        cle=acces_usager.cle(rdv.code),
        annulable=raison is None and rdv.motif.annulable_par_usager,
        deplacable=raison is None
        and rdv.motif.deplacable_par_usager
        and rdv.motif.reservable_en_ligne,
        raison=raison or "",
    )


async def _trouver(
    request: Request[Any, Any, Any], code: str, acces: AccesRdv
) -> acces_usager.RdvUsager:
    if not acces.cle and len(acces_usager.initiales(acces.lettres)) < 2:
        raise Invalid(
            "Indiquez la clé du lien reçu par SMS, ou les deux premières lettres du nom.",
            code="acces_incomplet",
            fields={"lettres": "deux lettres du nom de famille"},
        )
    return await acces_usager.trouver(
        code, ip=ip(request), cle_lien=acces.cle or None, lettres=acces.lettres or None
    )


class RdvUsagerController(Controller):
    path = "/api/rdv/{code:str}"
    tags = ["Rendez-vous"]
    opt = {"exclude_from_csrf": True}
    # A person's name and the link's key: kept by no cache, as the pages.
    cache_control = CacheControlHeader(no_store=True)

    @get("/", operation_id="voirRdv")
    async def voir(
        self,
        request: Request[Any, Any, Any],
        code: Code,
        cle: Annotated[str, Parameter(max_length=40, description="The SMS link's key")] = "",
        # Two letters at most in a URL, which access logs keep: never the whole name.
        lettres: Annotated[
            str, Parameter(max_length=2, description="The first 2 letters of the last name")
        ] = "",
    ) -> RdvUsagerPublic:
        """The rdv behind a code, with what the usager may still do. 404 (the same for every
        miss) when the key or the letters do not match; 429 after 10 misses."""
        return _public(await _trouver(request, code, AccesRdv(cle=cle, lettres=lettres)))

    @post("/annulation", operation_id="annulerRdv", status_code=200)
    async def annuler(
        self, request: Request[Any, Any, Any], code: Code, data: AccesRdv
    ) -> RdvUsagerPublic:
        """Cancel the rdv (status `excuse`; a seat only, for a collective session). 409 when
        the motif does not allow it or it is too late."""
        rdv = await acces_usager.annuler(await _trouver(request, code, data))
        return _public(rdv)

    @post("/deplacement", operation_id="deplacerRdv", status_code=200)
    async def deplacer(
        self, request: Request[Any, Any, Any], code: Code, data: DeplacementRdv
    ) -> RdvUsagerPublic:
        """Move the rdv to another free créneau of the same motif and site (another session
        with seats, for a collective one). 409 with `prochains_creneaux` when it was just
        taken; 422 when it is not a créneau."""
        rdv = await _trouver(request, code, data)
        zone = ZoneInfo(rdv.motif.fuseau)
        debut = (
            data.debut if data.debut.utcoffset() is not None else data.debut.replace(tzinfo=zone)
        )
        try:
            rdv = await acces_usager.deplacer(rdv, debut)
        except reservation.CreneauIndisponible as taken:
            joindre_prochains(taken, zone)
            raise
        return _public(rdv)
