"""Creating the first administrator of a territoire (used by the CLI)."""

from __future__ import annotations

import asyncio
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from plateforme.auth import ROLE_ADMIN
from plateforme.db import write_transaction
from plateforme.errors import Conflict, FieldErrors, NotFound
from plateforme.passwords import MIN_LENGTH, hash_password
from sites.services.forms import EMAIL
from sites.tables import Agent, Territoire


async def create_admin(
    *,
    email: str,
    password: str,
    territoire: str,
    prenom: str = "Admin",
    nom: str = "Territoire",
    kind: str = "departement",
    code: str = "",
    fuseau_horaire: str = "Europe/Paris",
) -> int:
    """Create an admin of the named territoire, creating the territoire if needed."""
    email = email.strip().lower()
    errors = FieldErrors()
    if not EMAIL.match(email):
        errors.add("email", "Adresse e-mail invalide.")
    if len(password) < MIN_LENGTH:
        errors.add("mot_de_passe", f"{MIN_LENGTH} caractères au moins.")
    if not territoire.strip():
        errors.add("territoire", "Le nom du territoire est obligatoire.")
    try:
        ZoneInfo(fuseau_horaire)
    except (ZoneInfoNotFoundError, ValueError):
        errors.add(
            "fuseau",
            f"Fuseau horaire inconnu : {fuseau_horaire} (ex. Europe/Paris, Indian/Reunion).",
        )
    errors.raise_if_any()
    password_hash = await asyncio.to_thread(hash_password, password)
    async with write_transaction():
        if await Agent.exists().where(Agent.email == email):
            raise Conflict("Un compte existe déjà avec cette adresse.", code="email_deja_utilise")
        row = (
            await Territoire.select(Territoire.id)
            .where(Territoire.nom == territoire.strip())
            .first()
        )
        if row is None:
            created = Territoire(
                nom=territoire.strip(), kind=kind, code=code, fuseau_horaire=fuseau_horaire
            )
            await created.save()
            territoire_id = created.id
        else:
            territoire_id = row["id"]
        agent = Agent(
            territoire=territoire_id,
            prenom=prenom,
            nom=nom,
            email=email,
            mot_de_passe=password_hash,
            role=ROLE_ADMIN,
        )
        await agent.save()
        return int(agent.id)


async def territoire_id_par_nom_ou_id(value: str) -> int:
    """A territoire named by its id or its exact name, as the CLI takes it."""
    query = Territoire.select(Territoire.id)
    query = (
        query.where(Territoire.id == int(value))
        if (value.isascii() and value.isdigit())
        else query.where(Territoire.nom == value)
    )
    row = await query.first()
    if row is None:
        raise NotFound(f"Territoire inconnu : {value}", code="territoire_introuvable")
    return int(row["id"])
