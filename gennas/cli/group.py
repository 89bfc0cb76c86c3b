"""The ``gennas`` command group: a global option given after the command says where it goes,
and an option of one value given twice is refused.

``gennas spaces --threads 2`` said only "No such option: --threads": ``--threads``
is an option of ``gennas`` itself, given before the command. ``gennas design --device pixel3
--max-latency-ms 20 --device gold_6240 --max-latency-ms 10`` kept the last of each (click's
rule) and designed for gold_6240 alone, exit 0 (user walk 51).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from typer.core import TyperGroup

if TYPE_CHECKING:  # the annotation only: Typer's vendored click, whose Context it passes
    from typer import _click


def options_of(command: Any) -> set[str]:
    """The option names (``--threads``) of a click command, ``--help`` left out."""
    return {name for param in getattr(command, "params", ()) for name in param.opts if name != "--help"}


def flag(command: Any, name: str) -> bool:
    """Whether ``command``'s option ``name`` is a flag (takes no value)."""
    return any(name in param.opts and getattr(param, "is_flag", False) for param in getattr(command, "params", ()))


def repeated_option(command: Any, args: list[str]) -> str | None:
    """What is wrong where ``args`` (of ``command``, a group or a command) give an option that
    takes one value more than once; None if none does. Subcommands are followed by name; after
    ``--`` nothing is an option."""
    given: dict[str, list[str]] = {}
    tokens = iter(args)
    for token in tokens:
        if token == "--":
            break
        if not token.startswith("-") or token == "-":
            sub = getattr(command, "commands", {}).get(token)
            if sub is not None:  # a subcommand: the rest are its arguments
                return repeated_option(sub, list(tokens))
            continue
        name, has_value, value = token.partition("=")
        param = next((p for p in getattr(command, "params", ()) if name in p.opts), None)
        if param is None or getattr(param, "is_flag", False) or getattr(param, "count", False):
            continue
        if not has_value:
            value = next(tokens, "")
        if not param.multiple and param.nargs == 1:
            given.setdefault(max(param.opts, key=len), []).append(value)  # --number, not -n
    twice = {name: values for name, values in given.items() if len(values) > 1}
    if not twice:
        return None
    name, values = next(iter(twice.items()))
    one = " (gennas designs for one device and one latency budget at a time)" if name in ONE_DEVICE else ""
    return (f"{name} was given {len(values)} times ({', '.join(values)}): it takes one value{one}; give it "
            "once")


#: options naming the device and budget: a repeat asks for several devices, which gennas does not do
ONE_DEVICE = ("--device", "--max-latency-ms")


class GennasGroup(TyperGroup):
    """TyperGroup whose unknown-option error names a global option given after the command,
    and which refuses an option of one value given twice (click keeps the last unsaid)."""

    def parse_args(self, ctx: _click.Context, args: list[str]) -> list[str]:
        """Refuse a repeated one-value option anywhere in the command line, before any work."""
        problem = repeated_option(self, args)
        if problem is not None:
            ctx.fail(problem)  # typer's own click: its usage error, exit 2
        return super().parse_args(ctx, args)

    def invoke(self, ctx: _click.Context) -> Any:
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
