"""The HTML page of `telltale evaluate`: self-contained, escaped, with charts — and rendered by a
real headless Chromium, which must lay the charts out and must not run a hostile label.

Hostile text (a label ``<script>…</script>``, a category ``<img onerror=…>``, a system named
``<b>bold</b>``) goes through every part of the page: findings, tables, chart labels, confusion
heatmaps, drill-down examples.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from markupsafe import escape

from telltale.analysis.evaluate import evaluate
from telltale.report.evaluation import interval_svg, render_evaluation_html

SCRIPT_LABEL = "<script>document.title='pwned'</script>"
IMG_CATEGORY = "<img src=x onerror=\"document.title='pwned'\">"
BOLD_SYSTEM = "<b>bold</b>"


@pytest.fixture(scope="module")
def hostile() -> Any:
    rng = np.random.default_rng(0)
    n = 3_000
    labels = np.array([SCRIPT_LABEL, "ok & fine", "third"])
    gold = labels[rng.integers(0, 3, n)]
    region = rng.choice(["north", IMG_CATEGORY, "south"], n)
    noisy = region == IMG_CATEGORY

    def system(accuracy: np.ndarray) -> np.ndarray:
        right = rng.random(n) < accuracy
        return np.where(right, gold, labels[rng.integers(0, 3, n)])

    table = pa.table(
        {
            "label": gold,
            "region": region,
            "age": rng.integers(18, 90, n).astype(float),
            BOLD_SYSTEM: system(np.where(noisy, 0.55, 0.9)),
            "plain": system(np.full(n, 0.8)),
        }
    )
    return evaluate(
        "tabular-classification",
        table,
        {BOLD_SYSTEM: BOLD_SYSTEM, "plain": "plain"},
        target="label",
        n_bootstrap=100,
        n_permutations=200,
    )


@pytest.fixture(scope="module")
def page(hostile: Any) -> str:
    return render_evaluation_html(hostile, title="Hostile <i>title</i>", data="a <b>path</b>")


def test_user_text_is_escaped_everywhere(page: str, hostile: Any) -> None:
    for raw in (SCRIPT_LABEL, IMG_CATEGORY, BOLD_SYSTEM, "<i>title</i>", "<b>path</b>"):
        assert raw not in page, raw
    assert page.count("<script") == 1  # the report's own script only
    assert "&lt;script&gt;document.title=" in page
    assert "&lt;img src=x onerror=" in page
    assert "&lt;b&gt;bold&lt;/b&gt;" in page
    # the hostile strings did reach every part: the findings, slices and examples name them
    assert any("<b>bold</b>" in f for f in hostile.findings)
    assert any(IMG_CATEGORY in s.description for s in hostile.slices)


def test_page_is_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    for external in ("http://", "https://", "<link", "@import", 'src="/', "src='/"):
        assert external not in page, external
    assert re.search(r"url\((?!data:)", page) is None
    assert "default-src 'none'" in page  # the CSP forbids fetching anything


def test_bucket_charts_show_every_system_side_by_side_with_intervals(
    page: str, hostile: Any
) -> None:
    data = hostile.to_dict()
    articles = re.findall(r'<article class="feature" id="[^"]*">(.*?)</article>', page, re.S)
    assert len(articles) == len(data["features"]) == 2  # region, age
    for (feature, _), article in zip(data["features"].items(), articles, strict=True):
        assert f"<h3>{feature} " in article
        rows = data["systems"]["plain"]["buckets"][feature]
        drawn = sum(row["accuracy"] is not None for row in rows)
        # one dot per system and bucket (plus the legend's one per system), one whisker each
        assert article.count('class="dot s0"') == drawn + 1
        assert article.count('class="dot s1"') == drawn + 1
        assert article.count('class="whisker s0"') == sum(r["ci"] is not None for r in rows)
        assert '<svg class="chart"' in article or "<svg" in article


def test_confusion_heatmaps_and_examples(page: str, hostile: Any) -> None:
    section = page[
        page.index('<section id="confusion">') : page.index(
            "</section>", page.index('<section id="confusion">')
        )
    ]
    assert section.count('<figure class="matrix">') == 2
    assert section.count("<svg") == 2
    examples = page[page.index('<section id="examples">') :]
    assert '<details class="examples"><summary>region</summary>' in examples
    assert '<details class="examples"><summary>slices</summary>' in examples
    assert examples.count('<tr class="wrong">') > 0
    # drill-down rows are the result's own examples, errors first, escaped
    wrong = [
        e for e in hostile.examples("plain", "region", "north") if e["gold"] != e["prediction"]
    ]
    first = f"{escape(wrong[0]['gold'])}</td><td>{escape(wrong[0]['prediction'])}"
    assert first in examples
    assert "&lt;script&gt;document.title=" in examples


def test_a_json_dict_renders_without_examples(hostile: Any) -> None:
    page = render_evaluation_html(json.loads(hostile.to_json()))
    assert '<section id="examples">' not in page
    assert '<section id="comparisons">' in page and '<section id="slices">' in page


def test_interval_chart_refuses_misshapen_input() -> None:
    from telltale.report.charts import ChartError

    with pytest.raises(ChartError, match="one list of values"):
        interval_svg(["a"], ["s"], [], [])
    with pytest.raises(ChartError, match="no finite value"):
        interval_svg(["a"], ["s"], [[None]], [[None]])


_PROBE = """
<script>
(function () {
  var out = {title: document.title, js: document.documentElement.classList.contains("js"),
             charts: [], dots: 0, colours: {}};
  document.querySelectorAll("svg").forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    out.charts.push([Math.round(box.width), Math.round(box.height)]);
  });
  document.querySelectorAll("#buckets circle.dot").forEach(function (dot) {
    var box = dot.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) { out.dots += 1; }
    out.colours[dot.getAttribute("class")] = getComputedStyle(dot).fill;
  });
  var pre = document.createElement("pre");
  pre.id = "probe";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("TELLTALE_REQUIRE_SERVERS"):
            pytest.fail("chromium is not installed (apt-get install chromium)", pytrace=False)
        pytest.skip("chromium not installed (apt-get install chromium)")
    return found


def test_chromium_renders_the_charts_and_runs_no_hostile_script(
    page: str, hostile: Any, tmp_path: Path
) -> None:
    chromium = _chromium()
    probed = page.replace("</body>", _PROBE + "</body>")
    path = tmp_path / "eval.html"
    path.write_text(probed, encoding="utf-8")
    common = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        # no connections out: this machine's network is closed, and the page needs none
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2000",
    ]
    done = subprocess.run(
        [*common, "--dump-dom", path.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<pre id="probe">(.*?)</pre>', done.stdout, re.S)
    assert match, done.stdout[-2000:]
    probe = json.loads(html.unescape(match.group(1)))
    assert probe["js"] is True  # the report's script ran
    assert probe["title"] == "Hostile <i>title</i>"  # no injected script changed it
    n_features = len(hostile.features)
    # every bucket chart, both heatmaps: laid out with a real size
    assert len(probe["charts"]) >= n_features + 2
    assert all(w > 100 and h > 50 for w, h in probe["charts"]), probe["charts"]
    buckets = hostile.to_dict()["systems"]["plain"]["buckets"]
    expected_dots = 2 * sum(
        sum(r["accuracy"] is not None for r in rows) + 1 for rows in buckets.values()
    )
    assert probe["dots"] == expected_dots
    # the systems' Okabe–Ito colours from evaluation.css reached the dots
    assert probe["colours"]["dot s0"] == "rgb(0, 114, 178)"
    assert probe["colours"]["dot s1"] == "rgb(230, 159, 0)"
    shot = tmp_path / "eval.png"
    done = subprocess.run(
        [*common, f"--screenshot={shot}", path.as_uri()], capture_output=True, timeout=120
    )
    assert done.returncode == 0 and shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_pairs_of_buckets_are_listed_in_the_comparison(page: str, hostile: Any) -> None:
    rows = hostile.to_dict()["comparisons"][0]["conjunctions"]
    assert rows  # region x age, both example features
    assert f"Every pair of buckets ({len(rows)} tests, adjusted as one family)" in page
    assert "region = &lt;img src=x onerror=" in page
