"""CLI verbs that control a named factor in a run's latent space: ``edit`` moves held-out items
along the factor's direction, ``erase`` removes the factor from the codes (LEACE).

    latentmodels edit runs/vae --factor slant --amounts -2,-1,0,1,2 --out strip.png
    latentmodels erase runs/vae --factor ink --out eraser.lm

The factor's direction and the eraser are fitted on the codes of the run's training split;
the edits and the probes are judged on its held-out split. Both verbs record what they found
in ``RUN_DIR/factors.json``, which ``latentmodels report RUN_DIR`` shows.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from . import _common as cli

__all__ = ["FACTORS", "register"]

#: The factors the verbs know: each is measured on images, or (label) read from the labels.
FACTORS = ("slant", "ink", "lighting", "label")

RunArgument = Annotated[Path, typer.Argument(help="A run directory (model.lm and run.json).")]
FactorOption = Annotated[str, typer.Option(
    help="slant or ink (digits), lighting (faces: right minus left brightness), or label.")]
PositiveOption = Annotated[int | None, typer.Option(
    help="--factor label: the class whose presence is the factor (edit needs one; erase "
         "removes the whole label without it).")]
LimitOption = Annotated[int, typer.Option(
    help="Training samples whose codes fit the direction or the eraser.")]
ThreadsOption = Annotated[int, typer.Option(help="CPU threads for torch and BLAS.")]


def _measure(factor: str) -> Callable[[np.ndarray], np.ndarray]:
    from ..tasks.debias import ink_mass, slant
    from ..tasks.factors import lighting

    return {"slant": slant, "ink": ink_mass, "lighting": lighting}[factor]


def _split_run(run_dir: Path, limit: int) -> tuple[Any, np.ndarray, Any, np.ndarray, Any]:
    """The run's model and its data split as trained: model, X and y of train, of test."""
    from ..rundir import MODEL_FILE, held_out_split, load_model, read_run

    if not run_dir.is_dir() or not (run_dir / MODEL_FILE).is_file():
        raise cli.BadInput(f"RUN_DIR {run_dir} is not a run directory with {MODEL_FILE}")
    if limit < 2:
        raise cli.BadInput(f"--limit must be >= 2, got {limit}")
    info = read_run(run_dir)
    data = info.get("data") or {}
    if not data.get("source") or data.get("kind") == "sequences" or not data.get("test_fraction"):
        raise cli.BadInput(f"{run_dir}/run.json records no image data with a held-out split")
    model = load_model(run_dir / MODEL_FILE)
    from ..report.context import encodes, is_hmm

    if is_hmm(model) or not encodes(model) or not callable(
            getattr(model, "inverse_transform", None)):
        raise cli.BadInput(f"factors need a model that encodes and decodes; this is a "
                           f"{type(model).__name__}")
    if cli.labels_for(model, np.zeros(1), "run") is not None:
        raise cli.BadInput("factors: a conditional model's codes are given the label; use an "
                           "unconditional model")
    X, y = cli.load_data(str(data["source"]), data.get("limit"))
    train, test = held_out_split(len(X), float(data["test_fraction"]),
                                 int(data.get("split_seed", 0)))
    train = train[:limit]
    return (model, X[train], None if y is None else y[train], X[test],
            None if y is None else y[test])


def _factor_values(factor: str, X: np.ndarray, y: np.ndarray | None,
                   positive: int | None) -> np.ndarray:
    """The factor per item: a measurement of the image, or the (binary) label."""
    if factor not in FACTORS:
        raise cli.BadInput(f"--factor must be one of {', '.join(FACTORS)}, got {factor!r}")
    if factor == "label":
        if y is None:
            raise cli.BadInput("--factor label needs labelled data; the run's data has none")
        if positive is None:
            return y
        if not (y == positive).any():
            raise cli.BadInput(f"--positive {positive}: no training item has that label")
        return (y == positive).astype(np.int64)
    if X.ndim != 3:
        raise cli.BadInput(f"--factor {factor} is measured on grey images (height x width); "
                           f"the run's samples have shape {X.shape[1:]}")
    return np.asarray(_measure(factor)(X), dtype=np.float64)


def _parse_amounts(text: str) -> np.ndarray:
    try:
        amounts = np.array([float(part) for part in text.replace(" ", "").split(",") if part])
    except ValueError:
        raise cli.BadInput(f"--amounts must be comma-separated numbers, got {text!r}") from None
    if len(amounts) < 2 or not np.isfinite(amounts).all():
        raise cli.BadInput(f"--amounts needs at least two finite numbers, got {text!r}")
    return amounts


def _record(run_dir: Path, key: str, entry: dict[str, Any]) -> None:
    """Add ``entry`` under ``key`` to RUN_DIR/factors.json (atomically), keeping the rest."""
    from .._internal.io import atomic_write_text
    from ..report.sections.factors import FACTORS_FILE

    path = run_dir / FACTORS_FILE
    recorded: dict[str, Any] = {}
    if path.is_file():
        try:
            recorded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            recorded = {}
        if not isinstance(recorded, dict):
            recorded = {}
    recorded[key] = entry
    atomic_write_text(path, json.dumps(recorded, indent=2) + "\n")


def _pixel_classifier(X: np.ndarray, y: np.ndarray) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=300).fit(X.reshape(len(X), -1), y)


def edit_command(
    run_dir: RunArgument,
    out: Annotated[Path, typer.Option(help="Where to write the edit strip (.png).")],
    factor: FactorOption = "slant",
    amounts: Annotated[str, typer.Option(
        help="Steps along the factor, in standard deviations of the codes (of the factor "
             "with --factor-units).")] = "-2,-1,0,1,2",
    factor_units: Annotated[bool, typer.Option(
        help="Amounts in standard deviations of the factor over the training items: 1 "
             "moves the factor's linear fit on the codes by one standard deviation.")] = False,
    items: Annotated[int, typer.Option(help="Held-out items shown, one row each.")] = 6,
    positive: PositiveOption = None,
    limit: LimitOption = 4000,
    threads: ThreadsOption = 1,
) -> None:
    """Move held-out items along a factor's direction: one row per item, the factor growing
    left to right; prints how much the measured factor changes.

    latentmodels edit runs/vae --factor slant --amounts -2,-1,0,1,2 --out strip.png
    """
    with cli.clean_errors(), cli.cpu_threads(threads):
        from ..plots import as_images, display_range, grid_figure, save_figure
        from ..tasks.factors import attribute_direction, edit, edit_effect, step_length

        cli.check_out(out, (".png",))
        steps = _parse_amounts(amounts)
        if items < 1:
            raise cli.BadInput(f"--items must be >= 1, got {items}")
        if factor == "label" and positive is None:
            raise cli.BadInput("--factor label needs --positive CLASS: the edit moves items "
                               "towards or away from that class")
        model, X_train, y_train, X_test, y_test = _split_run(run_dir, limit)
        if len(X_test) < 2:
            raise cli.BadInput(f"{run_dir} has {len(X_test)} held-out items; too few to edit")
        values = _factor_values(factor, X_train, y_train, positive)
        train_codes = model.transform(X_train)
        direction = attribute_direction(train_codes, values)
        test_codes = model.transform(X_test)
        # Factor units are calibrated on the training codes, where the factor was measured.
        reference, scale = (train_codes, values) if factor_units else (test_codes, None)
        strip = edit(model, X_test[:items], direction, steps, codes=reference, factor=scale)
        images = as_images(strip.reshape(-1, *strip.shape[2:]))
        lo, hi = display_range(images)
        title = (f"{factor}: {steps[0]:g} .. {steps[-1]:g} sd"
                 f"{' of the factor' if factor_units else ''}")
        save_figure(grid_figure([("", images)], len(steps), lo, hi, title), out)
        if factor == "label":
            classifier = _pixel_classifier(X_train, y_train == positive)

            def measure(batch: np.ndarray) -> np.ndarray:
                return classifier.predict_proba(batch.reshape(len(batch), -1))[:, 1]
            measured = f"probability of class {positive} (pixel classifier)"
        else:
            measure, measured = _measure(factor), factor
        judged = X_test[:200]
        effect = edit_effect(model, judged, direction, steps, measure, codes=reference,
                             factor=scale)
        console = cli.stdout()
        console.print(f"Wrote an edit strip of {min(items, len(X_test))} held-out items to "
                      f"[bold]{out}[/bold]")
        console.print(f"Measured {measured} of {len(judged)} edited held-out items:",
                      markup=False)
        for step, mean in zip(steps, effect["factor_mean"], strict=True):
            console.print(f"  amount {step:+g} sd{' of ' + factor if factor_units else ''}: "
                          f"mean {mean:.4g}", markup=False)
        console.print(f"Rank correlation of amount and {factor}, per item: "
                      f"{effect['rank_correlation']:.3f} (1: always grows with the amount)",
                      markup=False)
        _record(run_dir, "edit", {
            "factor": factor, "positive": positive, "amounts": steps.tolist(),
            "units": "factor sd" if factor_units else "code sd",
            "step": step_length(reference, direction, scale),
            "items": min(items, len(X_test)), "direction": direction.tolist(),
            "factor_mean": effect["factor_mean"], "rank_correlation": effect["rank_correlation"],
            "measured": measured, "strip": str(out),
        })


def _probe_accuracy(train_codes: np.ndarray, train_target: np.ndarray,
                    test_codes: np.ndarray, test_target: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression

    # No rescaling: it would blow the rounding residue of erased directions up into signal.
    probe = LogisticRegression(max_iter=2000)
    return float(probe.fit(train_codes, train_target).score(test_codes, test_target))


def erase_command(
    run_dir: RunArgument,
    out: Annotated[Path, typer.Option(help="Where to save the fitted eraser (.lm).")],
    factor: FactorOption = "slant",
    positive: PositiveOption = None,
    within_label: Annotated[bool, typer.Option(
        help="Erase the factor only within each class of the run's labels: what the class "
             "says about the factor stays, and so does the class.")] = False,
    limit: LimitOption = 4000,
    threads: ThreadsOption = 1,
) -> None:
    """Fit a LEACE eraser for a factor on the run's training codes and save it; print how well
    a linear probe reads the factor and the label from held-out codes before and after.

    latentmodels erase runs/vae --factor ink --out eraser.lm
    latentmodels erase runs/vae --factor ink --within-label --out eraser.lm  # keeps the digit
    """
    with cli.clean_errors(), cli.cpu_threads(threads):
        from ..tasks.factors import ConceptEraser

        cli.check_out(out, (".lm",))
        model, X_train, y_train, X_test, y_test = _split_run(run_dir, limit)
        if len(X_test) < 2:
            raise cli.BadInput(f"{run_dir} has {len(X_test)} held-out items; too few to probe")
        target_train = _factor_values(factor, X_train, y_train, positive)
        target_test = _factor_values(factor, X_test, y_test, positive)
        if factor != "label":
            # A measured factor becomes a label: above or below the training median.
            median = float(np.median(target_train))
            target_train, target_test = target_train > median, target_test > median
        if len(np.unique(target_train)) < 2:
            raise cli.BadInput(f"--factor {factor} takes a single value on the training items")
        if within_label and (y_train is None or factor == "label"):
            raise cli.BadInput("--within-label needs labelled data and a factor other than "
                               "the label")
        codes_train, codes_test = model.transform(X_train), model.transform(X_test)
        try:
            eraser = ConceptEraser().fit(codes_train, target_train,
                                         groups=y_train if within_label else None)
        except ValueError as error:
            raise cli.BadInput(str(error)) from None
        erased_train, erased_test = eraser.transform(codes_train), eraser.transform(codes_test)
        eraser.save(out)
        probes = {factor if factor != "label" else "label (erased)": (target_train, target_test)}
        if y_train is not None and factor != "label":
            probes["label"] = (y_train, y_test)
        rows = []
        for name, (train_target, test_target) in probes.items():
            before = _probe_accuracy(codes_train, train_target, codes_test, test_target)
            after = _probe_accuracy(erased_train, train_target, erased_test, test_target)
            chance = float(np.max(np.unique(test_target, return_counts=True)[1]) /
                           len(test_target))
            rows.append({"probe": name, "before": before, "after": after, "chance": chance})
        console = cli.stdout()
        from rich.table import Table

        table = Table(title=f"Linear probes on {len(X_test):,} held-out codes, before and "
                            f"after erasing {factor}"
                            f"{' within each label' if within_label else ''}")
        for column in ("probe for", "before", "after", "majority class"):
            table.add_column(column, justify="right")
        for row in rows:
            table.add_row(row["probe"], f"{row['before']:.3f}", f"{row['after']:.3f}",
                          f"{row['chance']:.3f}")
        console.print(table)
        if within_label:
            # The floor is no longer the majority class: the label's own say is kept.
            guess = {c: np.mean(target_train[y_train == c]) > 0.5 for c in np.unique(y_train)}
            label_only = float(np.mean([guess.get(c, False) == t for c, t in
                                        zip(y_test, target_test, strict=True)]))
            rows[0]["label_only"] = label_only
            console.print(f"Erased within each label: {factor} is still predicted as well as "
                          f"the label predicts it ({label_only:.3f} from the label alone), "
                          "no better.", markup=False)
        console.print(f"Removed {eraser.rank_} direction(s); wrote the eraser to "
                      f"[bold]{out}[/bold]")
        _record(run_dir, "erase", {"factor": factor, "positive": positive,
                                   "within_label": within_label,
                                   "rank": eraser.rank_, "n_train": len(X_train),
                                   "n_test": len(X_test), "probes": rows,
                                   "eraser": str(out)})


def register(app: typer.Typer) -> None:
    """Add ``edit`` and ``erase`` to ``app``.

    Example:
        >>> import typer
        >>> app = typer.Typer()
        >>> register(app)
        >>> sorted(c.name for c in app.registered_commands)
        ['edit', 'erase']
    """
    app.command("edit")(edit_command)
    app.command("erase")(erase_command)
