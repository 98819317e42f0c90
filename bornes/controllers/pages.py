"""The pages of the devices: the kiosk (`/borne`), the waiting-room screen (`/ecran`), their
pairing; and the managers' page of a site's devices (`_pages_admin`).

A device's pages know it by its token in the `rdv_appareil` cookie (HttpOnly, SameSite=Strict);
the pages never show a person (invariant 4): queue names, ticket codes, counters and counts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import segno
from litestar import Controller, Request, get, post
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from bornes.controllers import _pages_textes as textes
from bornes.controllers._pages_admin import KINDS, AppareilsPagesController
from bornes.controllers.auth import COOKIE
from bornes.services import appareils
from bornes.services.appareils import AppareilInfo
from bornes.tables import Appareil, KindAppareil
from file_attente.services import arrivee, etat, lieux, tickets
from file_attente.tables import OrigineTicket, Ticket
from plateforme.errors import DomainError, NotFound
from plateforme.settings import get_settings
from rdv.formats import heure

__all__ = ["AppareilsPagesController", "BornePagesController", "EcranPagesController", "KINDS"]

RequestT = Request[Any, Any, Any]
# Browsers keep a cookie 400 days at most; each visit of a paired device renews it.
COOKIE_MAX_AGE = 400 * 24 * 3600


def cookie_appareil(jeton: str) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=jeton,
        path="/",
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="strict",
        secure=get_settings().cookie_secure,
    )


def vue(template: str, status_code: int = 200, **context: Any) -> Template:
    # The device's pages change with the queues: never from a cache.
    return Template(
        template,
        context=context,
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


def code_lisible(code: str) -> str:
    """ "K7M2XQ" as "K7M 2XQ": read from across a room, typed by a manager."""
    return f"{code[:3]} {code[3:]}" if len(code) == 6 else code


async def _code_affiche(info: AppareilInfo, jeton: str) -> str:
    row = (
        await Appareil.select(Appareil.code_appairage, Appareil.code_expire_at)
        .where(Appareil.id == info.id)
        .first()
    )
    if row and row["code_appairage"] and row["code_expire_at"] > datetime.now(UTC):
        return str(row["code_appairage"])
    return (await appareils.nouveau_code(jeton)).code


async def appareil_de_la_page(request: RequestT, kind: KindAppareil) -> AppareilInfo | Template:
    """The paired device of this kind behind the cookie, or the page to show instead: start
    pairing, the code to type in the admin, revoked, or paired as the other kind."""
    jeton = request.cookies.get(COOKIE)
    info = await appareils.authentifier(jeton)
    if info is None or jeton is None:
        return vue("appareil/inconnu.html", kind=kind, kinds=KINDS)
    if info.revoque:
        return vue("appareil/revoque.html", status_code=403, kind=kind)
    if info.site_id is None:
        code = await _code_affiche(info, jeton)
        return vue("appareil/code.html", kind=kind, kinds=KINDS, code=code_lisible(code))
    if info.kind != kind:
        return vue("appareil/autre.html", kind=kind, kinds=KINDS, autre=info.kind)
    await appareils.battement(info.id)
    return info


async def demarrer_appairage(kind: KindAppareil) -> Redirect:
    """A new unpaired device: its token in the cookie, then its page shows the code."""
    demande = await appareils.demander_appairage(kind)
    return Redirect(f"/{kind}", status_code=303, cookies=[cookie_appareil(demande.jeton)])


def qr_ticket(url: str, libelle: str) -> str:
    """The public page of a ticket as an inline SVG QR code (a full QR: phones read it)."""
    svg = segno.make(url, error="m", micro=False).svg_inline(
        dark="#000", light="#fff", svgclass="qr", omitsize=True
    )
    return svg.replace("<svg ", f'<svg role="img" aria-label="{libelle}" ', 1)


def code_saisi(texte: str) -> str:
    """A QR scanner may type the confirmation link rather than the bare code: keep the code."""
    texte = texte.strip()
    if "/rendez-vous/" in texte:
        texte = texte.split("/rendez-vous/", 1)[1].split("?", 1)[0].split("/", 1)[0]
    return texte[:20]


class BornePagesController(Controller):
    """The kiosk: big buttons to take a ticket, a check-in form, the ticket with its QR code."""

    path = "/borne"
    include_in_schema = False

    async def _accueil(
        self,
        info: AppareilInfo,
        lang: str,
        *,
        erreur: str | None = None,
        erreur_arrivee: bool = False,
        code: str = "",
        status_code: int = 200,
    ) -> Template:
        assert info.site_id is not None
        return vue(
            "borne/accueil.html",
            status_code=status_code,
            etat=await etat.etat_public(info.site_id),
            lang=lang,
            langues=textes.LANGUES,
            t=textes.traducteur(lang),
            libelles_attente={f: textes.TEXTES[lang][f"attente_{f}"] for f in ("0", "1", "n")},
            erreur=erreur,
            erreur_arrivee=erreur_arrivee,
            code=code,
        )

    def _erreur(self, lang: str, error: DomainError) -> str:
        message = next(iter(error.fields.values()), error.message)
        return textes.message_erreur(lang, error.code, message)

    @get("/")
    async def accueil(self, request: RequestT, lang: str = "fr") -> Template:
        """The kiosk's home, or its pairing page."""
        lang = textes.langue(lang)
        info = await appareil_de_la_page(request, KindAppareil.borne)
        if isinstance(info, Template):
            return info
        return await self._accueil(info, lang)

    @post("/appairage")
    async def appairage(self) -> Redirect:
        """Ask for a pairing code."""
        return await demarrer_appairage(KindAppareil.borne)

    @post("/tickets")
    async def ticket(self, request: RequestT) -> Template | Redirect:
        """Take a walk-in ticket in a queue of the kiosk's site."""
        form = await request.form()
        lang = textes.langue(str(form.get("lang") or ""))
        info = await appareil_de_la_page(request, KindAppareil.borne)
        if isinstance(info, Template):
            return info
        raw = str(form.get("file") or "")
        try:
            if not raw.isascii() or not raw.isdigit():
                raise NotFound("Cette file d'attente n'existe pas.", code="file_inconnue")
            emis = await tickets.emettre(
                int(raw), site_id=info.site_id, origine=OrigineTicket.borne, appareil=info.id
            )
        except DomainError as error:
            return await self._accueil(
                info, lang, erreur=self._erreur(lang, error), status_code=error.status_code
            )
        query = urlencode({"lang": lang})
        return Redirect(f"/borne/tickets/{emis.jeton}?{query}", status_code=303)

    @get("/tickets/{jeton:str}")
    async def ticket_emis(self, request: RequestT, jeton: str, lang: str = "fr") -> Template:
        """The ticket just taken here: its code, its place, a QR code of its public page."""
        lang = textes.langue(lang)
        info = await appareil_de_la_page(request, KindAppareil.borne)
        if isinstance(info, Template):
            return info
        if not await Ticket.exists().where(Ticket.jeton == jeton, Ticket.appareil == info.id):
            raise NotFound("Ce ticket n'existe pas.", code="ticket_inconnu")
        return await self._ticket(jeton, lang)

    async def _ticket(self, jeton: str, lang: str, **context: Any) -> Template:
        t = textes.traducteur(lang)
        ticket = await tickets.etat_ticket(jeton)
        url = f"{get_settings().public_url}/ticket/{jeton}"
        return vue(
            "borne/ticket.html",
            ticket=ticket,
            qr=qr_ticket(url, t("qr_libelle", code=ticket["ticket"])),
            lang=lang,
            t=t,
            **context,
        )

    @post("/arrivees")
    async def arrivee(self, request: RequestT) -> Template:
        """Check in for today's rdv here with its code (typed or scanned)."""
        form = await request.form()
        lang = textes.langue(str(form.get("lang") or ""))
        info = await appareil_de_la_page(request, KindAppareil.borne)
        if isinstance(info, Template):
            return info
        assert info.site_id is not None
        code = code_saisi(str(form.get("code") or ""))
        try:
            resultat = await arrivee.enregistrer(info.site_id, code, appareil=info.id)
        except DomainError as error:
            return await self._accueil(
                info,
                lang,
                erreur=self._erreur(lang, error),
                erreur_arrivee=True,
                code=code,
                status_code=error.status_code,
            )
        site = await lieux.site_info(info.site_id)
        contexte: dict[str, Any] = {
            "arrivee": resultat,
            "rdv_heure": heure(resultat.rdv_debut, site.fuseau),
        }
        if resultat.ticket is not None:
            return await self._ticket(resultat.ticket.jeton, lang, **contexte)
        return vue("borne/arrivee.html", lang=lang, t=textes.traducteur(lang), **contexte)


class EcranPagesController(Controller):
    """The waiting-room screen: the last calls, the people waiting per queue, today's hours."""

    path = "/ecran"
    include_in_schema = False

    @get("/")
    async def ecran(self, request: RequestT) -> Template:
        """The screen, drawn from the site's state, then kept live by its script."""
        info = await appareil_de_la_page(request, KindAppareil.ecran)
        if isinstance(info, Template):
            return info
        assert info.site_id is not None
        return vue("ecran/ecran.html", etat=await etat.etat_public(info.site_id))

    @post("/appairage")
    async def appairage(self) -> Redirect:
        """Ask for a pairing code."""
        return await demarrer_appairage(KindAppareil.ecran)
