"""The ``gennas`` command line (its entry point: :func:`gennas.entry.main`)."""

from gennas.cli.app import app

__all__ = ["app"]
