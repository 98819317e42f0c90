"""What `parse_sites_csv` accepts and refuses, line by line, and how commune names normalise."""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path

import pytest

from sites.services.communes import normalise, parse_communes_csv
from sites.services.importer import ImportRefuse, lire_fichier, parse_sites_csv

DATA = Path(__file__).resolve().parents[3] / "sites" / "data"
HEADER = "code_insee,commune,nom,adresse,latitude,longitude,telephone,email,horaires,population"
COMMUNES = {
    "31001": (43.370922, 0.887884),  # Agassac
    "31149": (43.612541, 1.332637),  # Colomiers
    "31555": (43.604049, 1.443047),  # Toulouse
    "56098": None,  # Lanester: no position in the source
}
HOURS = json.dumps({"lundi": [["08:30", "12:00"], ["13:30", "17:00"]]})


def line(
    code: str = "31149",
    nom: str = "Mairie de Colomiers",
    latitude: str = "43.612541",
    longitude: str = "1.332637",
    horaires: str = HOURS,
    adresse: str = "1 place Alex-Raymond, 31770 Colomiers",
) -> str:
    quoted = '"' + horaires.replace('"', '""') + '"'
    return f'{code},X,{nom},"{adresse}",{latitude},{longitude},05 61 15 22 22,a@b.fr,{quoted},1'


def csv_text(*lines: str, header: str = HEADER) -> str:
    return "\n".join([header, *lines]) + "\n"


def refused(text: str) -> list[tuple[int, str]]:
    with pytest.raises(ImportRefuse) as caught:
        parse_sites_csv(text, COMMUNES)
    return caught.value.lines


def test_a_good_file_gives_one_row_per_line_with_its_hours_and_reference() -> None:
    rows = parse_sites_csv(
        csv_text(line(), line("31555", "Mairie de Toulouse", "43.604049", "1.443047")), COMMUNES
    )

    assert [row.reference for row in rows] == ["mairie:31149", "mairie:31555"]
    assert [row.line for row in rows] == [2, 3]
    colomiers = rows[0]
    assert colomiers.nom == "Mairie de Colomiers"
    assert colomiers.adresse == "1 place Alex-Raymond, 31770 Colomiers"
    assert (colomiers.latitude, colomiers.longitude) == (43.612541, 1.332637)
    assert colomiers.telephone == "05 61 15 22 22"
    assert colomiers.horaires == {"lundi": [(time(8, 30), time(12)), (time(13, 30), time(17))]}


def test_only_the_required_columns_are_needed() -> None:
    header = "code_insee,nom,adresse,latitude,longitude,horaires"
    text = csv_text('31149,Mairie,"Place, Colomiers",43.61,1.33,', header=header)

    [row] = parse_sites_csv(text, COMMUNES)

    assert (row.telephone, row.email, row.horaires) == ("", "", None)


def test_a_file_without_a_required_column_is_refused_whole_naming_the_columns() -> None:
    header = HEADER.replace(",latitude", "").replace(",horaires", "")

    lines = refused(csv_text("31149,X,Mairie,adresse,1.3,,,,1", header=header))

    assert len(lines) == 1
    assert lines[0][0] == 1
    assert "latitude" in lines[0][1] and "horaires" in lines[0][1]


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        (line(latitude="43.6x"), "latitude « 43.6x » n'est pas un nombre"),
        (line(latitude="nan"), "latitude « nan » n'est pas un nombre"),
        (line(latitude=""), "latitude manquante"),
        (line(longitude="181"), "longitude 181 hors limites"),
        (line(latitude="-90.5"), "latitude -90.5 hors limites"),
        (line(latitude="43.604049", longitude="1.9"), "à 46 km de la mairie"),
        (line(latitude="1.332637", longitude="43.612541"), "km de la mairie"),
        (line(code="99999"), "commune inconnue (code INSEE « 99999 »)"),
        (line(horaires='{"lundi": [["08:30", "12:00"]'), "JSON illisible"),
        (line(horaires='{"lundy": [["08:30", "12:00"]]}'), "jour inconnu « lundy »"),
        (line(horaires='{"mardi": [["14:00", "09:00"]]}'), "finit avant de commencer"),
        (line(horaires='{"mardi": [["8h30", "12:00"]]}'), "heure « 8h30 » invalide"),
        (line(nom=""), "nom vide"),
        (line(adresse=" "), "adresse vide"),
        (line(nom="M" * 151), "nom trop long"),
    ],
)
def test_a_bad_line_is_refused_with_its_line_number_and_why(bad_line: str, expected: str) -> None:
    lines = refused(csv_text(line("31555", "Mairie de Toulouse", "43.6", "1.44"), bad_line))

    assert len(lines) == 1
    number, message = lines[0]
    assert number == 3
    assert expected in message


def test_the_same_commune_and_nom_twice_is_refused_on_the_second_line() -> None:
    lines = refused(csv_text(line(), line("31555", "Mairie de Toulouse", "43.6", "1.44"), line()))

    assert lines == [(4, "ligne en double (même code INSEE et même nom que ligne 2)")]


def test_two_sites_of_one_commune_are_refused_since_the_reference_is_the_insee_code() -> None:
    lines = refused(csv_text(line(), line(nom="Mairie annexe de Colomiers")))

    assert lines == [(3, "un seul site par commune : 31149 est déjà ligne 2")]


def test_every_bad_line_is_listed_not_only_the_first() -> None:
    text = csv_text(
        line(latitude="nord"),
        line("31555", "Mairie de Toulouse", "43.6", "1.44"),
        "",  # a blank line still counts in the numbering
        line("31001", "Mairie de Agassac", "43.37", "0.88", horaires='{"lundi": 1}'),
        line("00000", "Mairie fantôme"),
    )

    with pytest.raises(ImportRefuse) as caught:
        parse_sites_csv(text, COMMUNES)

    assert [number for number, _ in caught.value.lines] == [2, 5, 6]
    assert caught.value.message == "Fichier refusé : 3 lignes invalides"
    assert caught.value.code == "import_refuse"
    assert caught.value.status_code == 422
    assert set(caught.value.fields) == {"ligne 2", "ligne 5", "ligne 6"}


def test_one_line_can_have_several_faults_and_all_are_told() -> None:
    [(number, message)] = refused(csv_text(line(code="99999", nom="", latitude="x")))

    assert number == 2
    assert "nom vide" in message and "latitude" in message and "commune inconnue" in message


def test_an_interval_repeated_word_for_word_by_the_source_is_kept_once() -> None:
    hours = '{"samedi": [["08:00", "12:00"], ["14:00", "16:00"], ["14:00", "16:00"]]}'

    [row] = parse_sites_csv(csv_text(line(horaires=hours)), COMMUNES)

    assert row.horaires == {"samedi": [(time(8), time(12)), (time(14), time(16))]}


def test_a_commune_without_a_known_position_is_not_checked_for_distance() -> None:
    [row] = parse_sites_csv(
        csv_text(line(code="56098", latitude="47.75", longitude="-3.34")), COMMUNES
    )

    assert row.code_insee == "56098"


def test_a_file_from_a_french_spreadsheet_with_semicolons_and_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    content = "code_insee;nom;adresse;latitude;longitude;horaires\n31149;Mairie;Place;43,61;1,33;\n"
    path.write_bytes("\ufeff".encode() + content.encode())

    [row] = parse_sites_csv(lire_fichier(path), COMMUNES)

    assert (row.latitude, row.longitude) == (43.61, 1.33)


def test_a_file_that_is_not_utf8_is_refused_whole(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_bytes("code_insee,nom\n31149,Mairie de Saint-Étienne\n".encode("latin-1"))

    with pytest.raises(ImportRefuse, match="UTF-8"):
        lire_fichier(path)


def test_an_empty_file_is_refused() -> None:
    with pytest.raises(ImportRefuse, match="vide"):
        parse_sites_csv("", COMMUNES)


def test_the_real_town_halls_of_the_haute_garonne_parse_whole() -> None:
    communes = parse_communes_csv(lire_fichier(DATA / "communes-france.csv"))
    positions = {
        c["insee"]: None if c["latitude"] is None else (c["latitude"], c["longitude"])
        for c in communes
    }

    rows = parse_sites_csv(lire_fichier(DATA / "mairies-haute-garonne.csv"), positions)

    assert len(communes) == 34_875
    assert len(rows) == 586
    assert {row.reference for row in rows} >= {"mairie:31555", "mairie:31149", "mairie:31001"}


def test_a_communes_file_with_a_bad_number_is_refused_listing_every_bad_line() -> None:
    header = "code_insee,nom,departement,region,codes_postaux,latitude,longitude,population"
    text = "\n".join(
        [
            header,
            "31555,Toulouse,31,76,31000 31100,43.6,1.44,479553",
            "31149,Colomiers,31,76,31770,43.6,un,38951",
            "56098,Lanester,56,53,56600,nan,nan,22728",
            "31001,Agassac,31,76,31230,43.37,0.88,beaucoup",
        ]
    )

    with pytest.raises(ImportRefuse) as caught:
        parse_communes_csv(text)

    assert [number for number, _ in caught.value.lines] == [3, 5]


def test_a_communes_file_without_population_column_is_refused() -> None:
    with pytest.raises(ImportRefuse, match="population"):
        parse_communes_csv("code_insee,nom,departement,region,codes_postaux,latitude,longitude\n")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Toulouse", "toulouse"),
        ("Château-Thierry", "chateau thierry"),
        ("L'Haÿ-les-Roses", "l hay les roses"),
        ("Saint-Georges-sur-l’Aa", "saint georges sur l aa"),
        ("Œuilly", "oeuilly"),
        ("Lachaussée-du-Bois-d'Écu", "lachaussee du bois d ecu"),
        ("Cæsarée", "caesaree"),
        ("  Le   Mée--sur-Seine ", "le mee sur seine"),
    ],
)
def test_a_commune_name_normalises_for_autocompletion(name: str, expected: str) -> None:
    assert normalise(name) == expected


def test_a_quoted_address_over_two_lines_keeps_the_line_numbers_of_the_file() -> None:
    two_lines = line(adresse="Place de la Mairie\n31770 Colomiers")

    lines = refused(csv_text(two_lines, line("31555", "Mairie de Toulouse", latitude="x")))

    assert lines[0][0] == 4


def test_two_schedules_concatenated_by_the_source_are_merged_into_their_union() -> None:
    # Seven town halls of the Hauts-de-France have overlapping intervals in the Annuaire.
    hours = '{"mardi": [["08:00", "12:00"], ["11:00", "13:00"], ["14:00", "17:00"]]}'

    [row] = parse_sites_csv(csv_text(line(horaires=hours)), COMMUNES)

    assert row.horaires == {"mardi": [(time(8), time(13)), (time(14), time(17))]}
