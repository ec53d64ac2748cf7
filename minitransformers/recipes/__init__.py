"""Recipes that reproduce the checkpoints shipped in ``weights/``."""
