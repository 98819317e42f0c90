"""The participants of rdvs as the agenda shows them: a relative with their responsable's
name and phone, and who left a collective session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from plateforme.telephones import affichage
from rdv.tables import STATUTS_ACTIFS, RdvParticipant


@dataclass(frozen=True)
class UsagerAgenda:
    # "Prénom Nom", or "Prénom Nom (proche de Prénom Nom)" for a relative.
    nom: str
    # The number to call: the responsable's for a relative, as people read it.
    telephone: str
    telephone_e164: str
    # False once they left a collective session (their seat is free again).
    inscrit: bool = True
    # The participant's own seat and status: in a collective session, each one comes or not.
    participant_id: int = 0
    statut: str = "a_venir"
    # The number replied STOP: no SMS reaches them (reminders neither).
    sms_refuses: bool = False


def usager_agenda(p: dict[str, Any]) -> UsagerAgenda:
    """A participant row with its usager and, for a relative, their responsable."""
    nom = f"{p['prenom']} {p['nom']}"
    telephone = p["telephone"]
    refus = p["sms_refuse_at"]
    if p["responsable_nom"] is not None:
        nom += f" (proche de {p['responsable_prenom']} {p['responsable_nom']})"
        telephone = p["responsable_telephone"]
        refus = p["responsable_sms_refuse_at"]
    return UsagerAgenda(
        nom=nom,
        telephone=affichage(telephone) if telephone else "",
        telephone_e164=telephone,
        inscrit=p["statut"] in STATUTS_ACTIFS,
        participant_id=p["id"],
        statut=p["statut"],
        sms_refuses=refus is not None,
    )


def participants_query(rdv_ids: list[int]) -> Any:
    """Who is in these rdvs, in the order they booked, with a relative's responsable."""
    usager, responsable = RdvParticipant.usager, RdvParticipant.usager.responsable
    return (
        RdvParticipant.select(
            RdvParticipant.id,
            RdvParticipant.rdv,
            RdvParticipant.statut,
            usager.prenom.as_alias("prenom"),
            usager.nom.as_alias("nom"),
            usager.telephone.as_alias("telephone"),
            usager.sms_refuse_at.as_alias("sms_refuse_at"),
            responsable.prenom.as_alias("responsable_prenom"),
            responsable.nom.as_alias("responsable_nom"),
            responsable.telephone.as_alias("responsable_telephone"),
            responsable.sms_refuse_at.as_alias("responsable_sms_refuse_at"),
        )
        .where(RdvParticipant.rdv.is_in(rdv_ids))
        .order_by(RdvParticipant.id)
    )
