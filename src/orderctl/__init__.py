"""orderctl: a command-line administration tool for an order database."""

__version__ = "0.1.0"
