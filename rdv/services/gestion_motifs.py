"""Managing the motifs of a territoire: list them by service, create, edit, deactivate.

A motif is never deleted (its rdvs refer to it): it is deactivated. Admins of the
territoire change motifs; responsables and agents read them.
"""

from __future__ import annotations

from typing import Any

from plateforme.auth import Principal
from plateforme.db import write_transaction
from plateforme.errors import Forbidden, NotFound
from rdv.tables import Canal, Motif, Rdv
from sites.services.forms import Form
from sites.tables import Service

CANAUX = {
    Canal.sur_place.value: "Sur place",
    Canal.telephone.value: "Par téléphone",
    Canal.visio.value: "En visio",
    Canal.domicile.value: "À domicile",
}
DUREE_MIN, DUREE_MAX = 5, 480
CAPACITE_MIN, CAPACITE_MAX = 2, 500
# Bounds that keep the numbers sane: a year ahead at most for the minimum delay, two
# years for the booking window (the agents' own horizon), a month for cancelling.
DELAI_MIN_MAX_MINUTES = 525_600
DELAI_MAX_MAX_JOURS = 730
DELAI_ANNULATION_MAX_HEURES = 720
CHECKBOXES = (
    "reservable_en_ligne",
    "collectif",
    "annulable_par_usager",
    "deplacable_par_usager",
    "accoler",
    "actif",
)
# A new motif's form starts from the table's defaults.
DEFAULTS: dict[str, Any] = {
    "duree_minutes": 30,
    "canal": Canal.sur_place.value,
    "reservable_en_ligne": True,
    "delai_min_minutes": 120,
    "delai_max_jours": 60,
    "collectif": False,
    "capacite": None,
    "annulable_par_usager": True,
    "deplacable_par_usager": True,
    "delai_annulation_heures": 24,
    "accoler": False,
    "instructions": "",
    "actif": True,
}


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise Forbidden("Seuls les administrateurs du territoire gèrent les motifs.")


async def territoire_services(principal: Principal) -> list[dict[str, Any]]:
    return (
        await Service.select(Service.id, Service.nom, Service.code)
        .where(Service.territoire == principal.territoire_id)
        .order_by(Service.nom)
    )


async def list_motifs(principal: Principal) -> list[dict[str, Any]]:
    """Every service of the territoire with its motifs (active ones first, then by name)."""
    services = await territoire_services(principal)
    motifs = (
        await Motif.select(*Motif.all_columns())
        .where(Motif.service.territoire == principal.territoire_id)
        .order_by(Motif.actif, ascending=False)
        .order_by(Motif.nom)
    )
    by_service: dict[int, list[dict[str, Any]]] = {s["id"]: [] for s in services}
    for motif in motifs:
        by_service[motif["service"]].append(motif)
    return [{**service, "motifs": by_service[service["id"]]} for service in services]


async def motif_detail(principal: Principal, motif_id: int) -> dict[str, Any]:
    """The motif if it belongs to the agent's territoire; otherwise it does not exist for them."""
    motif = (
        await Motif.select(*Motif.all_columns(), Motif.service.nom.as_alias("service_nom"))
        .where(Motif.id == motif_id, Motif.service.territoire == principal.territoire_id)
        .first()
    )
    if motif is None:
        raise NotFound("Ce motif n'existe pas.", code="motif_introuvable")
    motif["a_des_rdvs"] = await Rdv.exists().where(Rdv.motif == motif_id)
    return motif


def _integer(
    form: Form, name: str, *, low: int, high: int, label: str, required: bool = True
) -> int | None:
    value = form.number(name, low=low, high=high, label=label, required=required)
    if value is None:
        return None
    if not value.is_integer():
        form.errors.add(name, f"{label} doit être un nombre entier.")
        return None
    return int(value)


def _read_motif(form: Form, service_ids: set[int]) -> dict[str, Any]:
    """The motif's values from its form; every mistake goes to `form.errors` at once."""
    raw_service = form.text("service")
    service_id = int(raw_service) if raw_service.isascii() and raw_service.isdigit() else None
    if service_id not in service_ids:
        form.errors.add("service", "Choisissez un service du territoire.")
    values: dict[str, Any] = {
        "service": service_id,
        "nom": form.text("nom", required=True, max_length=150, label="Le nom"),
        "duree_minutes": _integer(
            form, "duree_minutes", low=DUREE_MIN, high=DUREE_MAX, label="La durée"
        ),
        "canal": form.choice("canal", tuple(CANAUX), label="un canal"),
        "delai_min_minutes": _integer(
            form,
            "delai_min_minutes",
            low=0,
            high=DELAI_MIN_MAX_MINUTES,
            label="Le délai minimum",
        ),
        "delai_max_jours": _integer(
            form, "delai_max_jours", low=0, high=DELAI_MAX_MAX_JOURS, label="Le délai maximum"
        ),
        "delai_annulation_heures": _integer(
            form,
            "delai_annulation_heures",
            low=0,
            high=DELAI_ANNULATION_MAX_HEURES,
            label="Le délai d'annulation",
        ),
        "instructions": form.text("instructions", max_length=2000),
        **{name: form.checked(name) for name in CHECKBOXES},
    }
    delai_min, delai_max = values["delai_min_minutes"], values["delai_max_jours"]
    if delai_min is not None and delai_max is not None and delai_min >= delai_max * 24 * 60:
        form.errors.add(
            "delai_max_jours",
            "Le délai maximum doit laisser le temps de réserver : il doit dépasser le délai "
            "minimum.",
        )
    if values["collectif"]:
        values["capacite"] = _integer(
            form, "capacite", low=CAPACITE_MIN, high=CAPACITE_MAX, label="La capacité"
        )
    else:
        values["capacite"] = None
        if form.text("capacite"):
            form.errors.add(
                "capacite",
                "La capacité ne vaut que pour un atelier collectif : laissez-la vide "
                "ou cochez « Atelier collectif ».",
            )
    return values


async def save_motif(principal: Principal, form: Form, motif_id: int | None = None) -> int:
    """Create or update a motif from its form (admins of the territoire only)."""
    _require_admin(principal)
    services = await territoire_services(principal)
    values = _read_motif(form, {s["id"] for s in services})
    async with write_transaction():
        if motif_id is not None:
            current = await motif_detail(principal, motif_id)
            # Its rdvs were booked for that service and, for a session, with its seats:
            # moving them under another service or kind would rewrite their history.
            if current["a_des_rdvs"]:
                if values["service"] is not None and values["service"] != current["service"]:
                    form.errors.add(
                        "service",
                        "Ce motif a déjà des rendez-vous : son service ne peut plus changer.",
                    )
                if values["collectif"] != current["collectif"]:
                    form.errors.add(
                        "collectif",
                        "Ce motif a déjà des rendez-vous : il ne peut plus passer "
                        + (
                            "de collectif à individuel." if current["collectif"] else "à collectif."
                        ),
                    )
        form.errors.raise_if_any()
        if motif_id is None:
            row = Motif(**values)
            await row.save()
            return int(row.id)
        changes: dict[Any, Any] = values
        await Motif.update(changes).where(Motif.id == motif_id)
        return motif_id


async def deactivate_motif(principal: Principal, motif_id: int) -> None:
    """No longer offer the motif; its rdvs stay as they are."""
    _require_admin(principal)
    async with write_transaction():
        await motif_detail(principal, motif_id)
        await Motif.update({Motif.actif: False}).where(Motif.id == motif_id)
