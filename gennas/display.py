"""How gennas's result objects show in a notebook: an HTML table of flat rows, and short text;
and whether a stream is a terminal (a bar there, plain lines elsewhere).

``generate``'s designs and a ``SearchResult`` were displayed as
thousands of characters of dataclass repr; their ``_repr_html_`` and ``__repr__`` use these.
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: rows an HTML table shows before saying how many more there are (a notebook cell stays short)
MAX_HTML_ROWS = 30


class ReprInIPython:
    """IPython's plain display shows ``repr(self)`` (a list subclass's own printer gave one line
    per element, a dataclass's its every field)."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


def number(value: float) -> str:
    """A score or latency as text: 2 decimals from 1 to 1e5 (accuracies in %, ms), else 4
    significant digits (fractions, losses and spreads below 1; synflow-sized scores, 1e49, in
    exponent form)."""
    return f"{value:.2f}" if 1 <= abs(value) < 1e5 else f"{value:.4g}"


def cell(value: Any) -> str:
    """``value`` as table text: a float as :func:`number` writes it (as ``gennas design`` prints
    scores), None and NaN as "-", anything else as ``str``."""
    if value is None:
        return "-"
    if isinstance(value, float):
        if not math.isfinite(value):
            return "-" if math.isnan(value) else str(value)
        return number(value)
    return str(value)


def html_table(rows: Sequence[dict[str, Any]], caption: str = "", notes: Sequence[str] = ()) -> str:
    """``rows`` (dicts sharing keys, the first row's order) as an HTML table under ``caption``,
    at most :data:`MAX_HTML_ROWS` of them, with ``notes`` as paragraphs after it."""
    keys = list(rows[0]) if rows else []
    head = "".join(f"<th>{html.escape(str(k))}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell(row.get(k)))}</td>" for k in keys) + "</tr>"
                   for row in rows[:MAX_HTML_ROWS])
    more = len(rows) - MAX_HTML_ROWS
    tail = f"<p>... and {more} more (.rows() has them all)</p>" if more > 0 else ""
    told = "".join(f"<p>note: {html.escape(n)}</p>" for n in notes)
    title = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f"<table>{title}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{tail}{told}"


def shortened(text: str, width: int = 70) -> str:
    """``text`` cut to ``width`` characters with "..." where longer (an architecture's string in a repr)."""
    return text if len(text) <= width else text[:width - 3] + "..."


class Figures(list):
    """Paths of PNG figures, a plain ``list`` of them; in a notebook the figures themselves
    (``_repr_html_``): ``result.plot()`` ending a cell showed only the paths, and a teacher had to
    wrap each in ``IPython.display.Image``."""

    def _repr_html_(self) -> str:
        shown = []
        for path in self:
            try:
                data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
            except OSError:  # moved or deleted since: its path says so
                shown.append(f"<p>{html.escape(str(path))} (not there)</p>")
                continue
            shown.append(f'<figure><img src="data:image/png;base64,{data}"/>'
                         f"<figcaption>{html.escape(str(path))}</figcaption></figure>")
        return "".join(shown)


def is_terminal(stream: Any) -> bool:
    """Whether ``stream`` (``sys.stdout``/``sys.stderr``) is a terminal. A closed one is not: Python
    sets it to None (``>&-``), whose ``isatty()`` was an AttributeError traceback, and a host's closed
    stream raised ValueError from it and ended a search (user walk 44)."""
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
