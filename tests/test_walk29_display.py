"""Walk 29: how result objects show in a notebook (#1, #14, #8, #9, #2, #10, #13)."""

from __future__ import annotations

import numpy as np

import gennas
from gennas.design.candidate import Candidate
from gennas.design.notes import Designs


def designs(n: int = 10) -> Designs:
    space = gennas.load_space("nb201")
    made = [Candidate(space.sample(i), 93.0 - i / 10, 0.5, None, i + 1, interval=(92.0 - i / 10, 94.0 - i / 10))
            for i in range(n)]
    return Designs(made, ["a note about them"])


def test_designs_repr_is_a_few_lines() -> None:
    """10 designs showed as a 4,347-character wall of dataclass reprs (walk 29 #1)."""
    text = repr(designs())
    assert text.startswith("Designs: 10 designs, best first; 1 note in .notes")
    assert len(text.splitlines()) == 5 and len(text) < 800
    assert "#1 " in text and "93.00 %, 90 % in [92.00, 94.00]" in text and "... and 7 more" in text


def test_candidate_repr_is_its_statement() -> None:
    one = designs(1)[0]
    assert repr(one) == f"Candidate({one})" and "predicted_std=" not in repr(one)


def test_designs_html_is_a_table_of_rows_with_notes() -> None:
    page = designs()._repr_html_()
    assert page.startswith("<table><caption>10 designs, best first</caption>")
    assert page.count("<tr>") == 11 and "<th>pred_acc</th>" in page and "note: a note about them" in page


def test_designs_pretty_is_the_repr() -> None:
    shown: list[str] = []

    class Printer:
        def text(self, value: str) -> None:
            shown.append(value)

    made = designs()
    made._repr_pretty_(Printer(), False)
    assert shown == [repr(made)]


def test_a_slice_of_designs_keeps_notes() -> None:
    """``designs[1:3]`` was a plain list without .notes or .rows() (walk 29 #14)."""
    made = designs()
    part = made[1:3]
    assert isinstance(part, Designs) and part.notes == made.notes and [c.rank for c in part] == [2, 3]
    assert part.rows()[0]["rank"] == 2
    assert isinstance(made[0], Candidate) and made[-1].rank == 10
