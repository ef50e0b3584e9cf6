"""DreamSeed Analytics: learning-analytics pipeline for a test-prep platform."""

__version__ = "0.1.0"
