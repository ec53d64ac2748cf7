"""Text generation for mini-GPT."""

from .generate import generate

__all__ = ["generate"]
