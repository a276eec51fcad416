"""``telltale evaluate``: score systems against gold data, compare them, find where they fail.

The heavy imports (numpy, scipy, the workbench, the report) happen inside the command, so
``telltale --help`` stays fast. Bad input — a missing file, files that do not line up, an
unknown task, a malformed ``--system`` or ``--bucket`` — raises a
:class:`~telltale.errors.TelltaleError`, which ``telltale`` prints as one line (exit 1).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from telltale.errors import ConfigError

__all__ = ["parse_assignments", "register"]

_EXAMPLES = """\b
Examples:
  telltale evaluate --task ner --data gold.conll \\
      --system elmo=elmo.conll --system flair=flair.conll \\
      --out eval.html --json eval.json
  telltale evaluate --task text-classification --data sst2.tsv \\
      --system lstm=lstm.txt --system cnn=cnn.txt --bucket text_length=edges:1,10,20,60
  telltale evaluate --task tabular-classification --data scored.parquet --target label \\
      --system a=model_a --system b=model_b --out eval.html
  telltale evaluate --task ner --data gold.conll --system crf=crf.conll --lenient \\
      --labels LOC,MISC,ORG,PER --bootstrap 2000 --seed 7 --json eval.json

\b
Tasks: ner (chunking), text-classification, text-pair-classification (nli),
extractive-qa (squad), generation (translation, summarization), tabular-classification,
tabular-regression. Bucketing SPEC: discrete[:MAX], quantile[:N] or edges:E0,E1,...
With two or more systems every pair is compared: paired bootstrap intervals of the
differences, p-values from random swaps, Benjamini-Hochberg across buckets.
"""


def parse_assignments(values: tuple[str, ...], option: str, example: str) -> dict[str, str]:
    """``("a=x", "b=y")`` as ``{"a": "x", "b": "y"}``; :class:`ConfigError` naming the bad one.

    >>> parse_assignments(("elmo=out/elmo.conll",), "--system", "elmo=elmo.conll")
    {'elmo': 'out/elmo.conll'}
    """
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ConfigError(f"{option} {item!r} is not NAME=VALUE; write e.g. {option} {example}")
        if name in out:
            raise ConfigError(f"{option} names {name!r} twice; give each name once")
        out[name] = value
    return out


def _labels(text: str | None) -> list[str] | None:
    if text is None:
        return None
    labels = [label.strip() for label in text.split(",") if label.strip()]
    if not labels:
        raise ConfigError(f"--labels {text!r} lists no label; write e.g. --labels LOC,MISC,ORG,PER")
    return labels


def register(cli: click.Group) -> None:
    """Add ``telltale evaluate`` to the ``telltale`` command group."""

    @cli.command("evaluate", epilog=_EXAMPLES)
    @click.option(
        "--task", required=True, help="What is evaluated: ner, text-classification, ... (below)."
    )
    @click.option(
        "--data",
        required=True,
        help="Gold data: CoNLL, TSV, JSON, or a table (Parquet/CSV/JSON lines) for tabular tasks.",
    )
    @click.option(
        "--system",
        "systems",
        multiple=True,
        required=True,
        help="A system's output as NAME=PATH (repeatable); for tabular tasks NAME=COLUMN.",
    )
    @click.option("--out", "out_html", type=click.Path(dir_okay=False), help="Write HTML here.")
    @click.option("--json", "out_json", type=click.Path(dir_okay=False), help="Write JSON here.")
    @click.option(
        "--bootstrap",
        "n_bootstrap",
        default=1000,
        show_default=True,
        type=click.IntRange(min=0),
        help="Bootstrap resamples for intervals (0: none).",
    )
    @click.option(
        "--permutations",
        "n_permutations",
        default=1000,
        show_default=True,
        type=click.IntRange(min=0),
        help="Random swaps for the p-values of comparisons (0: none).",
    )
    @click.option(
        "--seed", default=0, show_default=True, type=click.IntRange(min=0), help="Random seed."
    )
    @click.option(
        "--bucket",
        "buckets",
        multiple=True,
        help="Bucketing of a feature as FEATURE=SPEC (repeatable), e.g. span_length=edges:1,2,3,5.",
    )
    @click.option(
        "--strict/--lenient",
        default=True,
        show_default=True,
        help="Ill-formed BIO tags: stop with an error, or repair them as conlleval does.",
    )
    @click.option(
        "--labels", help="The full label set, comma-separated, when the gold data lacks some."
    )
    @click.option(
        "--unknown-labels",
        type=click.Choice(["error", "keep"]),
        default="error",
        show_default=True,
        help="A predicted label the gold data never uses: stop with an error, or score it as wrong.",
    )
    @click.option("--target", help="Tabular tasks: the column with the ground truth.")
    @click.option(
        "--alpha",
        default=0.05,
        show_default=True,
        type=click.FloatRange(0, 1, min_open=True, max_open=True),
        help="False discovery rate for comparisons and slices.",
    )
    @click.option("--no-slices", is_flag=True, help="Skip the search for underperforming slices.")
    @click.option("--title", help="Title of the HTML report.")
    @click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors.")
    def evaluate_command(**options: Any) -> None:
        """Evaluate systems against gold data: overall, per bucket, compared, sliced.

        Scores every system with intervals; buckets every feature (span length, entity type,
        sentence length, ...) on edges shared by all systems; compares every pair of systems
        with paired significance tests; finds each system's worst slices; and writes a
        self-contained HTML report and/or JSON.
        """
        from telltale.analysis.evaluate import SliceSearch, evaluate
        from telltale.report.evaluation import render_evaluation_html

        if not options["out_html"] and not options["out_json"]:
            raise ConfigError("nothing to write: give --out eval.html and/or --json eval.json")
        systems = parse_assignments(options["systems"], "--system", "elmo=elmo.conll")
        buckets = parse_assignments(options["buckets"], "--bucket", "span_length=edges:1,2,3,5")
        task_options: dict[str, Any] = {
            "tagging": "strict" if options["strict"] else "lenient",
            "unknown_labels": options["unknown_labels"],
        }
        labels = _labels(options["labels"])
        if labels is not None:
            task_options["labels"] = labels
        if options["target"]:
            task_options["target"] = options["target"]
        result = evaluate(
            options["task"],
            options["data"],
            systems,
            n_bootstrap=options["n_bootstrap"],
            n_permutations=options["n_permutations"],
            seed=options["seed"],
            alpha=options["alpha"],
            buckets=buckets or None,
            slices=False if options["no_slices"] else SliceSearch(alpha=options["alpha"]),
            **task_options,
        )
        written = []
        if options["out_json"]:
            path = Path(options["out_json"])
            path.write_text(result.to_json(indent=1), encoding="utf-8")
            written.append(path)
        if options["out_html"]:
            path = Path(options["out_html"])
            path.write_text(
                render_evaluation_html(result, title=options["title"], data=options["data"]),
                encoding="utf-8",
            )
            written.append(path)
        if not options["quiet"]:
            for finding in result.findings[:5]:
                click.echo(finding)
            for path in written:
                click.echo(f"wrote {path.resolve()}")
