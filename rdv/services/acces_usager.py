"""The usager's access to their rdv without an account: the link's key, or the code
and the first two letters of their last name, with a limit on guessing."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from plateforme.db import lignes, write_transaction
from plateforme.errors import Conflict, NotFound, TooManyRequests
from plateforme.settings import get_settings
from rdv.services import cycle, places
from rdv.services.chargement import MotifInfo, motif_info
from rdv.tables import StatutRdv, TentativeCode
from sites.services.communes import normalise

ESSAIS_MAX = 10
FENETRE = timedelta(minutes=15)
INTROUVABLE = "Aucun rendez-vous ne correspond à ce code et à ces lettres du nom."


def cle(code: str) -> str:
    """The key in the usager's link: proves they received it, without their name."""
    digest = hmac.new(
        get_settings().secret_key.encode(), f"rdv:{code}".encode(), hashlib.sha256
    ).digest()
    return base64.b32encode(digest).decode()[:16].lower()


def initiales(nom: str) -> str:
    """The first two letters of a last name, without case, accents or spaces: "Le Goff" -> "LE"."""
    lettres = "".join(c for c in normalise(nom) if c.isalpha())
    return lettres[:2].upper()


@dataclass(frozen=True)
class RdvUsager:
    """One participant's rdv as they see it: an individual rdv, or their seat in a
    collective session (`id` is then the session's)."""

    id: int
    participant_id: int
    code: str
    # The participant's view: the rdv's status, or theirs once they left the session.
    statut: str
    debut: datetime
    fin: datetime
    motif: MotifInfo
    site: dict[str, Any]
    # Who comes...
    prenom: str
    nom: str
    # ...and whom messages go to: the responsable who booked for a relative.
    telephone: str
    email: str
    # "Prénom Nom" of the responsable when the participant is their relative, else "".
    responsable: str
    responsable_nom: str
    collectif: bool
    # ICS: the seat is an event of its own, which follows the participant across sessions.
    sequence: int
    cree_le: datetime
    modifie_le: datetime
    agent_id: int

    @property
    def uid_ics(self) -> str:
        return f"participant-{self.participant_id}" if self.collectif else f"rdv-{self.id}"

    def modifiable(self, maintenant: datetime) -> str | None:
        """None when the usager may still cancel or move it, else why not (French)."""
        if self.statut != StatutRdv.a_venir:
            return "Ce rendez-vous n'est plus à venir."
        if not cycle.peut_encore_changer(self.motif, self.debut, maintenant):
            heures = int(self.motif.delai_annulation.total_seconds() // 3600)
            return f"Moins de {heures} h avant : pour le modifier, appelez le lieu."
        return None


def statut_participant(statut_rdv: str, statut_place: str) -> str:
    """A cancelled session is cancelled for everyone; otherwise a participant sees their
    own status once it is not "à venir" (they left, came or did not come)."""
    if statut_rdv in cycle.ANNULATIONS or statut_place == StatutRdv.a_venir:
        return statut_rdv
    return statut_place


async def _compter_echecs(ip: str, maintenant: datetime) -> int:
    count: int = await TentativeCode.count().where(
        TentativeCode.ip == ip,
        TentativeCode.succes.eq(False),
        TentativeCode.at >= maintenant - FENETRE,
    )
    return count


async def trouver(
    code: str,
    *,
    ip: str,
    cle_lien: str | None = None,
    lettres: str | None = None,
    maintenant: datetime | None = None,
) -> RdvUsager:
    """The rdv behind a code, if the key or the letters match; the same answer for every miss.

    The link's key (80 bits) cannot be guessed, so it is checked first and never
    limited: a neighbour guessing codes behind the same address must not lock
    people out of their SMS links. Only misses are recorded, and they limit the
    code-and-letters path (two letters are easy to guess, the code is not).
    """
    maintenant = maintenant or datetime.now(UTC)
    code = code.strip().upper().replace("-", "").replace(" ", "")
    if cle_lien is not None and hmac.compare_digest(cle_lien.lower().encode(), cle(code).encode()):
        rdv = await _charger(code)
        if rdv is not None:
            return rdv
    if await _compter_echecs(ip, maintenant) >= ESSAIS_MAX:
        raise TooManyRequests(
            "Trop d'essais. Réessayez dans 15 minutes ou utilisez le lien reçu par SMS.",
            retry_after=int(FENETRE.total_seconds()),
        )
    rdv = await _charger(code) if lettres is not None else None
    if rdv is not None and lettres is not None and len(initiales(lettres)) == 2:
        # Either name: the person who comes, or the responsable who booked for them.
        if initiales(lettres) in {initiales(rdv.nom), initiales(rdv.responsable_nom)}:
            return rdv
    async with write_transaction():
        await TentativeCode(ip=ip, code=code[:12], succes=False, at=maintenant).save()
    raise NotFound(INTROUVABLE, code="rdv_introuvable")


_PLACE_SQL = """SELECT p.id, p.code, p.statut, p.sequence, p.created_at, p.updated_at,
    u.prenom, u.nom, u.telephone, u.email,
    resp.prenom, resp.nom, resp.telephone, resp.email,
    r.id, r.motif, r.agent, r.statut, r.debut, r.fin, r.collectif, r.sequence,
    r.created_at, r.updated_at,
    s.id, s.nom, s.adresse, s.telephone
FROM rdv_participant p
JOIN usager u ON u.id = p.usager
LEFT JOIN usager resp ON resp.id = u.responsable
JOIN rdv r ON r.id = p.rdv
JOIN site s ON s.id = r.site
WHERE p.code = {}"""


async def _charger(code: str) -> RdvUsager | None:
    """The participant with this code (that of an individual rdv is the rdv's).

    Two queries written once (this one and the motif's): every booking reads it back
    for its messages, in its write transaction."""
    if not code.isalnum() or len(code) > 12:
        return None
    rows = await lignes(_PLACE_SQL, code)
    if not rows:
        return None
    (
        place_id,
        place_code,
        place_statut,
        place_sequence,
        place_cree,
        place_modifie,
        prenom,
        nom,
        telephone,
        email,
        responsable_prenom,
        responsable_nom,
        responsable_telephone,
        responsable_email,
        rdv_id,
        motif_id,
        agent_id,
        rdv_statut,
        debut,
        fin,
        collectif,
        rdv_sequence,
        rdv_cree,
        rdv_modifie,
        *site,
    ) = rows[0]
    proche = responsable_nom is not None
    # A seat has its own calendar event; an individual rdv's is the rdv's.
    seat = bool(collectif)
    return RdvUsager(
        id=rdv_id,
        participant_id=place_id,
        code=place_code,
        statut=statut_participant(rdv_statut, place_statut),
        debut=debut,
        fin=fin,
        motif=await motif_info(motif_id, actifs_seulement=False),
        site=dict(zip(("id", "nom", "adresse", "telephone"), site, strict=True)),
        prenom=prenom,
        nom=nom,
        telephone=responsable_telephone if proche else telephone,
        email=responsable_email if proche else email,
        responsable=f"{responsable_prenom} {responsable_nom}" if proche else "",
        responsable_nom=responsable_nom or "",
        collectif=seat,
        sequence=place_sequence if seat else rdv_sequence,
        cree_le=(place_cree if seat else None) or rdv_cree,
        modifie_le=(place_modifie if seat else None) or rdv_modifie,
        agent_id=agent_id,
    )


async def par_code(code: str) -> RdvUsager | None:
    """The participant's rdv behind a code, with no check: for the messages sent to them."""
    return await _charger(code)


async def recharger(rdv: RdvUsager) -> RdvUsager:
    fresh = await _charger(rdv.code)
    assert fresh is not None
    return fresh


async def annuler(rdv: RdvUsager, *, maintenant: datetime | None = None) -> RdvUsager:
    maintenant = maintenant or datetime.now(UTC)
    if not rdv.motif.annulable_par_usager:
        raise Conflict(
            "Ce rendez-vous ne s'annule pas en ligne : appelez le lieu.",
            code="annulation_impossible",
        )
    pourquoi = rdv.modifiable(maintenant)
    if pourquoi:
        raise Conflict(pourquoi, code="annulation_impossible")
    if rdv.collectif:
        # Only this participant's seat: the session goes on for the others.
        await places.quitter(rdv.participant_id, StatutRdv.excuse, cycle.USAGER)
    else:
        await cycle.changer_statut(rdv.id, StatutRdv.excuse, cycle.USAGER)
    return await recharger(rdv)


async def deplacer(
    rdv: RdvUsager, nouveau_debut: datetime, *, maintenant: datetime | None = None
) -> RdvUsager:
    maintenant = maintenant or datetime.now(UTC)
    if not rdv.motif.deplacable_par_usager or not rdv.motif.reservable_en_ligne:
        raise Conflict(
            "Ce rendez-vous ne se déplace pas en ligne : appelez le lieu.",
            code="deplacement_impossible",
        )
    pourquoi = rdv.modifiable(maintenant)
    if pourquoi:
        raise Conflict(pourquoi, code="deplacement_impossible")
    if rdv.collectif:
        await places.changer_de_session(
            rdv.participant_id, nouveau_debut, cycle.USAGER, maintenant=maintenant
        )
    else:
        await cycle.deplacer(rdv.id, nouveau_debut, cycle.USAGER, maintenant=maintenant)
    return await recharger(rdv)
