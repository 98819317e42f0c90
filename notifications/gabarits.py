"""The messages people receive, in plain short French; every SMS aims at one GSM-7 segment.

Free parts (the site's and the service's names) are shortened when a text
would run past 160 characters; dates are written short ("mar. 01/12 à 09h30").
"""

from __future__ import annotations

from datetime import datetime

from notifications.textes import composer

JOURS = ("lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim.")


def quand(debut_local: datetime) -> str:
    return f"{JOURS[debut_local.weekday()]} {debut_local:%d/%m} à {debut_local:%H}h{debut_local:%M}"


def confirmation(*, service: str, lieu: str, debut_local: datetime, code: str, lien: str) -> str:
    return composer(
        "{service} : RDV le {quand}, {lieu}. Code {code}. Déplacer ou annuler : {lien}",
        {"service": service, "quand": quand(debut_local), "lieu": lieu, "code": code, "lien": lien},
        ("service", "lieu"),
    )


def rappel(*, service: str, lieu: str, debut_local: datetime, lien: str) -> str:
    return composer(
        "Rappel {service} : RDV le {quand}, {lieu}. Annuler ou déplacer : {lien}",
        {"service": service, "quand": quand(debut_local), "lieu": lieu, "lien": lien},
        ("service", "lieu"),
    )


def deplacement(*, service: str, lieu: str, debut_local: datetime, lien: str) -> str:
    return composer(
        "{service} : votre RDV est déplacé au {quand}, {lieu}. Détails : {lien}",
        {"service": service, "quand": quand(debut_local), "lieu": lieu, "lien": lien},
        ("service", "lieu"),
    )


def annulation(*, service: str, lieu: str, debut_local: datetime, lien: str) -> str:
    return composer(
        "{service} a annulé votre RDV du {quand} ({lieu}). Nouveau RDV : {lien}",
        {"service": service, "quand": quand(debut_local), "lieu": lieu, "lien": lien},
        ("service", "lieu"),
    )


def tour_proche(*, ticket: str, devant: int, lieu: str) -> str:
    personnes = "1 personne" if devant == 1 else f"{devant} personnes"
    return composer(
        "C'est bientôt votre tour : ticket {ticket}, encore {personnes} avant vous. "
        "Revenez à {lieu}.",
        {"ticket": ticket, "personnes": personnes, "lieu": lieu},
        ("lieu",),
    )


def appel(*, ticket: str, guichet: str, lieu: str) -> str:
    return composer(
        "Ticket {ticket} : c'est votre tour ! Présentez-vous au guichet {guichet}, {lieu}.",
        {"ticket": ticket, "guichet": guichet, "lieu": lieu},
        ("lieu", "guichet"),
    )


def sujet_confirmation(*, service: str, debut_local: datetime) -> str:
    return f"Votre rendez-vous {service} le {quand(debut_local)}"


def email_rdv(
    *,
    titre: str,
    service: str,
    lieu: str,
    adresse: str,
    debut_local: datetime,
    code: str,
    lien: str,
) -> str:
    return (
        f"Bonjour,\n\n{titre}\n\n"
        f"{service}, le {quand(debut_local)}\n{lieu}\n{adresse}\n\n"
        f"Code du rendez-vous : {code}\n"
        f"Pour le déplacer ou l'annuler : {lien}\n\n"
        "Le fichier joint l'ajoute à votre agenda.\n"
    )
