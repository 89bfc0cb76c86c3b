"""The ``gennas`` command line (entry point ``gennas.cli:app``)."""

from gennas.cli.app import app, main

__all__ = ["app", "main"]
