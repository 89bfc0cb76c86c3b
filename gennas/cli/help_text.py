"""Help text as a terminal shows it: docstrings are wrapped at 100 columns in the source, and
typer keeps single line breaks after a command's first paragraph, so ``--help`` broke sentences
mid-line ("(its task, device,⏎ budget ..."). Each paragraph is joined into one line here and the
terminal wraps it; a paragraph whose lines are indented or start with ``-`` keeps its breaks."""

from __future__ import annotations

import inspect

import typer


def reflow(text: str) -> str:
    """``text`` with the line breaks inside each paragraph (blank-line separated) made spaces."""
    paragraphs = inspect.cleandoc(text).split("\n\n")
    out = []
    for paragraph in paragraphs:
        lines = paragraph.split("\n")
        kept = any(line.startswith((" ", "-", "*", "$")) for line in lines)
        out.append(paragraph if kept else " ".join(line.strip() for line in lines))
    return "\n\n".join(out)


def reflow_commands(app: typer.Typer) -> None:
    """Reflow the help of every command and command group of ``app``, recursively (once, after
    all commands are registered)."""
    for command in app.registered_commands:
        doc = command.help or (inspect.getdoc(command.callback) if command.callback else None)
        if doc:
            command.help = reflow(doc)
    for group in app.registered_groups:
        if group.typer_instance is not None:
            info = group.typer_instance.info
            if isinstance(info.help, str):
                info.help = reflow(info.help)
            reflow_commands(group.typer_instance)
