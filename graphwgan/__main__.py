"""``python -m graphwgan`` runs the command line."""

from graphwgan.cli import _entry

_entry()
