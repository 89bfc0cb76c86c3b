"""The ``gennas`` command group: a global option given after the command says where it goes.

``gennas spaces --threads 2`` said only "No such option: --threads": ``--threads``
is an option of ``gennas`` itself, given before the command.
"""

from __future__ import annotations

from typing import Any

import click
from typer.core import TyperGroup


def options_of(command: Any) -> set[str]:
    """The option names (``--threads``) of a click command, ``--help`` left out."""
    return {name for param in getattr(command, "params", ()) for name in param.opts if name != "--help"}


def flag(command: Any, name: str) -> bool:
    """Whether ``command``'s option ``name`` is a flag (takes no value)."""
    return any(name in param.opts and getattr(param, "is_flag", False) for param in getattr(command, "params", ()))


class GennasGroup(TyperGroup):
    """TyperGroup whose unknown-option error names a global option given after the command."""

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; "No such option" for one of this group's own options gets the hint.
        (Typer raises its vendored click's exceptions: matched by their public attributes.)"""
        try:
            return super().invoke(ctx)
        except Exception as exc:
            name, where = getattr(exc, "option_name", None), getattr(exc, "ctx", None)
            if (name in options_of(self) and where is not None and where is not ctx
                    and name not in options_of(where.command) and isinstance(getattr(exc, "message", None), str)):
                command = where.command_path[len(ctx.command_path):].strip()
                value = "" if flag(self, name) else " N"  # --version takes none: "--version N" misled
                exc.message += f" ({name} is a global option: it goes before the command, {ctx.command_path} {name}{value} {command} ...)"
            raise
