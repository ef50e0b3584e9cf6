"""Checking platform records before they are loaded (pure: text in, accepted rows or reasons out)."""
