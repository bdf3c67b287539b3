"""Errors a user can cause, each with a catalog key for a message in the user's language."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the clinic was broken; `key` names the message in the translation catalogs."""

    key: str = "error.generic"

    def __init__(self, message: str, *, key: str | None = None, **params: object) -> None:
        super().__init__(message)
        if key is not None:
            self.key = key
        self.params = params


class IllegalTransition(DomainError):
    key = "error.illegal_transition"


class TokenInvalid(DomainError):
    key = "error.token_invalid"


class SignInRefused(DomainError):
    key = "error.sign_in_refused"
