"""What the kiosk says, in French and in English: the person at the kiosk picks the language.

Only the kiosk's own words: queue names come from the site's managers, in French. Error
messages in French are the domain's own (they are more precise, naming a place or a date);
in English they come from here, by error code.
"""

from __future__ import annotations

from collections.abc import Callable

LANGUES = {"fr": "Français", "en": "English"}
PAR_DEFAUT = "fr"

TEXTES: dict[str, dict[str, str]] = {
    "fr": {
        "titre": "Prendre un ticket",
        "choisir": "Touchez le service qui vous concerne",
        "aucune_file": "Aucune file d'attente n'est ouverte pour le moment.",
        "fermee": "Fermée pour le moment",
        "horaires": "Horaires du jour : {horaires}",
        "attente_0": "Personne n'attend",
        "attente_1": "1 personne attend",
        "attente_n": "{n} personnes attendent",
        "rdv_titre": "J'ai un rendez-vous",
        "rdv_aide": "Tapez le code reçu par SMS, ou présentez le QR code de votre "
        "confirmation devant le lecteur.",
        "rdv_code": "Code du rendez-vous",
        "rdv_valider": "Je signale mon arrivée",
        "langue": "Langue",
        "ticket_titre": "Votre ticket",
        "file": "File : {file}",
        "devant_0": "Personne n'est devant vous.",
        "devant_1": "1 personne est devant vous.",
        "devant_n": "{n} personnes sont devant vous.",
        "attente_estimee": "Attente estimée : environ {n} min.",
        "surveiller": "Surveillez l'écran : votre numéro s'y affichera avec le guichet.",
        "qr": "Suivez votre place sur votre téléphone",
        "qr_libelle": "QR code du lien pour suivre votre ticket {code} sur votre téléphone",
        "imprimer": "Imprimer le ticket",
        "termine": "Terminé",
        "retour": "Retour à l'accueil dans 20 secondes.",
        "arrivee_titre": "Arrivée enregistrée",
        "arrivee_rdv": "Votre rendez-vous de {heure} est bien noté.",
        "arrivee_sans_ticket": "Installez-vous : on viendra vous chercher.",
        "arrivee_deja": "Votre arrivée était déjà enregistrée.",
        "erreur_titre": "Impossible",
        "erreur": "Un problème est survenu. Adressez-vous à l'accueil.",
    },
    "en": {
        "titre": "Take a ticket",
        "choisir": "Touch the service you need",
        "aucune_file": "No queue is open at the moment.",
        "fermee": "Closed at the moment",
        "horaires": "Today's hours: {horaires}",
        "attente_0": "Nobody is waiting",
        "attente_1": "1 person is waiting",
        "attente_n": "{n} people are waiting",
        "rdv_titre": "I have an appointment",
        "rdv_aide": "Type the code you received by text message, or hold the QR code of "
        "your confirmation in front of the reader.",
        "rdv_code": "Appointment code",
        "rdv_valider": "Check in",
        "langue": "Language",
        "ticket_titre": "Your ticket",
        "file": "Queue: {file}",
        "devant_0": "Nobody is ahead of you.",
        "devant_1": "1 person is ahead of you.",
        "devant_n": "{n} people are ahead of you.",
        "attente_estimee": "Estimated wait: about {n} min.",
        "surveiller": "Watch the screen: your number will appear there with the counter.",
        "qr": "Follow your place on your phone",
        "qr_libelle": "QR code of the link to follow your ticket {code} on your phone",
        "imprimer": "Print the ticket",
        "termine": "Done",
        "retour": "Back to the start in 20 seconds.",
        "arrivee_titre": "You are checked in",
        "arrivee_rdv": "Your {heure} appointment is noted.",
        "arrivee_sans_ticket": "Please take a seat: someone will come for you.",
        "arrivee_deja": "You were already checked in.",
        "erreur_titre": "Not possible",
        "erreur": "Something went wrong. Please ask at the reception desk.",
    },
}

# English messages of the domain errors the kiosk may meet, by their code.
ERREURS_EN = {
    "file_fermee": "This queue is closed at the moment.",
    "file_inconnue": "This queue does not exist here any more.",
    "trop_de_tentatives": "Too many tickets were taken on this kiosk in the last minute. "
    "Please wait a moment.",
    "code_inconnu": "This code does not match any appointment. Check it or ask at the "
    "reception desk.",
    "autre_site": "This appointment is at another place. Please ask at the reception desk.",
    "autre_jour": "This appointment is not today.",
    "rdv_plus_a_venir": "This appointment was cancelled or is over. Please ask at the "
    "reception desk.",
    "donnees_invalides": "Type the code of your appointment.",
}


# The two sentences `etat.etat_public` may give instead of today's hours.
HORAIRES_EN = {"Fermé aujourd'hui": "Closed today", "Horaires non communiqués": "Hours not known"}


def langue(demandee: str | None) -> str:
    return demandee if demandee in LANGUES else PAR_DEFAUT


def traducteur(lang: str) -> Callable[..., str]:
    """`t("devant", n=3)` picks the plural form (`_0`, `_1`, `_n`) when there is one."""
    lang = langue(lang)
    textes = TEXTES[lang]

    def t(cle: str, n: int | None = None, **valeurs: object) -> str:
        if lang == "en" and "horaires" in valeurs:
            valeurs["horaires"] = HORAIRES_EN.get(str(valeurs["horaires"]), valeurs["horaires"])
        if n is not None:
            forme = "0" if n == 0 else "1" if n == 1 else "n"
            cle = f"{cle}_{forme}" if f"{cle}_{forme}" in textes else cle
        return textes[cle].format(n=n, **valeurs)

    return t


def message_erreur(lang: str, code: str, message_fr: str) -> str:
    if langue(lang) == "fr":
        return message_fr
    return ERREURS_EN.get(code, TEXTES["en"]["erreur"])
