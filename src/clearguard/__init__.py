"""ClearGuard: customs declaration and clearance, built for data security and privacy."""

__version__ = "0.1.0"
