"""Booking for someone on the phone: find the usager, then any time of the agent's day.

The agent is not held to the créneaux (an emergency, a follow-up outside the
plages): only the database's refusal of an overlap applies, as for every rdv.
For a collective motif, the agent adds the person to their session at that time,
or opens the session there; left without anyone, it opens an empty session
that people then join online.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from plateforme.auth import Principal
from plateforme.errors import Conflict, Invalid, NotFound
from plateforme.telephones import affichage
from rdv.services import reservation
from rdv.services._agenda_acces import (
    AgentAgenda,
    fuseau,
    lire_choix,
    lire_heure,
    motifs_et_sites,
)
from rdv.tables import STATUTS_ACTIFS, CanalCreation, Rdv, Usager
from sites.services.communes import normalise
from sites.services.forms import Form
from sites.tables import SiteService

RESULTATS_MAX = 20


class Chevauchement(Conflict):
    code = "creneau_indisponible"
    default_message = "L'agent a déjà un rendez-vous à cette heure-là."


class SessionPleine(Conflict):
    code = "session_complete"
    default_message = "Cette session est complète."


@dataclass(frozen=True)
class RdvReserve:
    id: int
    code: str
    jour: date


def _usager_public(row: dict[str, Any]) -> dict[str, Any]:
    return {
        **row,
        "telephone_affiche": affichage(row["telephone"]) if row["telephone"] else "",
    }


# An agent may book far ahead, not into a typo's year 9999.
HORIZON_AGENT = timedelta(days=730)


async def chercher_usagers(principal: Principal, q: str) -> list[dict[str, Any]]:
    """Usagers of the territoire whose names hold every word of `q`, whatever the case and
    accents, or whose phone holds its digits ("06 12 34" finds +33612345678). At most
    RESULTATS_MAX."""
    texte = "".join(c for c in q if c not in "%_\\").strip()
    chiffres = "".join(c for c in texte if c.isdigit())
    query = Usager.select(
        Usager.id, Usager.prenom, Usager.nom, Usager.telephone, Usager.email, Usager.date_naissance
    ).where(Usager.territoire == principal.territoire_id)
    lettres = [mot for mot in texte.split() if not any(c.isdigit() for c in mot)]
    if len(chiffres) >= 4 and not lettres:
        # National "06…" and international "+33 6…" both end with the subscriber digits.
        significatifs = chiffres[1:] if chiffres.startswith("0") else chiffres
        query = query.where(Usager.telephone.like(f"%{significatifs}%"))
    elif lettres and len(" ".join(lettres)) >= 2:
        # Folded as the names are in `recherche`: "helene" finds "Hélène", "jean pierre"
        # finds "Jean-Pierre", whatever the engine's LIKE does with accents.
        for mot in normalise(" ".join(lettres)).split():
            query = query.where(Usager.recherche.like(f"%{mot}%"))
    else:
        return []
    rows = await query.order_by(Usager.nom).order_by(Usager.prenom).limit(RESULTATS_MAX)
    return [_usager_public(r) for r in rows]


async def usager_du_territoire(principal: Principal, usager_id: int) -> dict[str, Any]:
    row = (
        await Usager.select(Usager.id, Usager.prenom, Usager.nom, Usager.telephone, Usager.email)
        .where(Usager.id == usager_id, Usager.territoire == principal.territoire_id)
        .first()
    )
    if row is None:
        raise NotFound("Cet usager n'existe pas.", code="usager_introuvable")
    return _usager_public(row)


async def _chevauchants(agent_id: int, debut: datetime, fin: datetime, zone: str) -> str:
    rows = await Rdv.select(Rdv.debut, Rdv.fin, Rdv.motif.nom.as_alias("motif_nom")).where(
        Rdv.agent == agent_id,
        Rdv.statut.is_in(list(STATUTS_ACTIFS)),
        Rdv.debut < fin,
        Rdv.fin > debut,
    )
    tz = ZoneInfo(zone)
    return ", ".join(
        f"{r['debut'].astimezone(tz):%H:%M}–{r['fin'].astimezone(tz):%H:%M} ({r['motif_nom']})"
        for r in rows
    )


async def reserver_par_telephone(
    principal: Principal, cible: AgentAgenda, form: Form, *, maintenant: datetime | None = None
) -> RdvReserve:
    """Book an rdv with `cible` at the typed local date and time, for the typed person or
    for a relative of theirs (the person stays the contact for the messages).

    Raises Invalid (every bad field at once, 422), Chevauchement (409) when
    the agent already has an rdv then, SessionPleine or DejaInscrit (409).
    """
    maintenant = maintenant or datetime.now(UTC)
    motifs, sites = await motifs_et_sites(principal, cible)
    motif_id = lire_choix(form, "motif", {m["id"] for m in motifs}, "Choisissez un motif.")
    site_id = lire_choix(form, "site", {s["id"] for s in sites}, "Choisissez un site.")
    jour = form.day("jour", label="Date")
    heure = lire_heure(form, "heure", label="Heure")
    personne = reservation.Personne(
        prenom=form.text("prenom"),
        nom=form.text("nom"),
        telephone=form.text("telephone", max_length=30),
        email=form.text("email"),
    )
    # For a relative of theirs (a child, often): the person on the phone is the contact.
    proche: reservation.Proche | None = None
    if form.text("proche_prenom") or form.text("proche_nom"):
        naissance = None
        if form.text("proche_date_naissance"):
            naissance = form.day("proche_date_naissance", label="Date de naissance du proche")
        proche = reservation.Proche(form.text("proche_prenom"), form.text("proche_nom"), naissance)
    motif = next((m for m in motifs if m["id"] == motif_id), None)
    session_vide = (
        motif is not None
        and motif["collectif"]
        and proche is None
        and not any((personne.prenom, personne.nom, personne.telephone, personne.email))
    )
    zone = await fuseau(principal)
    if not session_vide:
        try:
            reservation.valider_demande(personne, proche, maintenant)
        except Invalid as error:
            for name, message in error.fields.items():
                form.errors.add(name, message)
    debut: datetime | None = None
    if jour is not None and heure is not None:
        debut = datetime.combine(jour, heure, tzinfo=ZoneInfo(zone))
        if debut < maintenant:
            form.errors.add("heure", "Cette date et cette heure sont déjà passées.")
        elif debut > maintenant + HORIZON_AGENT:
            form.errors.add("jour", "Pas plus de deux ans à l'avance.")
    if motif is not None and site_id is not None:
        offert = await SiteService.exists().where(
            SiteService.site == site_id, SiteService.service == motif["service"]
        )
        if not offert:
            form.errors.add("site", f"Ce site ne propose pas le service {motif['service_nom']}.")
    form.errors.raise_if_any()
    assert motif is not None and site_id is not None and debut is not None
    demande = reservation.DemandeRdv(
        motif_id=motif["id"],
        site_id=site_id,
        debut=debut,
        personne=personne,
        agent_id=cible.id,
        canal=CanalCreation.agent,
        agent_createur_id=principal.agent_id,
        proche=proche,
    )
    try:
        if session_vide:
            cree = await reservation.ouvrir_session(
                motif["id"], site_id, cible.id, debut, agent_createur_id=principal.agent_id
            )
        else:
            cree = await reservation.reserver(demande, maintenant=maintenant)
    except reservation.SessionComplete:
        raise SessionPleine(
            f"La session de {debut:%H:%M} est complète ({motif['capacite']} places) :"
            " pour y ajouter quelqu'un, il faut qu'un participant se désinscrive."
        ) from None
    except reservation.CreneauIndisponible:
        duree = timedelta(minutes=motif["duree_minutes"])
        occupes = await _chevauchants(cible.id, debut, debut + duree, zone)
        qui = "Vous avez" if cible.soi_meme else f"{cible.nom_complet} a"
        raise Chevauchement(
            f"{qui} déjà un rendez-vous qui chevauche {debut:%H:%M}–{debut + duree:%H:%M}"
            + (f" : {occupes}" if occupes else "")
            + ". Choisissez une autre heure."
        ) from None
    except Invalid as error:
        # The service's "debut" is the form's date and time.
        fields = {("heure" if k == "debut" else k): v for k, v in error.fields.items()}
        raise Invalid(error.message, fields=fields) from None
    return RdvReserve(id=cree.id, code=cree.code, jour=cree.debut.astimezone(ZoneInfo(zone)).date())
