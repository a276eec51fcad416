"""The self-contained HTML report: structure, escaping, robustness and size.

The page is checked with a small DOM built on the stdlib ``html.parser``; no browser needed.
"""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import numpy as np
import pytest

from telltale.report import charts
from telltale.report.html import render_html

# --------------------------------------------------------------------------------------------
# A realistic report dict
# --------------------------------------------------------------------------------------------

NUMERIC = ["age", "income", "session length", "température °C"]
CATEGORICAL = ["country", "device type", "plan"]
DRIFTED = {"income", "température °C", "device type"}


def _histogram(rng: np.random.Generator, shift: float, edges: np.ndarray) -> list[float]:
    values = rng.normal(shift, 1.0, 20_000)
    counts, _ = np.histogram(values, bins=edges)
    return [round(float(c) / values.size, 6) for c in counts]


def _numeric(rng: np.random.Generator, name: str, drifted: bool) -> dict[str, Any]:
    edges = np.linspace(-4.0, 4.0, 41)
    stats = {
        "count": 980_000,
        "missing": 20_000,
        "missing_rate": 0.02,
        "distinct": 979_000,
        "mean": 0.01,
        "std": 1.0,
        "min": -4.1,
        "p05": -1.6,
        "p25": -0.67,
        "p50": 0.0,
        "p75": 0.67,
        "p95": 1.6,
        "max": 4.3,
    }
    current = dict(
        stats, mean=0.8 if drifted else 0.02, missing_rate=0.05 if name == "age" else 0.02
    )
    return {
        "kind": "numeric",
        "dtype": {"reference": "float64", "current": "float64"},
        "stats": {"reference": stats, "current": current},
        "chart": {
            "type": "histogram",
            "edges": [round(float(e), 4) for e in edges],
            "reference": _histogram(rng, 0.0, edges),
            "current": _histogram(rng, 0.8 if drifted else 0.0, edges),
        },
        "error": None,
    }


def _categorical(name: str, categories: list[str], drifted: bool) -> dict[str, Any]:
    k = len(categories)
    reference = [round(1.0 / k, 4)] * k
    current = [0.6, *[round(0.4 / (k - 1), 4)] * (k - 1)] if drifted else reference
    stats = {
        "count": 1_000_000,
        "missing": 0,
        "missing_rate": 0.0,
        "distinct": k,
        "top": categories[0],
        "top_share": reference[0],
    }
    return {
        "kind": "categorical",
        "dtype": {"reference": "string", "current": "string"},
        "stats": {"reference": stats, "current": dict(stats, top_share=current[0])},
        "chart": {
            "type": "bar",
            "categories": categories,
            "reference": reference,
            "current": current,
        },
        "error": None,
    }


def _drift(name: str, kind: str, drifted: bool) -> dict[str, Any]:
    if kind == "numeric":
        statistic, p_value, method, threshold = (
            (0.31 if drifted else 0.02),
            None,
            "wasserstein",
            0.1,
        )
    else:
        statistic, method, threshold = (41.5 if drifted else 1.2), "chi2", 0.05
        p_value = 1.5e-9 if drifted else 0.54
    return {
        "column": name,
        "kind": kind,
        "method": method,
        "statistic": statistic,
        "p_value": p_value,
        "threshold": threshold,
        "drift": drifted,
        "details": {"resolution": 0.001} if kind == "numeric" else {},
    }


def _metrics(values: dict[str, float]) -> dict[str, Any]:
    return {
        k: {"value": v, "ci": [round(v - 0.01, 4), round(v + 0.01, 4)]} for k, v in values.items()
    }


def _classification() -> dict[str, Any]:
    reference = {"accuracy": 0.91, "roc_auc": 0.95, "log_loss": 0.31, "ece": 0.02, "f1": 0.9}
    current = {"accuracy": 0.84, "roc_auc": 0.93, "log_loss": 0.28, "ece": 0.021, "f1": 0.83}
    cis = {
        "accuracy": [-0.09, -0.05],
        "roc_auc": [-0.03, -0.01],
        "log_loss": [-0.05, -0.01],
        "ece": [-0.004, 0.006],
        "f1": [-0.1, -0.04],
    }
    return {
        "task": "classification",
        "reference": {
            "metrics": _metrics(reference),
            "confusion_matrix": {"labels": ["0", "1"], "matrix": [[500, 20], [30, 450]]},
            "n": 1000,
            "notes": [],
        },
        "current": {
            "metrics": _metrics(current),
            "confusion_matrix": {"labels": ["0", "1"], "matrix": [[380, 70], [74, 376]]},
            "n": 900,
            "notes": ["12 rows without a label were left out"],
        },
        "difference": {
            k: {
                "reference": reference[k],
                "current": current[k],
                "difference": round(current[k] - reference[k], 6),
                "ci": cis[k],
            }
            for k in reference
        },
        "error": None,
    }


def make_report(
    numeric: list[str] | None = None,
    categorical: list[str] | None = None,
    *,
    categories: list[str] | None = None,
    drifted: set[str] | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """A report as ``telltale report`` writes it, with drift, quality, performance and errors."""
    rng = np.random.default_rng(seed)
    numeric = NUMERIC if numeric is None else numeric
    categorical = CATEGORICAL if categorical is None else categorical
    categories = categories or ["c0", "c1", "c2", "(other)"]
    drifted = DRIFTED if drifted is None else drifted
    columns: dict[str, Any] = {}
    drift_columns: dict[str, Any] = {}
    for name in numeric:
        columns[name] = _numeric(rng, name, name in drifted)
        drift_columns[name] = _drift(name, "numeric", name in drifted)
    for name in categorical:
        columns[name] = _categorical(name, categories, name in drifted)
        drift_columns[name] = _drift(name, "categorical", name in drifted)
    day = 86400.0
    start = 1_767_225_600.0  # 2026-01-01
    columns["signup_time"] = {
        "kind": "datetime",
        "dtype": {"reference": "timestamp[us]", "current": "timestamp[us]"},
        "stats": {
            "reference": {"count": 1000, "missing": 0, "min": start, "max": start + 300 * day},
            "current": {
                "count": 900,
                "missing": 0,
                "min": start + 10 * day,
                "max": start + 320 * day,
            },
        },
        "chart": {
            "type": "histogram",
            "edges": [start + i * 32 * day for i in range(11)],
            "reference": [0.1] * 10,
            "current": [0.0, 0.05, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.2, 0.2],
        },
        "error": None,
    }
    n_drifted = sum(1 for r in drift_columns.values() if r["drift"])
    issues: list[dict[str, Any]] = (
        [
            {
                "column": numeric[0],
                "severity": "warning",
                "message": "missing values rose from 2.0% to 5.0%",
            }
        ]
        if numeric
        else []
    )
    issues.append(
        {"column": None, "severity": "error", "message": "column 'a' is missing in current"}
    )
    quality_columns = {
        name: {
            "missing_rate": {"reference": 0.02, "current": 0.05, "change": 0.03},
            "dtype": {"reference": "float64", "current": "float64", "changed": False},
            "out_of_range": {
                "count": 120,
                "share": 0.00012,
                "reference_min": -4.1,
                "reference_max": 4.3,
            },
            "new_categories": {"count": 0, "share": 0.0, "values": []},
            "constant": {"reference": False, "current": False},
            "issues": [i["message"] for i in issues if i["column"] == name],
        }
        for name in numeric
    }
    return {
        "telltale_version": "0.1.0",
        "created": "2026-11-22T03:30:00Z",
        "title": "Data report",
        "reference": {
            "source": "train.parquet",
            "rows": 1_000_000,
            "columns": len(columns),
            "profile_only": False,
        },
        "current": {"source": "week.parquet", "rows": 1_000_000, "columns": len(columns)},
        "settings": {
            "target": "label",
            "prediction": "pred",
            "score": ["proba"],
            "method": None,
            "thresholds": {},
            "seed": 0,
            "n_bootstrap": 1000,
            "task": "classification",
        },
        "summary": {
            "n_columns": len(drift_columns),
            "n_drifted": n_drifted,
            "share_drifted": n_drifted / max(len(drift_columns), 1),
            "dataset_drift": False,
            "n_quality_issues": len(issues),
        },
        "drift": {
            "columns": drift_columns,
            "share_drifted": n_drifted / max(len(drift_columns), 1),
            "n_drifted": n_drifted,
            "n_columns": len(drift_columns),
            "method": "auto",
            "auto_rule": "numeric columns: Wasserstein distance over the reference spread; "
            "categorical columns: chi-squared test",
            "target": _drift("label", "categorical", False),
            "prediction": _drift("pred", "categorical", True),
            "errors": {"weird col": "all values are missing in current"},
        },
        "quality": {
            "columns": quality_columns,
            "duplicates": {
                "reference": {"count": 0, "share": 0.0},
                "current": {"count": 12, "share": 0.000012},
            },
            "schema": {
                "missing_in_current": ["a"],
                "new_in_current": ["b"],
                "type_changed": [{"column": "c", "reference": "int64", "current": "string"}],
            },
            "issues": issues,
        },
        "performance": _classification(),
        "columns": columns,
        "errors": ["the current file had 3 unreadable row groups"],
    }


# --------------------------------------------------------------------------------------------
# A small DOM on html.parser
# --------------------------------------------------------------------------------------------

_VOID = {
    "meta",
    "link",
    "br",
    "hr",
    "img",
    "input",
    "col",
    "area",
    "base",
    "embed",
    "source",
    "wbr",
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str | None]
    children: list[Node | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self, tag: str | None = None) -> Iterator[Node]:
        for child in self.children:
            if isinstance(child, Node):
                if tag is None or child.tag == tag:
                    yield child
                yield from child.iter(tag)

    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def by_id(self, ident: str) -> Node:
        found = [n for n in self.iter() if n.attrs.get("id") == ident]
        assert len(found) == 1, f"{len(found)} elements with id {ident!r}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#document", {})
        self.stack = [self.root]
        self.problems: list[str] = []
        self.decl: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.decl.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, dict(attrs))
        self.stack[-1].children.append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.stack[-1].children.append(Node(tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if self.stack[-1].tag != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1].tag}>")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(page: str) -> Node:
    builder = _Builder()
    builder.feed(page)
    builder.close()
    assert builder.decl == ["DOCTYPE html"]
    assert not builder.problems, builder.problems[:5]
    assert builder.stack == [builder.root], "unclosed elements"
    return builder.root


def rows(table: Node) -> list[Node]:
    body = next(table.iter("tbody"))
    return list(body.iter("tr"))


def cell_texts(row: Node) -> list[str]:
    return [td.text().strip() for td in row.iter("td")]


def drift_table(doc: Node) -> Node:
    section = doc.by_id("drift")
    tables = [t for t in section.iter("table") if "drift" in t.classes()]
    return tables[-1]  # target/prediction first, then the columns


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return make_report()


@pytest.fixture(scope="module")
def page(report: dict[str, Any]) -> str:
    return render_html(report)


@pytest.fixture(scope="module")
def doc(page: str) -> Node:
    return parse(page)


# --------------------------------------------------------------------------------------------
# The document
# --------------------------------------------------------------------------------------------


def test_one_self_contained_document(page: str, doc: Node) -> None:
    assert page.startswith("<!DOCTYPE html>")
    for tag in ("html", "head", "body"):
        assert len(list(doc.iter(tag))) == 1, tag
    assert len(list(next(doc.iter("head")).iter("title"))) == 1
    assert not list(doc.iter("link")) and not list(doc.iter("img")) and not list(doc.iter("iframe"))
    scripts = list(doc.iter("script"))
    assert len(scripts) == 1 and "src" not in scripts[0].attrs
    for node in doc.iter():
        for name, value in node.attrs.items():
            assert name not in {"src", "srcset", "xmlns", "xlink:href"}, (node.tag, name)
            assert not re.search(r"https?:", value or "", re.I), (node.tag, name, value)
    assert not re.search(r"https?://", page, re.I)
    assert not re.search(r"url\(|@import|@font-face", page, re.I)
    csp = [m for m in doc.iter("meta") if m.attrs.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in (csp[0].attrs["content"] or "")


def test_header_and_verdict(report: dict[str, Any], doc: Node) -> None:
    head = next(n for n in doc.iter("header") if "page-head" in n.classes())
    text = " ".join(head.text().split())
    assert "train.parquet" in text and "week.parquet" in text
    assert "1,000,000 rows" in text and "2026-11-22 03:30 UTC" in text
    verdict = next(n for n in doc.iter("p") if "verdict" in n.classes()).text()
    assert verdict == "3 of 7 columns drifted (43%); 2 data-quality issues; accuracy 0.91 → 0.84"
    assert next(doc.iter("title")).text() == "Data report — train.parquet vs week.parquet"


def test_every_column_gets_a_chart(report: dict[str, Any], doc: Node) -> None:
    blocks = [n for n in doc.iter("article") if "col-block" in n.classes()]
    assert [next(b.iter("h3")).text() for b in blocks] == list(report["columns"])
    for index, block in enumerate(blocks):
        assert block.attrs["id"] == f"col-{index}"
        svgs = list(block.iter("svg"))
        assert len(svgs) == 1, block.attrs["id"]
        assert list(svgs[0].iter("title")), "charts carry tooltips"
        legend = [t.text() for t in svgs[0].iter("text")]
        assert "reference" in legend and "current" in legend
        assert len(list(block.iter("table"))) == 1, "a stats table per column"
    # a histogram per numeric column (step paths), grouped bars per categorical one
    income = doc.by_id("col-1")
    assert {p.attrs["class"] for p in income.iter("path")} == {"ref", "cur"}
    country = doc.by_id(f"col-{len(NUMERIC)}")
    bars = [r for r in country.iter("rect") if "bar" in (r.attrs.get("class") or "")]
    assert len(bars) == 2 * 4
    assert any("c0 — current: 25%" in b.text() for b in bars)


def test_datetime_column_has_date_ticks(doc: Node) -> None:
    block = doc.by_id(f"col-{len(NUMERIC) + len(CATEGORICAL)}")
    ticks = [t.text() for t in block.iter("text") if "xt" in (t.attrs.get("class") or "")]
    assert any(re.fullmatch(r"2026-\d\d", t) for t in ticks), ticks
    stats = " ".join(cell_texts(r)[1] for r in rows(next(block.iter("table"))))
    assert stats == "1,000 0 2026-01-01 2026-10-28"


def test_drift_table_values_and_drifted_first(report: dict[str, Any], doc: Node) -> None:
    table = drift_table(doc)
    headers = [th.text() for th in table.iter("th")]
    assert headers == ["Column", "Type", "Method", "Statistic", "p-value", "Threshold", "Drift"]
    body = rows(table)
    assert len(body) == len(report["drift"]["columns"])
    flags = [cell_texts(r)[-1] for r in body]
    assert flags == sorted(flags, key=lambda f: f != "yes")
    assert flags.count("yes") == len(DRIFTED)
    by_name = {cell_texts(r)[0]: r for r in body}
    assert cell_texts(by_name["income"]) == [
        "income",
        "numeric",
        "wasserstein",
        "0.31",
        "—",
        "0.1",
        "yes",
    ]
    assert cell_texts(by_name["country"]) == [
        "country",
        "categorical",
        "chi2",
        "1.2",
        "0.54",
        "0.05",
        "no",
    ]
    assert cell_texts(by_name["device type"])[4] == "1.500e-9"
    assert "drifted" in by_name["income"].classes() and "drifted" not in by_name["age"].classes()
    # names link to the column blocks
    for name, row in by_name.items():
        link = next(row.iter("a"))
        target = doc.by_id(str(link.attrs["href"]).removeprefix("#"))
        assert next(target.iter("h3")).text() == name


def test_target_and_prediction_drift_shown_apart(doc: Node) -> None:
    section = doc.by_id("drift")
    special = next(t for t in section.iter("table") if "drift" in t.classes())
    texts = [cell_texts(r) for r in rows(special)]
    assert [t[0] for t in texts] == ["target: label", "prediction: pred"]
    assert [t[-1] for t in texts] == ["no", "yes"]
    names = {cell_texts(r)[0] for r in rows(drift_table(doc))}
    assert "label" not in names and "pred" not in names


def test_quality_section(doc: Node) -> None:
    section = doc.by_id("quality")
    text = " ".join(section.text().split())
    assert "missing values rose from 2.0% to 5.0%" in text
    assert "current: 12 (0.0012%)" in text and "reference: 0 (0%)" in text
    assert "Missing in current: a" in text and "New in current: b" in text
    changed = [
        cell_texts(r) for t in section.iter("table") for r in rows(t) if cell_texts(r)[0] == "c"
    ]
    assert changed == [["c", "int64", "string"]]
    per_column = next(t for t in section.iter("table") if "quality" in t.classes())
    first = rows(per_column)[0]
    assert cell_texts(first)[:5] == ["age", "1", "2.0%", "5.0%", "3.0%"]
    assert "has-issues" in first.classes()


def test_performance_cards_and_matrices(doc: Node) -> None:
    section = doc.by_id("performance")
    cards = {
        next(c.iter("h3")).attrs["title"]: c for c in section.iter("div") if "card" in c.classes()
    }
    assert list(cards) == ["accuracy", "roc_auc", "log_loss", "ece", "f1"]
    accuracy = " ".join(cards["accuracy"].text().split())
    assert "0.91 [0.9, 0.92]" in accuracy and "0.84 [0.83, 0.85]" in accuracy
    assert "-0.07 [-0.09, -0.05]" in accuracy
    assert "worse" in cards["accuracy"].classes()
    assert "better" in cards["log_loss"].classes()  # lower is better, and it went down
    assert "worse-ns" in cards["ece"].classes()  # up, but the CI includes 0
    assert "↓ better" in cards["log_loss"].text()
    matrices = [f for f in section.iter("figure") if "matrix" in f.classes()]
    assert [next(m.iter("figcaption")).text() for m in matrices] == [
        "Reference (n = 1,000)",
        "Current (n = 900)",
    ]
    cells = [r for r in matrices[1].iter("rect")]
    assert len(cells) == 4
    assert "actual 0, predicted 1: 70 (16% of actual 0)" in [c.text() for c in cells]
    assert "12 rows without a label were left out" in section.text()


def test_errors_section(doc: Node) -> None:
    section = doc.by_id("errors")
    texts = [cell_texts(r) for r in rows(next(section.iter("table")))]
    assert ["drift", "weird col", "all values are missing in current"] in texts
    assert ["report", "—", "the current file had 3 unreadable row groups"] in texts


def test_sort_script_and_what_it_needs(page: str, doc: Node) -> None:
    script = next(doc.iter("script")).text()
    assert 'querySelectorAll("table.sortable")' in script and "data-sort" in script
    tables = list(doc.iter("table"))
    assert tables and all(("sortable" in t.classes()) != ("stats" in t.classes()) for t in tables)
    table = drift_table(doc)
    numeric = [i for i, th in enumerate(table.iter("th")) if th.attrs.get("data-type") == "num"]
    assert numeric == [3, 4, 5, 6]
    for row in rows(table):
        tds = list(row.iter("td"))
        for i in numeric:
            key = tds[i].attrs.get("data-sort")
            assert key is not None
            assert key == "" or float(key) == float(key)
    assert "<thead>" in page and "<tbody>" in page


# --------------------------------------------------------------------------------------------
# Escaping and names
# --------------------------------------------------------------------------------------------

EVIL = ["<script>alert(1)</script>", '"onload=alert(2) x="', "<img src=x onerror=alert(3)>"]


def test_user_text_is_escaped() -> None:
    report = make_report(
        numeric=[EVIL[0], "ok"],
        categorical=[EVIL[1]],
        categories=[EVIL[2], "</svg><script>alert(4)</script>", "&amp;", "plain"],
        drifted={EVIL[0]},
    )
    report["reference"]["source"] = "<b>evil</b>.parquet"
    report["title"] = "</title><script>alert(5)</script>"
    report["drift"]["errors"] = {EVIL[2]: "<script>alert(6)</script> failed"}
    report["quality"]["schema"]["missing_in_current"] = [EVIL[0]]
    report["performance"]["current"]["confusion_matrix"]["labels"] = ["<i>0</i>", "1"]
    page = render_html(report)
    doc = parse(page)
    assert len(list(doc.iter("script"))) == 1
    assert not list(doc.iter("img")) and not list(doc.iter("b")) and not list(doc.iter("i"))
    for node in doc.iter():
        assert not any(name.startswith("on") for name in node.attrs), (node.tag, node.attrs)
    for raw in ("<script>alert", "<img src=x", "<b>evil", "<i>0"):
        assert raw not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    text = doc.text()
    assert EVIL[0] in text and EVIL[1] in text and "<b>evil</b>.parquet" in text
    assert "&amp;" in text  # a category spelled "&amp;" shows as typed
    headings = [next(a.iter("h3")).text() for a in doc.iter("article")]
    assert headings[:3] == [EVIL[0], "ok", EVIL[1]]


def test_unicode_and_spaces_in_names() -> None:
    names = ["température °C", "名前 with spaces", "emoji 🚀", " leading space"]
    page = render_html(
        make_report(numeric=names, categorical=["Größe"], categories=["ä", "ß", "日本"])
    )
    doc = parse(page)
    ids = [a.attrs["id"] for a in doc.iter("article")]
    assert ids == [f"col-{i}" for i in range(len(names) + 2)]
    hrefs = {a.text(): a.attrs["href"] for a in drift_table(doc).iter("a")}
    for i, name in enumerate(names):
        assert hrefs[name] == f"#col-{i}"
    assert "日本" in doc.text() and "🚀" in page


# --------------------------------------------------------------------------------------------
# Partial reports
# --------------------------------------------------------------------------------------------


def _without(report: dict[str, Any], *keys: str) -> dict[str, Any]:
    out = copy.deepcopy(report)
    for key in keys:
        out.pop(key, None)
    return out


@pytest.mark.parametrize(
    "change",
    [
        lambda r: _without(r, "performance"),
        lambda r: _without(r, "drift", "summary"),
        lambda r: dict(r, columns={}),
        lambda r: dict(r, quality=None, drift=None, performance=None, columns=None, errors=None),
        lambda r: {key: None for key in r},
        lambda r: {},
        lambda r: dict(
            r, performance={"error": "no target column 'label' in current", "task": None}
        ),
        lambda r: dict(
            r, reference=dict(r["reference"], profile_only=True, rows=None, source=None)
        ),
    ],
    ids=[
        "no-performance",
        "no-drift",
        "no-columns",
        "null-sections",
        "all-null",
        "empty",
        "perf-error",
        "profile",
    ],
)
def test_partial_reports_render(report: dict[str, Any], change: Any) -> None:
    doc = parse(render_html(change(report)))
    assert doc.by_id("drift") and doc.by_id("columns")


def _paths(node: Any, prefix: tuple[Any, ...] = (), depth: int = 3) -> Iterator[tuple[Any, ...]]:
    if len(prefix) >= depth:
        return
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else []
    )
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key), depth)


def test_any_value_of_the_wrong_type_still_renders() -> None:
    base = make_report(numeric=["a"], categorical=["b"])
    for path in _paths(base):
        junks: list[object] = [None, "x", [], {}, True, float("nan")]
        for junk in junks:
            broken = copy.deepcopy(base)
            node = broken
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = junk
            assert render_html(broken).endswith("</html>"), (path, junk)


def test_missing_sections_say_so(report: dict[str, Any]) -> None:
    text = parse(render_html({})).text()
    assert "Drift was not analysed" in text and "was not analysed in this report" in text
    doc = parse(render_html(_without(report, "performance")))
    verdict = next(n for n in doc.iter("p") if "verdict" in n.classes()).text()
    assert verdict == "3 of 7 columns drifted (43%); 2 data-quality issues"
    error = dict(report, performance={"error": "no target column 'label' in current"})
    doc = parse(render_html(error))
    assert "no target column 'label' in current" in doc.by_id("performance").text()


def test_bad_chart_data_is_reported_not_raised(report: dict[str, Any]) -> None:
    broken = copy.deepcopy(report)
    broken["columns"]["age"]["chart"]["edges"] = [0.0, 1.0]
    broken["columns"]["income"]["chart"] = {"type": "pie"}
    broken["columns"]["country"]["chart"]["reference"] = ["x"] * 4
    broken["columns"]["plan"]["chart"] = None
    broken["columns"]["age"]["stats"] = None
    broken["performance"]["current"]["confusion_matrix"]["matrix"] = [[1]]
    doc = parse(render_html(broken))
    assert "The chart cannot be drawn" in doc.by_id("col-0").text()
    assert "Unknown chart type: pie" in doc.by_id("col-1").text()
    assert "non-number" in doc.by_id(f"col-{len(NUMERIC)}").text()
    assert "No distribution data" in doc.by_id(f"col-{len(NUMERIC) + 2}").text()
    assert "confusion matrix cannot be drawn" in doc.by_id("performance").text()


def test_regression_report_renders_metric_cards(report: dict[str, Any]) -> None:
    regression = copy.deepcopy(report)
    reference = {"mae": 1.2, "rmse": 2.0, "mape": 0.1, "r2": 0.8}
    current = {"mae": 1.5, "rmse": 2.4, "mape": 0.09, "r2": 0.7}
    regression["performance"] = {
        "task": "regression",
        "reference": {
            "metrics": _metrics(reference),
            "confusion_matrix": None,
            "n": 1000,
            "notes": [],
        },
        "current": {"metrics": _metrics(current), "n": 900, "notes": []},
        "difference": {
            k: {
                "reference": reference[k],
                "current": current[k],
                "difference": current[k] - reference[k],
            }
            for k in reference
        },
        "error": None,
    }
    doc = parse(render_html(regression))
    section = doc.by_id("performance")
    cards = {
        next(c.iter("h3")).attrs["title"]: c for c in section.iter("div") if "card" in c.classes()
    }
    assert list(cards) == ["mae", "rmse", "mape", "r2"]
    assert "worse" in cards["rmse"].classes() and "worse" in cards["r2"].classes()
    assert "better" in cards["mape"].classes()
    assert "+0.4" in cards["rmse"].text()
    assert not [f for f in section.iter("figure")]
    verdict = next(n for n in doc.iter("p") if "verdict" in n.classes()).text()
    assert verdict.endswith("rmse 2 → 2.4")


def test_two_hundred_columns_stay_small() -> None:
    numeric = [f"num_{i}" for i in range(100)]
    categorical = [f"cat_{i}" for i in range(100)]
    big = make_report(
        numeric,
        categorical,
        categories=[f"category value {i}" for i in range(20)] + ["(other)"],
        drifted={f"num_{i}" for i in range(0, 100, 3)},
    )
    for entry in big["columns"].values():  # numeric charts with 80 bins
        if entry["kind"] == "numeric":
            edges = np.linspace(-4, 4, 81)
            entry["chart"] = {
                "type": "histogram",
                "edges": edges.tolist(),
                "reference": np.full(80, 1 / 80).tolist(),
                "current": (np.arange(80) / np.arange(80).sum()).tolist(),
            }
        elif entry["kind"] == "categorical":
            entry["chart"]["reference"] = [1 / 21] * 21
            entry["chart"]["current"] = [1 / 21] * 21
    started = time.perf_counter()
    page = render_html(big)
    elapsed = time.perf_counter() - started
    size = len(page.encode("utf-8"))
    assert size < 5_000_000, size
    assert elapsed < 10, elapsed
    assert len(list(parse(page).iter("svg"))) == 201 + 2


# --------------------------------------------------------------------------------------------
# Charts
# --------------------------------------------------------------------------------------------


def test_number_formats() -> None:
    assert charts.format_number(1_000_000) == "1,000,000"
    assert charts.format_number(0.314159) == "0.3142"
    assert charts.format_number(12345.6) == "12,346"
    assert charts.format_number(1.5e-9) == "1.500e-9"
    assert charts.format_share(0.28) == "28%"
    assert charts.format_share(0.05) == "5.0%"
    assert charts.format_share(0.000012) == "0.0012%"
    assert charts.nice_ticks(0, 0.33, 4) == [0.0, 0.1, 0.2, 0.3]
    assert charts.nice_ticks(-4.1, 4.3) == [-4.0, -2.0, 0.0, 2.0, 4.0]


def test_histogram_with_unequal_bins_draws_densities() -> None:
    svg = charts.histogram_svg([0, 1, 10], [0.5, 0.5], None, label="x")
    doc = parse("<!DOCTYPE html>" + svg)
    assert "density" in doc.text() and "current" not in doc.text()
    tips = [t.text() for t in doc.iter("title")]
    assert "[0, 1): reference 50%" in tips and "[1, 10]: reference 50%" in tips


def test_constant_column_histogram() -> None:
    svg = charts.histogram_svg([5.0, 5.0], [1.0], [0.9], label="constant")
    assert 'class="ref"' in svg and "[5, 5]: reference 100%, current 90%" in svg


@pytest.mark.parametrize(
    ("edges", "reference", "message"),
    [
        ([0, 1], [0.5, 0.5], "expected 1"),
        ([1, 0], [1.0], "decrease"),
        ([0, None], [1.0], "non-number"),
    ],
)
def test_histogram_rejects_bad_input(edges: list[Any], reference: list[Any], message: str) -> None:
    with pytest.raises(charts.ChartError, match=message):
        charts.histogram_svg(edges, reference, None)


def test_chart_numbers_are_compact() -> None:
    svg = charts.histogram_svg(np.linspace(0, 1, 51).tolist(), [1 / 50] * 50, [1 / 50] * 50)
    numbers = re.findall(r"\d+\.\d+", svg)
    assert numbers and all(len(n.split(".")[1]) <= 4 for n in numbers)
    assert len(svg) < 20_000
