"""feedwright: valid, exact Atom, RSS and JSON feeds for a Jekyll-style archive of posts."""

__version__ = "0.1.0"
