"""Helpers of the citizen's pages: templates, dates, links, the QR code and the .ics file."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import segno
from litestar import Request
from litestar.params import Parameter
from litestar.response import Template

from plateforme.db import lecture
from plateforme.errors import Invalid, NotFound
from rdv import formats
from rdv.services import acces_usager, recherche, reservation
from rdv.services.calendrier import lien_rdv
from rdv.services.chargement import MotifInfo
from rdv.tables import StatutRdv
from sites.tables import Site

CHAMPS_PERSONNE = ("prenom", "nom", "telephone", "email")
CHAMPS_PROCHE = ("pour", "proche_prenom", "proche_nom", "proche_date_naissance")
CANAUX = {
    "sur_place": "sur place",
    "telephone": "par téléphone",
    "visio": "en visio",
    "domicile": "à domicile",
}
# Pages that show a person's rdv are neither cached nor kept in the history cache.
PRIVE = {"Cache-Control": "no-store"}
Cle = Annotated[str, Parameter(max_length=64)]

RequestT = Request[Any, Any, Any]


def vue(
    nom: str,
    *,
    status_code: int = 200,
    prive: bool = False,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Template:
    return Template(
        f"usager/{nom}.html",
        context=context,
        status_code=status_code,
        headers={**(PRIVE if prive else {}), **(headers or {})} or None,
    )


def formats_du_fuseau(fuseau: str) -> dict[str, Any]:
    """Date helpers for the templates, bound to the territoire's time zone."""
    zone = ZoneInfo(fuseau)
    return {
        "date_longue": functools.partial(formats.date_longue, fuseau=fuseau),
        "heure": functools.partial(formats.heure, fuseau=fuseau),
        "date_heure": functools.partial(formats.date_heure, fuseau=fuseau),
        "iso": lambda moment: moment.astimezone(zone).isoformat(),
        "jour_iso": lambda moment: moment.astimezone(zone).date().isoformat(),
    }


def minutes(motif: MotifInfo) -> int:
    return int(motif.duree.total_seconds() // 60)


def ip(request: RequestT) -> str:
    return request.client.host if request.client else "inconnue"


def lire_debut(texte: str, fuseau: str) -> datetime:
    try:
        # An unencoded "+" of the offset arrives as a space.
        moment = datetime.fromisoformat(texte.strip().replace(" ", "+"))
    except ValueError:
        raise Invalid(
            "Ce créneau est illisible.", fields={"debut": "date et heure invalides"}
        ) from None
    return moment if moment.utcoffset() is not None else moment.replace(tzinfo=ZoneInfo(fuseau))


def lire_date(texte: str, champ: str) -> date | None:
    """A date as a browser's date field sends it (2024-05-14), or as people type it."""
    texte = texte.strip()
    if not texte:
        return None
    for forme in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(texte, forme).date()
        except ValueError:
            pass
    raise Invalid(fields={champ: "Date invalide : écrivez-la par exemple 14/05/2024."})


def lire_proche(valeurs: dict[str, str]) -> tuple[reservation.Proche | None, dict[str, str]]:
    """The relative of the form when the booking is for one, and the error of their birth
    date if it cannot be read (shown with the others)."""
    if valeurs.get("pour") != "proche":
        return None, {}
    erreurs: dict[str, str] = {}
    try:
        naissance = lire_date(valeurs["proche_date_naissance"], "proche_date_naissance")
    except Invalid as erreur:
        naissance, erreurs = None, erreur.fields
    proche = reservation.Proche(valeurs["proche_prenom"], valeurs["proche_nom"], naissance)
    return proche, erreurs


async def formulaire(request: RequestT, *noms: str) -> dict[str, str]:
    donnees = await request.form()
    return {nom: str(donnees.get(nom) or "") for nom in noms}


def introuvable(request: RequestT, erreur: NotFound) -> Template:
    """A 404 of these pages says how to find one's rdv again."""
    return vue("introuvable", status_code=404, message=erreur.message)


async def site_avec_telephone(motif: MotifInfo, site_id: int) -> dict[str, Any]:
    """The site of a motif, with the phone number to call when nothing is free."""
    site = await recherche.site_du_motif(motif, site_id)
    row = await Site.select(Site.telephone).where(Site.id == site_id).first()
    return {**site, "telephone": row["telephone"] if row else ""}


async def choix(
    motif_id: int, site_id: int, debut: str
) -> tuple[MotifInfo, dict[str, Any], datetime]:
    async with lecture():
        motif = await recherche.motif_en_ligne(motif_id)
        site = await site_avec_telephone(motif, site_id)
    return motif, site, lire_debut(debut, motif.fuseau)


def navigation(motif: MotifInfo, du: date, aujourd_hui: date) -> dict[str, date | None]:
    """The weeks before and after `du`, within the motif's booking window."""
    derniere = aujourd_hui + timedelta(days=motif.regles.delai_max.days)
    return {
        "precedente": max(du - timedelta(days=7), aujourd_hui) if du > aujourd_hui else None,
        "suivante": du + timedelta(days=7) if du + timedelta(days=7) <= derniere else None,
    }


def coordonnees(
    motif: MotifInfo,
    site: dict[str, Any],
    moment: datetime,
    *,
    valeurs: dict[str, str],
    errors: dict[str, str],
) -> Template:
    return vue(
        "coordonnees",
        status_code=422 if errors else 200,
        prive=bool(errors),
        motif=motif,
        site=site,
        moment=moment,
        minutes=minutes(motif),
        valeurs=valeurs,
        errors=errors,
        action=f"/rendez-vous/motif/{motif.id}/lieu/{site['id']}/creneau?"
        + urlencode({"debut": moment.astimezone(ZoneInfo(motif.fuseau)).isoformat()}),
        **formats_du_fuseau(motif.fuseau),
    )


def indisponible(
    motif: MotifInfo,
    site: dict[str, Any],
    moment: datetime,
    prochains: list[Any],
    *,
    refus: str | None = None,
) -> Template:
    """409 when someone took the créneau first (or the session is full); 422 (`refus`)
    when it is no créneau at all."""
    return vue(
        "indisponible",
        status_code=422 if refus else 409,
        motif=motif,
        site=site,
        moment=moment,
        prochains=prochains,
        refus=refus,
        deplacement=False,
        **formats_du_fuseau(motif.fuseau),
    )


def personne(rdv: acces_usager.RdvUsager) -> str:
    """Who comes, and who booked for them when it is a relative."""
    nom = f"{rdv.prenom} {rdv.nom}".strip()
    return f"{nom} (réservé par {rdv.responsable})" if rdv.responsable else nom


def contexte_rdv(rdv: acces_usager.RdvUsager) -> dict[str, Any]:
    return {
        "rdv": rdv,
        "personne": personne(rdv),
        "motif": rdv.motif,
        "site": rdv.site,
        "minutes": minutes(rdv.motif),
        "cle": acces_usager.cle(rdv.code),
        "lien": lien_rdv(rdv.code),
        "raison": rdv.modifiable(datetime.now(UTC)),
        "a_venir": rdv.statut == StatutRdv.a_venir,
        **formats_du_fuseau(rdv.motif.fuseau),
    }


def empechement(rdv: acces_usager.RdvUsager, permis: bool, verbe: str) -> str | None:
    """Why the usager may not do this online now, or None."""
    if not permis:
        return f"Ce rendez-vous ne {verbe} pas en ligne : appelez le lieu."
    return rdv.modifiable(datetime.now(UTC))


def qr_svg(code: str) -> str:
    """The code as an inline SVG QR code, with its text alternative."""
    # Never a Micro QR (what segno picks for 8 characters): phones and kiosks miss them.
    qr = segno.make(code, error="m", micro=False)
    svg = qr.svg_inline(dark="#000", light="#fff", svgclass="qr", omitsize=True)
    libelle = f"QR code de votre rendez-vous, qui contient le code {code}"
    return svg.replace("<svg ", f'<svg role="img" aria-label="{libelle}" ', 1)
