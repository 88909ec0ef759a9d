"""examcheck: check and grade mathematical exam answers."""

__version__ = "0.1.0"
