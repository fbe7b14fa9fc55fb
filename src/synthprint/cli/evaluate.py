"""``synthprint evaluate --run RUN --truth TRUTH``: metrics with bootstrap intervals."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.markup import escape

from synthprint.cli._app import command, console, say
from synthprint.cli._common import SEED_LIMITS, confusion_table


@command("evaluate")
def evaluate(
    run: Path = typer.Option(..., "--run", help="A run (.csv or .zip holding run.csv), or a "
                                               "scores CSV: name,score[,label] (header allowed)."),
    truth: Path = typer.Option(..., "--truth", help="Truth file: name,label lines (like a "
                                                   "benchmark's truth/*.csv)."),
    as_json: bool = typer.Option(False, "--json", help="Print the metrics as JSON."),
    task: str = typer.Option(None, "--task", help="binary or multiclass (default: binary when "
                                                  "every truth label is 0 or 1)."),
    n_boot: int = typer.Option(1000, "--n-boot", min=0, help="Bootstrap resamples for the "
                                                              "intervals (0: none)."),
    seed: int = typer.Option(0, "--seed", **SEED_LIMITS, help="Seed of the bootstrap."),
) -> None:
    """Score a run against the truth: Cohen's kappa, F1, accuracy, ... (binary) or accuracy and
    macro metrics (multiclass), with 95% bootstrap intervals; from scores also ROC AUC and TPR
    at low FPR.

    A run that the challenge's validator would reject (a header row, 1.0 labels) is scored
    all the same, with a note that says why it would be rejected."""
    from synthprint.evaluation import auc_interval_above_chance
    from synthprint.evaluation.runs import evaluate_run

    result = evaluate_run(run, truth, task=task, n_boot=n_boot, seed=seed)
    table = result.table
    if as_json:
        out = table.to_dict()
        out.update(run=str(run), truth=str(truth), matched_by=result.matched_by,
                   notes=result.notes + out["notes"])
        typer.echo(json.dumps(out, indent=2))
        return
    console.print(table.to_rich(title=escape(f"{run.name} vs {truth.name}: {result.task}, "
                                             f"n={table.n}")))
    matrix = confusion_table(table, "confusion matrix (rows: truth, columns: run)")
    if matrix is not None:
        console.print(matrix)
    for note in result.notes:
        say(f"note: {note}")
    if "roc_auc" in table and table["roc_auc"].has_interval \
            and not auc_interval_above_chance(table):
        below = table["roc_auc"].high < 0.5
        console.print("ROC AUC interval lies below 0.5: the scores rank used images below "
                      "unused ones (are they inverted?)" if below else
                      "ROC AUC interval does not lie above 0.5: no detectable membership "
                      "signal",
                      highlight=False)
