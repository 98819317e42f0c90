"""The citizen's pages, without an account and without JavaScript: choose a need, a place
and a créneau, give a name and a mobile, then see, cancel or move the rdv with the SMS link."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from litestar import Controller, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect, Template

from plateforme.db import lecture
from plateforme.errors import Invalid, NotFound, TooManyRequests
from rdv import ics
from rdv.controllers import _pages_usager as page
from rdv.services import acces_usager, calendrier, recherche, reservation
from sites.services import annuaire, proximite

__all__ = ["PagesUsagerController"]


class PagesUsagerController(Controller):
    path = "/rendez-vous"
    include_in_schema = False
    exception_handlers = {NotFound: page.introuvable}

    # --- Booking: need, place, créneau, details ------------------------------------------

    @get("/", name="rdv_besoins")
    async def besoins(self) -> Template:
        """Step 1: the services, each a link to its motifs."""
        async with lecture():
            services = await annuaire.services_publics()
        return page.vue("besoins", services=services)

    @get("/{code:str}")
    async def rdv_ou_service(
        self, request: page.RequestT, code: str, cle: page.Cle | None = None, fait: str = ""
    ) -> Template | Redirect:
        """The rdv behind the SMS link when a key is given, else the motifs of a service."""
        if cle is not None:
            return await self._rdv(request, code, cle, fait)
        async with lecture():
            services = dict(await annuaire.services_publics())
            motifs = await recherche.motifs_en_ligne(code) if code in services else []
        if code not in services:
            normalise = code.strip().upper()
            if len(normalise) == reservation.CODE_LENGTH and all(
                c in reservation.CODE_ALPHABET for c in normalise
            ):
                # An rdv code typed without its link: ask for the letters of the name.
                return Redirect(f"/rendez-vous/retrouver?{urlencode({'code': normalise})}")
            raise NotFound("Ce service n'existe pas.", code="service_inconnu")
        territoires: dict[str, list[dict[str, Any]]] = {}
        for motif in motifs:
            territoires.setdefault(motif["territoire"], []).append(motif)
        return page.vue(
            "motifs",
            service_code=code,
            service_nom=services[code],
            territoires=territoires,
            canaux=page.CANAUX,
        )

    @get("/motif/{motif_id:int}")
    async def lieux(
        self,
        motif_id: int,
        lieu: Annotated[str, Parameter(max_length=100)] = "",
        commune: Annotated[str, Parameter(max_length=5)] = "",
        tri: str = "distance",
    ) -> Template:
        """Step 2: where the person is, then the nearest sites with their next créneau."""
        async with lecture():
            motif = await recherche.motif_en_ligne(motif_id)
        tri = tri if tri in recherche.TRIS else "distance"
        context: dict[str, Any] = {
            "motif": motif,
            "minutes": page.minutes(motif),
            "canal": page.CANAUX.get(motif.canal, motif.canal),
            "lieu": lieu,
            "tri": tri,
            "errors": {},
            "choix": [],
            "point": None,
            "resultats": None,
            "requete": "",
            **page.formats_du_fuseau(motif.fuseau),
        }
        status_code = 200
        point = None
        try:
            async with lecture():
                if commune:
                    point = await proximite.resoudre_point(
                        commune=commune, code_postal=None, lat=None, lon=None
                    )
                elif lieu:
                    trouve = await annuaire.lire_lieu(lieu)
                    point, context["choix"] = trouve.point, trouve.choix
        except (Invalid, NotFound) as erreur:
            message = erreur.fields.get("lieu") or erreur.fields.get("commune") or erreur.message
            context["errors"] = {"lieu": message}
            status_code = 422
        if point is not None:
            if point.commune is not None:
                context["lieu"] = point.commune.nom
                context["requete"] = urlencode({"commune": point.commune.insee})
            else:
                context["requete"] = urlencode({"lieu": lieu})
            context["point"] = point
            context["resultats"] = await recherche.disponibilites(motif_id, point, tri=tri)
        return page.vue("lieux", status_code=status_code, **context)

    @get("/motif/{motif_id:int}/lieu/{site_id:int}")
    async def semaine(self, motif_id: int, site_id: int, du: date | None = None) -> Template:
        """Step 3: the free créneaux of a week at the chosen site."""
        async with lecture():
            motif = await recherche.motif_en_ligne(motif_id)
            site = await page.site_avec_telephone(motif, site_id)
        aujourd_hui = datetime.now(UTC).astimezone(ZoneInfo(motif.fuseau)).date()
        du = max(du or aujourd_hui, aujourd_hui)
        resultat = await recherche.semaine(motif_id, site_id, du=du)
        return page.vue(
            "semaine",
            motif=motif,
            site=site,
            semaine=resultat,
            minutes=page.minutes(motif),
            navigation=page.navigation(motif, du, aujourd_hui),
            base=f"/rendez-vous/motif/{motif_id}/lieu/{site_id}",
            **page.formats_du_fuseau(motif.fuseau),
        )

    @get("/motif/{motif_id:int}/lieu/{site_id:int}/creneau")
    async def creneau(
        self, motif_id: int, site_id: int, debut: Annotated[str, Parameter(max_length=40)]
    ) -> Template:
        """Step 4: the chosen créneau and the form for a name and a mobile."""
        motif, site, moment = await page.choix(motif_id, site_id, debut)
        try:
            # A stale link says so before the person types anything.
            async with lecture():
                await reservation.verifier_creneau(motif, site_id, moment, datetime.now(UTC))
        except reservation.CreneauIndisponible as pris:
            return page.indisponible(motif, site, moment, pris.prochains)
        except Invalid as erreur:
            return page.indisponible(motif, site, moment, [], refus=erreur.message)
        return page.coordonnees(motif, site, moment, valeurs={}, errors={})

    @post("/motif/{motif_id:int}/lieu/{site_id:int}/creneau")
    async def reserver(
        self,
        request: page.RequestT,
        motif_id: int,
        site_id: int,
        debut: Annotated[str, Parameter(max_length=40)],
    ) -> Template | Redirect:
        """Book the créneau (a seat, in a session) for the person or their relative; the form
        again with its errors, or the next créneaux if taken."""
        motif, site, moment = await page.choix(motif_id, site_id, debut)
        valeurs = await page.formulaire(request, *page.CHAMPS_PERSONNE, *page.CHAMPS_PROCHE)
        proche, erreur_date = page.lire_proche(valeurs)
        demande = reservation.DemandeRdv(
            motif_id=motif_id,
            site_id=site_id,
            debut=moment,
            personne=reservation.Personne(*(valeurs[c] for c in page.CHAMPS_PERSONNE)),
            proche=proche,
        )
        try:
            if erreur_date:
                # Nothing is booked with an unreadable date; every other error shows too.
                reservation.valider_demande(demande.personne, proche)
                raise Invalid(fields=erreur_date)
            rdv = await reservation.reserver(demande)
        except reservation.CreneauIndisponible as pris:
            return page.indisponible(motif, site, moment, pris.prochains)
        except Invalid as erreur:
            champs = set(page.CHAMPS_PERSONNE) | set(page.CHAMPS_PROCHE)
            if not set(erreur.fields) <= champs:
                return page.indisponible(motif, site, moment, [], refus=erreur.message)
            errors = {**erreur.fields, **erreur_date}
            return page.coordonnees(motif, site, moment, valeurs=valeurs, errors=errors)
        return Redirect(page.lien_rdv(rdv.code, fait="reserve"), status_code=303)

    # --- The rdv, with the link's key or the code and letters ------------------------------

    async def _rdv(self, request: page.RequestT, code: str, cle: str, fait: str) -> Template:
        rdv = await acces_usager.trouver(code, ip=page.ip(request), cle_lien=cle)
        return page.vue(
            "rdv",
            prive=True,
            **page.contexte_rdv(rdv),
            fait=fait,
            qr=page.qr_svg(rdv.code),
            annule=rdv.statut in ics.STATUTS_ANNULES,
        )

    @get("/{code:str}/rdv.ics")
    async def calendrier(self, request: page.RequestT, code: str, cle: page.Cle) -> Response[bytes]:
        """The invitation for a calendar, or its cancellation once the rdv is cancelled."""
        rdv = await acces_usager.trouver(code, ip=page.ip(request), cle_lien=cle)
        contenu, nom = calendrier.fichier_ics(rdv)
        return Response(
            contenu,
            media_type="text/calendar; charset=utf-8",
            headers={**page.PRIVE, "Content-Disposition": f'attachment; filename="{nom}"'},
        )

    @get("/retrouver")
    async def retrouver(self, code: Annotated[str, Parameter(max_length=20)] = "") -> Template:
        """Find an rdv without the link: its code and the first letters of the last name."""
        return page.vue("retrouver", valeurs={"code": code}, errors={}, probleme="")

    @post("/retrouver")
    async def retrouver_envoi(self, request: page.RequestT) -> Template | Redirect:
        """Check the code and the letters; the same refusal for any mismatch."""
        valeurs = await page.formulaire(request, "code", "lettres")
        errors: dict[str, str] = {}
        if not valeurs["code"].strip():
            errors["code"] = "Indiquez le code du rendez-vous."
        if len(acces_usager.initiales(valeurs["lettres"])) < 2:
            errors["lettres"] = "Indiquez les deux premières lettres de votre nom de famille."
        if errors:
            return page.vue(
                "retrouver", status_code=422, valeurs=valeurs, errors=errors, probleme=""
            )
        try:
            rdv = await acces_usager.trouver(
                valeurs["code"], ip=page.ip(request), lettres=valeurs["lettres"]
            )
        except (NotFound, TooManyRequests) as erreur:
            attente = getattr(erreur, "retry_after", None)
            return page.vue(
                "retrouver",
                status_code=erreur.status_code,
                headers={"Retry-After": str(attente)} if attente else None,
                valeurs=valeurs,
                errors={},
                probleme=erreur.message,
            )
        return Redirect(page.lien_rdv(rdv.code), status_code=303)

    # --- Cancel and move ---------------------------------------------------------------------

    @get("/{code:str}/annulation")
    async def annulation(self, request: page.RequestT, code: str, cle: page.Cle) -> Template:
        """Ask once more before cancelling."""
        rdv = await acces_usager.trouver(code, ip=page.ip(request), cle_lien=cle)
        return page.vue(
            "annulation",
            prive=True,
            **page.contexte_rdv(rdv),
            empechement=page.empechement(rdv, rdv.motif.annulable_par_usager, "s'annule"),
        )

    @post("/{code:str}/annulation")
    async def annuler(self, request: page.RequestT, code: str) -> Redirect:
        """Cancel the rdv (status excusé), then back to its page."""
        valeurs = await page.formulaire(request, "cle")
        rdv = await acces_usager.trouver(code, ip=page.ip(request), cle_lien=valeurs["cle"])
        rdv = await acces_usager.annuler(rdv)
        return Redirect(page.lien_rdv(rdv.code, fait="annule"), status_code=303)

    @get("/{code:str}/deplacer")
    async def deplacement(
        self, request: page.RequestT, code: str, cle: page.Cle, du: date | None = None
    ) -> Template:
        """The free créneaux of a week for the same motif at the same site."""
        rdv = await acces_usager.trouver(code, ip=page.ip(request), cle_lien=cle)
        # The week of créneaux is that of online booking: none for agent-only motifs.
        en_ligne = rdv.motif.deplacable_par_usager and rdv.motif.reservable_en_ligne
        empechement = page.empechement(rdv, en_ligne, "se déplace")
        context: dict[str, Any] = {**page.contexte_rdv(rdv), "empechement": empechement}
        if empechement is None:
            aujourd_hui = datetime.now(UTC).astimezone(ZoneInfo(rdv.motif.fuseau)).date()
            du = max(du or aujourd_hui, aujourd_hui)
            context["semaine"] = await recherche.semaine(rdv.motif.id, rdv.site["id"], du=du)
            context["navigation"] = page.navigation(rdv.motif, du, aujourd_hui)
            context["base"] = f"/rendez-vous/{rdv.code}/deplacer?" + urlencode({"cle": cle})
        return page.vue("deplacer", prive=True, **context)

    @post("/{code:str}/deplacer")
    async def deplacer(self, request: page.RequestT, code: str) -> Template | Redirect:
        """Move the rdv to the chosen créneau, or offer the next ones if it was just taken."""
        valeurs = await page.formulaire(request, "cle", "debut")
        rdv = await acces_usager.trouver(code, ip=page.ip(request), cle_lien=valeurs["cle"])
        moment = page.lire_debut(valeurs["debut"], rdv.motif.fuseau)
        refus, prochains = None, []
        try:
            await acces_usager.deplacer(rdv, moment)
        except reservation.CreneauIndisponible as pris:
            prochains = pris.prochains
        except Invalid as erreur:
            refus = erreur.message
        else:
            return Redirect(page.lien_rdv(rdv.code, fait="deplace"), status_code=303)
        return page.vue(
            "indisponible",
            status_code=422 if refus else 409,
            prive=True,
            **page.contexte_rdv(rdv),
            moment=moment,
            prochains=prochains,
            refus=refus,
            deplacement=True,
        )
