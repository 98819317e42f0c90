"""What the notifications package does when the domain changes something, inside the
domain's own transaction (see `plateforme.reactions`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from file_attente import politique
from file_attente.tables import StatutTicket, Ticket
from notifications import gabarits
from notifications.services import sortie
from notifications.tables import Canal
from plateforme.db import lignes
from plateforme.reactions import reaction
from plateforme.settings import get_settings
from rdv.services import acces_usager, calendrier
from rdv.services.acces_usager import RdvUsager
from rdv.tables import StatutRdv


@reaction("ticket.appele")
async def ticket_appele(*, ticket_id: int, guichet: str, maintenant: datetime) -> None:
    """SMS to the person called (once), and "your turn is near" to those now close."""
    row = (
        await Ticket.select(
            Ticket.id,
            Ticket.code,
            Ticket.telephone,
            Ticket.jour,
            Ticket.appels,
            Ticket.file_actuelle.as_alias("file"),
            Ticket.file_actuelle.alerte_avant.as_alias("alerte_avant"),
            Ticket.file_actuelle.site.nom.as_alias("lieu"),
            Ticket.file_actuelle.site.territoire.as_alias("territoire"),
        )
        .where(Ticket.id == ticket_id)
        .first()
    )
    if row is None:
        return
    proches = await _proches_avec_telephone(row)
    if not row["telephone"] and not proches:
        return  # nobody to tell: no settings to read
    p = await sortie.parametres(row["territoire"])
    if row["telephone"]:
        await sortie.ecrire(
            p,
            canal=Canal.sms,
            genre="appel",
            destinataire=row["telephone"],
            texte=gabarits.appel(ticket=row["code"], guichet=guichet, lieu=row["lieu"]),
            # One per call (a transferred ticket is called again in its new queue).
            cle=f"ticket:{ticket_id}:appel:{row['appels']}",
            du_at=maintenant,
            urgent=True,
            ticket=ticket_id,
        )
    for ticket, devant in proches:
        await sortie.ecrire(
            p,
            canal=Canal.sms,
            genre="tour_proche",
            destinataire=ticket["telephone"],
            texte=gabarits.tour_proche(ticket=ticket["code"], devant=devant, lieu=row["lieu"]),
            cle=f"ticket:{ticket['id']}:tour_proche",
            du_at=maintenant,
            urgent=True,
            ticket=ticket["id"],
        )


async def _proches_avec_telephone(row: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """Waiting tickets with a phone that now have `alerte_avant` people or fewer before them."""
    if row["alerte_avant"] <= 0:
        return []
    attente = await Ticket.select(
        Ticket.id, Ticket.code, Ticket.priorite, Ticket.rang_at, Ticket.telephone
    ).where(
        Ticket.file_actuelle == row["file"],
        Ticket.jour == row["jour"],
        Ticket.statut == StatutTicket.en_attente,
    )
    if not any(t["telephone"] for t in attente):
        return []
    candidats = [politique.Candidat(t["id"], t["priorite"], t["rang_at"]) for t in attente]
    result = []
    for ticket, candidat in zip(attente, candidats, strict=True):
        devant = politique.rang(candidats, candidat)
        if ticket["telephone"] and devant <= row["alerte_avant"]:
            result.append((ticket, devant))
    return result


# --- Rendez-vous ---------------------------------------------------------------------
# Messages go to each participant (a seat of a collective session has its own code and
# link), at the contact they gave: a relative's (proche) go to their responsable.


async def _places(rdv_id: int, participant_id: int | None) -> list[tuple[str, int]]:
    """(code, usager) of the given participant, or of every one still in the rdv (not
    those who left it)."""
    sql = "SELECT code, usager FROM rdv_participant WHERE rdv = {} AND code IS NOT NULL"
    if participant_id is not None:
        rows = await lignes(sql + " AND id = {}", rdv_id, participant_id)
    else:
        rows = await lignes(sql + " AND statut = {}", rdv_id, str(StatutRdv.a_venir))
    return [(code, usager) for code, usager in rows]


async def _heures_rappel(motif_id: int, p: sortie.Parametres) -> tuple[int, ...]:
    rows = await lignes("SELECT rappels_heures FROM rappels_motif WHERE motif = {}", motif_id)
    if rows:
        return sortie.heures(rows[0][0])
    return p.rappels_heures


def moment_rappel(debut: datetime, heures: int, p: sortie.Parametres) -> datetime:
    """`heures` before the rdv on the local wall clock (a 09:00 rdv the Monday after the
    spring change gets its 48-hour reminder at 09:00 on Saturday), then out of the quiet
    hours: a reminder that would fall in the night comes the evening before."""
    zone = ZoneInfo(p.fuseau)
    local = debut.astimezone(zone).replace(tzinfo=None) - timedelta(hours=heures)
    moment = local.replace(tzinfo=zone).astimezone(UTC)
    if sortie.en_silence(moment, p):
        moment = sortie.debut_du_silence(moment, p).astimezone(UTC)
    return moment


class _Envoi:
    """The messages about one participant's rdv, keyed by rdv, usager and ICS sequence."""

    def __init__(self, rdv: RdvUsager, usager: int, p: sortie.Parametres, maintenant: datetime):
        self.rdv, self.usager, self.p, self.maintenant = rdv, usager, p, maintenant
        self.local = rdv.debut.astimezone(ZoneInfo(p.fuseau))
        self.service = rdv.motif.service_nom
        self.lieu = str(rdv.site.get("nom", ""))
        self._opposition: bool | None = None

    async def opposition(self) -> bool:
        """Whether the number replied STOP: read once for the confirmation and reminders."""
        if self._opposition is None:
            self._opposition = await sortie.oppose(self.p.territoire_id, self.rdv.telephone)
        return self._opposition

    def cle(self, genre: str) -> str:
        return f"rdv:{self.rdv.id}:u{self.usager}:{genre}:s{self.rdv.sequence}"

    async def sms(self, genre: str, texte: str, *, urgent: bool = False) -> None:
        if not self.rdv.telephone:
            return
        await sortie.ecrire(
            self.p,
            canal=Canal.sms,
            genre=genre,
            destinataire=self.rdv.telephone,
            texte=texte,
            cle=self.cle(genre),
            du_at=self.maintenant,
            expire_at=self.rdv.debut,
            urgent=urgent,
            rdv=self.rdv.id,
            usager=self.usager,
            opposition=await self.opposition(),
        )

    async def email(self, genre: str, titre: str) -> None:
        if not self.rdv.email:
            return
        contenu, _nom = calendrier.fichier_ics(self.rdv)
        await sortie.ecrire(
            self.p,
            canal=Canal.email,
            genre=genre,
            destinataire=self.rdv.email,
            sujet=f"{titre} : {self.service}, {gabarits.quand(self.local)}",
            texte=gabarits.email_rdv(
                titre=titre,
                service=self.service,
                lieu=self.lieu,
                adresse=str(self.rdv.site.get("adresse", "")),
                debut_local=self.local,
                code=self.rdv.code,
                lien=calendrier.lien_court(self.rdv.code),
            ),
            ics=contenu.decode(),
            cle=self.cle(f"email:{genre}"),
            du_at=self.maintenant,
            expire_at=self.rdv.debut,
            urgent=True,
            rdv=self.rdv.id,
            usager=self.usager,
        )

    async def rappels(self) -> None:
        if not self.rdv.telephone:
            return
        for heures in await _heures_rappel(self.rdv.motif.id, self.p):
            moment = moment_rappel(self.rdv.debut, heures, self.p)
            # Too late to be a reminder (booked the same morning): the confirmation does it.
            if moment <= self.maintenant + timedelta(minutes=10) or moment >= self.rdv.debut:
                continue
            await sortie.ecrire(
                self.p,
                canal=Canal.sms,
                genre="rappel",
                destinataire=self.rdv.telephone,
                texte=gabarits.rappel(
                    service=self.service,
                    lieu=self.lieu,
                    debut_local=self.local,
                    lien=calendrier.lien_court(self.rdv.code),
                ),
                cle=self.cle(f"rappel:{heures}"),
                du_at=moment,
                expire_at=self.rdv.debut,
                rdv=self.rdv.id,
                usager=self.usager,
                opposition=await self.opposition(),
            )

    @property
    def proche(self) -> bool:
        """Today or tomorrow: a change cannot wait for the morning."""
        return self.rdv.debut - self.maintenant < timedelta(hours=36)


async def _envois(rdv_id: int, participant_id: int | None, maintenant: datetime) -> list[_Envoi]:
    result: list[_Envoi] = []
    p: sortie.Parametres | None = None
    for code, usager in await _places(rdv_id, participant_id):
        rdv = await acces_usager.par_code(code)
        if rdv is not None:
            # Every participant's rdv is this one, in the motif's territoire.
            p = p or await sortie.parametres(rdv.motif.territoire_id)
            result.append(_Envoi(rdv, usager, p, maintenant))
    return result


@reaction("rdv.cree")
async def rdv_cree(
    *, rdv_id: int, maintenant: datetime, participant_id: int | None = None, **_: Any
) -> None:
    """Confirmation (SMS, and e-mail with the invitation) and the reminders."""
    for envoi in await _envois(rdv_id, participant_id, maintenant):
        texte = gabarits.confirmation(
            service=envoi.service,
            lieu=envoi.lieu,
            debut_local=envoi.local,
            code=envoi.rdv.code,
            lien=calendrier.lien_court(envoi.rdv.code),
        )
        await envoi.sms("confirmation", texte)
        await envoi.email("confirmation", "Rendez-vous confirmé")
        await envoi.rappels()


@reaction("rdv.deplace")
async def rdv_deplace(
    *,
    rdv_id: int,
    par: str,
    maintenant: datetime,
    participant_id: int | None = None,
    ancien_rdv: int | None = None,
    **_: Any,
) -> None:
    """The old reminders go, new ones come; an SMS when the service moved it."""
    for envoi in await _envois(rdv_id, participant_id, maintenant):
        await sortie.annuler_en_attente(rdv=ancien_rdv or rdv_id, usager=envoi.usager)
        if par == "agent":
            texte = gabarits.deplacement(
                service=envoi.service,
                lieu=envoi.lieu,
                debut_local=envoi.local,
                lien=calendrier.lien_court(envoi.rdv.code),
            )
            await envoi.sms("deplacement", texte, urgent=envoi.proche)
        await envoi.email("deplacement", "Rendez-vous déplacé")
        await envoi.rappels()


@reaction("rdv.annule")
async def rdv_annule(
    *, rdv_id: int, par: str, maintenant: datetime, participant_id: int | None = None, **_: Any
) -> None:
    """Nothing more about it; an SMS when the service cancelled it."""
    for envoi in await _envois(rdv_id, participant_id, maintenant):
        await sortie.annuler_en_attente(rdv=rdv_id, usager=envoi.usager)
        if envoi.rdv.debut <= maintenant:
            continue
        if par == "agent":
            texte = gabarits.annulation(
                service=envoi.service,
                lieu=envoi.lieu,
                debut_local=envoi.local,
                lien=get_settings().public_url + "/rendez-vous",
            )
            await envoi.sms("annulation", texte, urgent=envoi.proche)
        await envoi.email("annulation", "Rendez-vous annulé")


@reaction("rdv.statut")
async def rdv_statut(*, rdv_id: int, **_: Any) -> None:
    """Seen or no-show: the reminders still queued are of no use."""
    await sortie.annuler_en_attente(rdv=rdv_id, genres=("rappel",))
