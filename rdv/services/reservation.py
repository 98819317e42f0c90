"""Booking a créneau: checked against the engine, guaranteed by the database.

The engine says whether the requested start is a créneau at all and which
agents are free then; the database (exclusion constraint or triggers) decides
between concurrent requests. Whatever the engine said, a refusal by the
database becomes `CreneauIndisponible`, a 409 offering the next free créneaux.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from plateforme.db import is_unique_violation, lecture, write_transaction
from plateforme.errors import Conflict, FieldErrors, Invalid, NotFound
from plateforme.telephones import mobile_e164
from rdv import creneaux
from rdv.services.chargement import MotifInfo, charger, motif_info, site_du_motif
from rdv.services.contraintes import is_chevauchement, verrouiller_agent
from rdv.tables import CanalCreation, Rdv, RdvHistorique, RdvParticipant, StatutRdv, Usager
from sites.services.communes import normalise

# Unambiguous when read aloud or typed at a kiosk: no 0/O, 1/I/L.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8
PROCHAINS = 3
EMAIL_MAX = 255


class CreneauIndisponible(Conflict):
    code = "creneau_indisponible"
    default_message = "Ce créneau vient d'être pris. Choisissez-en un autre."

    def __init__(self, prochains: list[creneaux.Creneau]) -> None:
        super().__init__()
        self.prochains = prochains


@dataclass(frozen=True)
class Personne:
    prenom: str
    nom: str
    telephone: str
    email: str = ""


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


@dataclass(frozen=True)
class RdvCree:
    id: int
    code: str
    debut: datetime
    fin: datetime
    agent_id: int
    site_id: int
    motif: MotifInfo
    site: dict[str, Any]


def nouveau_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def valider_personne(personne: Personne) -> Personne:
    """Trimmed names, a mobile in E.164, an e-mail if given; Invalid lists every bad field."""
    errors = FieldErrors()
    prenom, nom = personne.prenom.strip(), personne.nom.strip()
    if not prenom:
        errors.add("prenom", "Le prénom est obligatoire.")
    if not nom:
        errors.add("nom", "Le nom est obligatoire.")
    if len(prenom) > 100 or len(nom) > 100:
        errors.add("nom" if len(nom) > 100 else "prenom", "100 caractères au plus.")
    telephone = ""
    try:
        telephone = mobile_e164(personne.telephone)
    except Invalid as error:
        errors.errors.update(error.fields)
    email = personne.email.strip().lower()
    if email and (
        "@" not in email or "." not in email.rsplit("@", 1)[-1] or len(email) > EMAIL_MAX
    ):
        errors.add("email", "Adresse e-mail invalide (exemple : prenom.nom@exemple.fr).")
    errors.raise_if_any()
    return Personne(prenom=prenom, nom=nom, telephone=telephone, email=email)


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


async def reserver(demande: DemandeRdv, *, maintenant: datetime | None = None) -> RdvCree:
    """Book the créneau, or raise: Invalid (422), NotFound (404), CreneauIndisponible (409)."""
    maintenant = maintenant or datetime.now(UTC)
    personne = valider_personne(demande.personne)
    # Every check reads from one snapshot; the write transaction comes after it,
    # never inside (SQLite would have to upgrade a read lock).
    async with lecture():
        motif, site, debut, agents = await _preparer(demande, maintenant)
    for agent_id in agents:
        try:
            return await _enregistrer(
                motif, site, demande, personne, agent_id, debut, debut + motif.duree
            )
        except Exception as error:
            if not is_chevauchement(error):
                raise
            # Taken between the engine's answer and the insert: try the next free agent.
    async with lecture():
        prochains = await prochains_creneaux(motif, demande.site_id, debut, maintenant)
    raise CreneauIndisponible(prochains)


async def _preparer(
    demande: DemandeRdv, maintenant: datetime
) -> tuple[MotifInfo, dict[str, Any], datetime, list[int]]:
    """The motif, its site, the start on the minute, and the agents free then (or raise why not)."""
    motif = await motif_info(demande.motif_id)
    if demande.canal == CanalCreation.en_ligne and not motif.reservable_en_ligne:
        raise NotFound("Ce motif ne se réserve pas en ligne.", code="motif_inconnu")
    site = await site_du_motif(motif, demande.site_id)
    debut = demande.debut.astimezone(UTC).replace(second=0, microsecond=0)
    if debut != demande.debut.astimezone(UTC):
        raise Invalid(
            "Ce n'est pas un créneau proposé.",
            code="creneau_invalide",
            fields={"debut": "pas un créneau"},
        )
    if demande.agent_createur_id is not None and demande.agent_id is not None:
        # Agents may book at any time (a phone call, an emergency): only the
        # database's refusal of an overlap applies.
        return motif, site, debut, [demande.agent_id]
    agents = await agents_libres(
        motif, demande.site_id, debut, maintenant, agent_id=demande.agent_id
    )
    return motif, site, debut, agents


async def agents_libres(
    motif: MotifInfo,
    site_id: int,
    debut: datetime,
    maintenant: datetime,
    *,
    agent_id: int | None = None,
    sauf_rdv: int | None = None,
) -> list[int]:
    """Agents for whom `debut` is a free créneau of this motif at this site, or raise why not."""
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
    fenetre_debut, fenetre_fin = (
        debut - timedelta(minutes=1),
        debut + motif.duree + timedelta(minutes=1),
    )
    contexte = await charger(
        motif,
        debut=fenetre_debut,
        fin=fenetre_fin,
        site_ids=[site_id],
        agent_ids=[agent_id] if agent_id is not None else None,
        sauf_rdv=sauf_rdv,
    )
    libres = [
        c.agent_id
        for c in contexte.libres(fenetre_debut, fenetre_fin, maintenant)
        if c.debut == debut
    ]
    if libres:
        return libres
    theoriques = creneaux.creneaux_libres(
        contexte.plages,
        contexte.absences,
        [],
        contexte.jours_fermes,
        regles,
        fenetre_debut,
        fenetre_fin,
        maintenant,
        motif.fuseau,
    )
    if any(c.debut == debut for c in theoriques):
        raise CreneauIndisponible(await prochains_creneaux(motif, site_id, debut, maintenant))
    raise Invalid(
        "Ce n'est pas un créneau proposé.",
        code="creneau_invalide",
        fields={"debut": "pas un créneau"},
    )


async def _usager(motif: MotifInfo, personne: Personne) -> int:
    """The usager of this territoire with this phone and name, or a new one."""
    same_phone = await Usager.select(Usager.id, Usager.prenom, Usager.nom, Usager.email).where(
        Usager.territoire == motif.territoire_id, Usager.telephone == personne.telephone
    )
    wanted = (normalise(personne.prenom), normalise(personne.nom))
    existing = next(
        (u for u in same_phone if (normalise(u["prenom"]), normalise(u["nom"])) == wanted), None
    )
    if existing is not None:
        # Fill a missing e-mail only: anyone knowing a person's name and phone
        # could otherwise redirect that person's messages to themselves.
        if personne.email and not existing["email"]:
            await Usager.update({Usager.email: personne.email}).where(Usager.id == existing["id"])
        return int(existing["id"])
    usager = Usager(
        territoire=motif.territoire_id,
        prenom=personne.prenom,
        nom=personne.nom,
        telephone=personne.telephone,
        email=personne.email,
    )
    await usager.save()
    return int(usager.id)


async def _enregistrer(
    motif: MotifInfo,
    site: dict[str, Any],
    demande: DemandeRdv,
    personne: Personne,
    agent_id: int,
    debut: datetime,
    fin: datetime,
) -> RdvCree:
    for _ in range(5):
        code = nouveau_code()
        try:
            async with write_transaction():
                await verrouiller_agent(agent_id)
                usager_id = await _usager(motif, personne)
                rdv = Rdv(
                    motif=motif.id,
                    site=demande.site_id,
                    agent=agent_id,
                    debut=debut,
                    fin=fin,
                    statut=StatutRdv.a_venir,
                    code=code,
                    canal_creation=demande.canal,
                    cree_par_agent=demande.agent_createur_id,
                    collectif=motif.collectif,
                    capacite=motif.capacite,
                )
                await rdv.save()
                await RdvParticipant(rdv=rdv.id, usager=usager_id).save()
                await RdvHistorique(
                    rdv=rdv.id,
                    evenement="cree",
                    statut=StatutRdv.a_venir,
                    debut=debut,
                    acteur="agent" if demande.agent_createur_id else "usager",
                    agent=demande.agent_createur_id,
                    details={"canal": str(demande.canal)},
                ).save()
        except Exception as error:
            if is_unique_violation(error) and "code" in str(error).lower():
                continue  # another rdv drew the same code: draw again
            raise
        return RdvCree(
            id=int(rdv.id),
            code=code,
            debut=debut,
            fin=fin,
            agent_id=agent_id,
            site_id=demande.site_id,
            motif=motif,
            site=site,
        )
    raise RuntimeError("could not draw a unique rdv code in 5 tries")
