"""CLI command groups. Every module here exposing ``register(app: typer.Typer)`` is added to the
``gennas`` command by :mod:`gennas.cli` (so a new command group is a new file, not an edit)."""
