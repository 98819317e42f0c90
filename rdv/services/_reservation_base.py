"""What booking shares between individual rdvs and collective seats: the requests and
answers, the refusals, the codes, the booking window and the next free créneaux."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from plateforme.db import is_unique_violation
from plateforme.errors import Conflict, Invalid
from rdv import creneaux
from rdv.services._usagers import Personne, Proche
from rdv.services.chargement import MotifInfo, charger
from rdv.tables import CanalCreation, RdvParticipant, StatutRdv

# Unambiguous when read aloud or typed at a kiosk: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
PROCHAINS = 3


class CreneauIndisponible(Conflict):
    code = "creneau_indisponible"
    default_message = "Ce créneau vient d'être pris. Choisissez-en un autre."

    def __init__(self, prochains: list[creneaux.Creneau]) -> None:
        super().__init__()
        self.prochains = prochains


class SessionComplete(CreneauIndisponible):
    code = "session_complete"
    default_message = "Cette session est complète. Choisissez-en une autre."


class DejaInscrit(Conflict):
    code = "deja_inscrit"
    default_message = "Cette personne est déjà inscrite à cette session."


@dataclass(frozen=True)
class DemandeRdv:
    motif_id: int
    site_id: int
    debut: datetime
    personne: Personne
    agent_id: int | None = None
    canal: CanalCreation = CanalCreation.en_ligne
    # Set when an agent books for someone: they may book outside the créneaux.
    agent_createur_id: int | None = None
    # The relative who comes, when `personne` books for them.
    proche: Proche | None = None


@dataclass(frozen=True)
class RdvCree:
    """The booked rdv (a collective session for a seat) and the participant's own code."""

    id: int
    code: str
    debut: datetime
    fin: datetime
    agent_id: int
    site_id: int
    motif: MotifInfo
    site: dict[str, Any]
    participant_id: int | None = None
    # "Prénom Nom" of who comes: the usager, or their relative.
    pour: str = ""


def nouveau_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_deja_tire(error: BaseException) -> bool:
    """Another rdv or participant drew the same code (any other unique index is not this)."""
    return is_unique_violation(error) and "code" in str(error).lower()


async def prochains_creneaux(
    motif: MotifInfo, site_id: int, apres: datetime, maintenant: datetime, nombre: int = PROCHAINS
) -> list[creneaux.Creneau]:
    fin = apres + motif.regles.delai_max + timedelta(days=1)
    contexte = await charger(motif, debut=apres, fin=fin, site_ids=[site_id])
    libres = contexte.libres(apres, fin, maintenant)
    starts: list[creneaux.Creneau] = []
    for creneau in libres:
        if not starts or creneau.debut != starts[-1].debut:
            starts.append(creneau)
        if len(starts) == nombre:
            break
    return starts


def par_agent(demande: DemandeRdv) -> bool:
    """An agent booking in an agenda: any time, only the database's refusals apply."""
    return demande.agent_createur_id is not None and demande.agent_id is not None


def pour(personne: Personne, proche: Proche | None) -> str:
    qui = proche or personne
    return f"{qui.prenom} {qui.nom}"


def dans_la_fenetre(motif: MotifInfo, debut: datetime, maintenant: datetime) -> None:
    """Raise Invalid when `debut` is past or outside the motif's online booking window."""
    if debut < maintenant:
        raise Invalid(
            "Ce créneau est passé.", code="creneau_passe", fields={"debut": "créneau passé"}
        )
    regles = motif.regles
    if debut < maintenant + regles.delai_min or debut > maintenant + regles.delai_max:
        raise Invalid(
            "Ce créneau est hors de la période de réservation de ce motif.",
            code="hors_delai",
            fields={"debut": "hors de la période de réservation"},
        )


async def nouvelle_place(rdv_id: int, usager_id: int, code: str) -> int:
    now = datetime.now(UTC)
    place = RdvParticipant(
        rdv=rdv_id,
        usager=usager_id,
        code=code,
        statut=StatutRdv.a_venir,
        created_at=now,
        updated_at=now,
    )
    await place.save()
    return int(place.id)
