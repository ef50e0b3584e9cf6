"""Errors of the adaptive-testing core: each a ValueError, so callers can map them to a 4xx."""

from __future__ import annotations


class CatInputError(ValueError):
    """Bad input to the adaptive-testing core (bank, answers or policy)."""


class EmptyBankError(CatInputError):
    """The item bank has no items."""


class UnknownItemError(CatInputError):
    """An answer names an item index that is not in the bank (or answers one item twice)."""


class EmptyTopicError(CatInputError):
    """The policy asks for a topic that has no items in the bank."""


class InvalidPolicyError(CatInputError):
    """A policy value is out of range or inconsistent with the bank."""
