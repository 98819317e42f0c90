"""The usager's rdv in calendars and links: the ICS invitation or cancellation of one
participant, and the link to see, move or cancel it. Used by the pages and the e-mails."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode, urlsplit

from plateforme.settings import get_settings
from rdv import ics
from rdv.services import acces_usager


def lien_rdv(code: str, **extra: str) -> str:
    return f"/rendez-vous/{code}?" + urlencode({"cle": acces_usager.cle(code), **extra})


def lien_court(code: str) -> str:
    """The short link of the SMS (`/r/{code}/{cle}`), full URL."""
    return f"{get_settings().public_url}/r/{code}/{acces_usager.cle(code)}"


def rdv_ics(rdv: acces_usager.RdvUsager, cree_le: datetime, modifie_le: datetime) -> ics.RdvIcs:
    settings = get_settings()
    hote = urlsplit(settings.public_url).hostname or "localhost"
    lignes = [
        rdv.motif.instructions,
        f"Code du rendez-vous : {rdv.code}",
        f"Pour l'annuler ou le déplacer : {settings.public_url}{lien_rdv(rdv.code)}",
    ]
    if rdv.site.get("telephone"):
        lignes.append(f"Téléphone du lieu : {rdv.site['telephone']}")
    nom_site = rdv.site.get("nom", "")
    return ics.RdvIcs(
        uid=f"{rdv.uid_ics}@{hote}",
        sequence=rdv.sequence,
        debut=rdv.debut,
        fin=rdv.fin,
        fuseau=rdv.motif.fuseau,
        titre=f"{rdv.motif.nom} – {nom_site}" if nom_site else rdv.motif.nom,
        lieu=", ".join(p for p in (nom_site, rdv.site.get("adresse", "")) if p),
        description="\n".join(ligne for ligne in lignes if ligne),
        organisateur_nom=nom_site,
        organisateur_email=None,
        participant_nom=f"{rdv.prenom} {rdv.nom}".strip() or None,
        participant_email=rdv.email or None,
        statut=rdv.statut,
        cree_le=cree_le,
        modifie_le=modifie_le,
    )


def fichier_ics(rdv: acces_usager.RdvUsager) -> tuple[bytes, str]:
    """The invitation, or its cancellation once the rdv is cancelled, and a file name."""
    evenement = rdv_ics(rdv, rdv.cree_le, rdv.modifie_le)
    if rdv.statut in ics.STATUTS_ANNULES:
        return ics.annulation(evenement), f"annulation-{rdv.code}.ics"
    return ics.invitation(evenement), f"rendez-vous-{rdv.code}.ics"
