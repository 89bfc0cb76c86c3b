"""``gennas report``: PNG figures of stored searches (see :mod:`gennas.report`)."""

from __future__ import annotations

from typing import Any, Optional

import typer


def register(app: typer.Typer) -> None:
    from gennas.cli.output import friendly, print_json, print_table
    from gennas.cli.output import note as note_line

    @app.command("report")
    @friendly(interrupted="interrupted: the figures written so far are kept")
    def report_cmd(
        storage: str = typer.Option(..., "--storage", help="optuna storage URL or .db file the searches wrote"),
        study: Optional[list[str]] = typer.Option(
            None, "--study", help="study to plot (repeat for several; default: every gennas study in --storage)"),
        out: str = typer.Option("gennas-report", "--out", "-o", help="folder the PNG figures are written to"),
        as_json: bool = typer.Option(False, "--json", help="machine-readable output"),
    ) -> None:
        """Figures of stored searches: best so far per method, predicted vs verified accuracy,
        accuracy against latency with the budget and the Pareto front."""
        import os

        from gennas.cli.checks import check_storage
        from gennas.fronts import study_front
        from gennas.report import write_report
        from gennas.resources import home_folder
        from gennas.search.backends import open_storage
        from gennas.search.runs import load_runs

        # matplotlib's cache, where $HOME cannot hold it: it warned in the log (user walk 48); where it
        # can, matplotlib's own place
        if "MPLCONFIGDIR" not in os.environ and not os.access(os.path.expanduser("~"), os.W_OK):
            cache = home_folder("matplotlib")
            if cache is not None:
                os.environ["MPLCONFIGDIR"] = str(cache)
        runs = load_runs(open_storage(check_storage(storage), existing=True), study)
        written = write_report(runs, out)
        studies: list[dict[str, Any]] = [
            {"study": r.name, "method": r.method, "results": len(r.results), "failed": sum(x.failed for x in r.results),
             "device": r.device, "max_latency_ms": r.budget_ms} for r in runs]
        # the front as data, per study (the figure draws it; a user walk wanted to choose from it)
        fronts = [study_front(r) for r in runs]
        if as_json:
            for row, front in zip(studies, fronts):
                row["pareto"] = None if front is None else {
                    "device": front.device, "latency": front.latency,
                    "points": [{"arch": res.arch.to_string(), "score": res.score, "latency_ms": ms}
                               for res, ms in front.points]}
            print_json({"studies": studies, "figures": [str(p) for p in written.files], "notes": written.notes})
            return
        print_table(f"{len(runs)} stud{'y' if len(runs) == 1 else 'ies'} in {storage}", studies)
        for run, front in zip(runs, fronts):
            if front is not None:
                print_table(f"Pareto front of {run.name} on {front.device} ({front.latency}), fastest first",
                            [{"arch": res.arch.to_string(), "score": res.score, "latency_ms": ms}
                             for res, ms in front.points])
        print_table("figures written", [{"figure": str(p)} for p in written.files])
        for note in written.notes:
            note_line(note)
