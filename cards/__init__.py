"""Adaptive Card builders: pure functions from view data to card dicts (schema 1.5)."""
