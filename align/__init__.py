"""Taiyaku (対訳): Japanese–English sentence alignment for translators."""

__version__ = "0.2.1"
