"""Utilities at Prefect's import paths."""
