"""Reading submitted form values: trimmed text, numbers, dates, checkbox lists."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from plateforme.errors import FieldErrors

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Form:
    """A submitted form: values by name, lists for repeated names (checkboxes)."""

    def __init__(
        self, values: Mapping[str, Any], lists: Mapping[str, list[str]] | None = None
    ) -> None:
        self.values = values
        self.lists = lists or {}
        self.errors = FieldErrors()

    def text(
        self, name: str, *, required: bool = False, max_length: int = 255, label: str = ""
    ) -> str:
        raw = self.values.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        if required and not value:
            self.errors.add(name, f"{label or 'Ce champ'} est obligatoire.")
        elif len(value) > max_length:
            self.errors.add(name, f"{max_length} caractères au plus.")
        return value

    def choice(self, name: str, choices: tuple[str, ...], *, label: str) -> str:
        value = self.text(name)
        if value not in choices:
            self.errors.add(name, f"Choisissez {label}.")
        return value

    def checked(self, name: str) -> bool:
        return self.values.get(name) in {"on", "1", "true", "oui"}

    def number(
        self, name: str, *, low: float, high: float, label: str, required: bool = False
    ) -> float | None:
        raw = self.text(name).replace(",", ".")
        if not raw:
            if required:
                self.errors.add(name, f"{label} est obligatoire.")
            return None
        try:
            value = float(raw)
        except ValueError:
            self.errors.add(name, f"{label} doit être un nombre.")
            return None
        if not low <= value <= high:
            self.errors.add(name, f"{label} doit être entre {low:g} et {high:g}.")
            return None
        return value

    def day(self, name: str, *, label: str) -> date | None:
        raw = self.text(name)
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.add(name, f"{label} : date invalide (AAAA-MM-JJ).")
            return None

    def email(self, name: str, *, required: bool = True) -> str:
        value = self.text(name, required=required, label="L'adresse e-mail").lower()
        if value and not EMAIL.match(value):
            self.errors.add(name, "Adresse e-mail invalide (exemple : prenom.nom@exemple.fr).")
        return value

    def ids_soumis(self, name: str) -> set[int]:
        """The ids ticked, invalid ones left out: to show the form again as it was sent."""
        return {int(raw) for raw in self.lists.get(name, []) if raw.isascii() and raw.isdigit()}

    def ids(self, name: str) -> set[int]:
        result: set[int] = set()
        for raw in self.lists.get(name, []):
            try:
                result.add(int(raw))
            except ValueError:
                self.errors.add(name, "Choix invalide.")
        return result
