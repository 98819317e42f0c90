"""SMS texts: GSM-7 replacement, segment counts, and every template within one segment with
the longest realistic names."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from notifications import gabarits
from notifications.textes import est_gsm7, mesurer, vers_gsm7

PARIS = ZoneInfo("Europe/Paris")
# Real long names of the data: a town hall of the Hauts-de-France, a long service.
LIEU_LONG = "Mairie de Saint-Rémy-en-Bouzemont-Saint-Genest-et-Isson"
SERVICE_LONG = "Protection maternelle et infantile (PMI)"
LIEN = "https://rdv.hautsdefrance.fr/r/K7M2XQ9P/abcdefghijklmnop"


@pytest.mark.parametrize(
    ("texte", "attendu"),
    [
        ("Rendez-vous confirmé", "Rendez-vous confirmé"),
        ("L’accueil à Châteauroux", "L'accueil à Chateauroux"),
        ("« Ça » – noël…", '" Ça " - noel...'),
        ("Cœur de ville", "Coeur de ville"),
        ("Île-de-France, Hôpital", "Ile-de-France, Hopital"),
        ("09\u202fh\u00a030", "09 h 30"),
    ],
)
def test_characters_gsm7_lacks_are_replaced(texte: str, attendu: str) -> None:
    assert vers_gsm7(texte) == attendu
    assert est_gsm7(vers_gsm7(texte))


def test_segments() -> None:
    assert mesurer("a" * 160).segments == 1
    assert mesurer("a" * 161).segments == 2
    assert mesurer("a" * 306).segments == 2
    assert mesurer("a" * 307).segments == 3
    # Extension characters take two septets.
    assert mesurer("€" * 80).segments == 1 and mesurer("€" * 81).segments == 2
    # One character outside GSM-7 makes it UCS-2: 70 a segment.
    assert mesurer("ê" + "a" * 69).encodage == "ucs2"
    assert mesurer("ê" + "a" * 69).segments == 1
    assert mesurer("ê" + "a" * 70).segments == 2


DEBUT = datetime(2026, 12, 28, 16, 45, tzinfo=PARIS)


@pytest.mark.parametrize(
    "texte",
    [
        gabarits.confirmation(
            service=SERVICE_LONG, lieu=LIEU_LONG, debut_local=DEBUT, code="K7M2XQ9P", lien=LIEN
        ),
        gabarits.rappel(service=SERVICE_LONG, lieu=LIEU_LONG, debut_local=DEBUT, lien=LIEN),
        gabarits.deplacement(service=SERVICE_LONG, lieu=LIEU_LONG, debut_local=DEBUT, lien=LIEN),
        gabarits.annulation(service=SERVICE_LONG, lieu=LIEU_LONG, debut_local=DEBUT, lien=LIEN),
        gabarits.tour_proche(ticket="A142", devant=3, lieu=LIEU_LONG),
        gabarits.appel(ticket="A142", guichet="Accueil social 12", lieu=LIEU_LONG),
    ],
)
def test_every_template_fits_one_gsm7_segment_with_long_names(texte: str) -> None:
    mesure = mesurer(texte)
    assert (mesure.encodage, mesure.segments) == ("gsm7", 1), (mesure, texte)
    assert LIEN in texte or "A142" in texte


def test_short_names_are_kept_whole_and_the_date_is_local() -> None:
    texte = gabarits.rappel(service="PMI", lieu="MDS de Colomiers", debut_local=DEBUT, lien=LIEN)
    assert (
        texte
        == f"Rappel PMI : RDV le lun. 28/12 à 16h45, MDS de Colomiers. Annuler ou déplacer : {LIEN}"
    )


def test_a_long_place_is_shortened_not_the_link() -> None:
    texte = gabarits.confirmation(
        service=SERVICE_LONG, lieu=LIEU_LONG, debut_local=DEBUT, code="K7M2XQ9P", lien=LIEN
    )
    assert "..." in texte and texte.endswith(LIEN) and "K7M2XQ9P" in texte
