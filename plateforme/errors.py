"""One hierarchy of domain errors; each carries a French message and a stable code.

Domain services raise these; `plateforme.http_errors` turns them into HTTP
answers in one place.
"""

from __future__ import annotations

from collections.abc import Mapping


class DomainError(Exception):
    status_code = 400
    code = "requete_invalide"
    default_message = "La demande est invalide."

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        fields: Mapping[str, str] | None = None,
    ) -> None:
        self.message = message or self.default_message
        if code is not None:
            self.code = code
        self.fields: dict[str, str] = dict(fields or {})
        # More machine-readable detail for programs (e.g. the next free créneaux).
        self.extra: dict[str, object] = {}
        super().__init__(self.message)


class NotAuthenticated(DomainError):
    status_code = 401
    code = "non_authentifie"
    default_message = "Connectez-vous pour continuer."


class Forbidden(DomainError):
    status_code = 403
    code = "acces_refuse"
    default_message = "Vous n'avez pas le droit de faire cela."


class NotFound(DomainError):
    status_code = 404
    code = "introuvable"
    default_message = "Ce que vous cherchez n'existe pas ou n'est plus disponible."


class Conflict(DomainError):
    status_code = 409
    code = "conflit"
    default_message = "Cette action est en conflit avec l'état actuel."


class Invalid(DomainError):
    """Bad values: `fields` maps each bad field to what is wrong with it."""

    status_code = 422
    code = "donnees_invalides"
    default_message = "Certaines valeurs sont invalides."


class TooManyRequests(DomainError):
    status_code = 429
    code = "trop_de_tentatives"
    default_message = "Trop de tentatives. Réessayez plus tard."

    def __init__(self, message: str | None = None, *, retry_after: int = 60) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FieldErrors:
    """Collects field errors while validating a form, then raises them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def __bool__(self) -> bool:
        return bool(self.errors)

    def raise_if_any(self, message: str | None = None) -> None:
        if self.errors:
            raise Invalid(message, fields=self.errors)
