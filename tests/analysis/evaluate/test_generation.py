"""BLEU and chrF against sacreBLEU, ROUGE against a reference written from Lin (2004)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import sacrebleu

from telltale.analysis.evaluate import evaluate


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").rstrip("\n").split("\n")


CASES = {
    "ted": (
        "ted_multi/ted_multi_slk_eng-dataset.tsv",
        {
            "nmt": "ted_multi/ted_multi_slk_eng-nmt-output.txt",
            "pbmt": "ted_multi/ted_multi_slk_eng-pbmt-output.txt",
        },
    ),
    "cnndm": ("cnndm/cnndm_mini-dataset.tsv", {"bart": "cnndm/cnndm_mini-bart-output.txt"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bleu_and_chrf_equal_sacrebleu(outputs: Path, case: str) -> None:
    data, systems = CASES[case]
    result = evaluate(
        "generation", outputs / data, {k: outputs / v for k, v in systems.items()}, n_bootstrap=100
    )
    references = [line.split("\t")[1] for line in _lines(outputs / data)]
    for name, path in systems.items():
        hypotheses = _lines(outputs / path)
        overall = result.to_dict()["systems"][name]["overall"]
        bleu = sacrebleu.BLEU(force=True).corpus_score(hypotheses, [references]).score
        chrf = sacrebleu.CHRF().corpus_score(hypotheses, [references]).score
        assert round(overall["bleu"]["value"], 4) == round(bleu, 4)
        assert overall["bleu"]["value"] == pytest.approx(bleu, abs=1e-9)
        assert round(overall["chrf"]["value"], 4) == round(chrf, 4)
        assert overall["chrf"]["value"] == pytest.approx(chrf, abs=1e-9)
        assert overall["bleu"]["ci"][0] < overall["bleu"]["value"] < overall["bleu"]["ci"][1]


def _tokens(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).split()


def _lcs(a: list[str], b: list[str]) -> int:
    table = np.zeros((len(a) + 1, len(b) + 1), dtype=int)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            table[i, j] = (
                table[i - 1, j - 1] + 1
                if a[i - 1] == b[j - 1]
                else max(table[i - 1, j], table[i, j - 1])
            )
    return int(table[-1, -1])


def _f(overlap: int, hyp: int, ref: int) -> float:
    if overlap == 0:
        return 0.0
    p, r = overlap / hyp, overlap / ref
    return 2 * p * r / (p + r)


def _rouge_n(h: list[str], r: list[str], n: int) -> float:
    hg = [tuple(h[i : i + n]) for i in range(len(h) - n + 1)]
    rg = [tuple(r[i : i + n]) for i in range(len(r) - n + 1)]
    overlap = sum(min(hg.count(g), rg.count(g)) for g in set(hg))
    return _f(overlap, len(hg), len(rg))


def test_rouge_equals_reference_on_cnndm(outputs: Path) -> None:
    data, systems = CASES["cnndm"]
    result = evaluate(
        "summarization", outputs / data, {"bart": outputs / systems["bart"]}, n_bootstrap=0
    )
    references = [line.split("\t")[1] for line in _lines(outputs / data)]
    hypotheses = _lines(outputs / systems["bart"])
    pairs = [(_tokens(h), _tokens(r)) for h, r in zip(hypotheses, references, strict=True)]
    expected = {
        "rouge1": np.mean([_rouge_n(h, r, 1) for h, r in pairs]),
        "rouge2": np.mean([_rouge_n(h, r, 2) for h, r in pairs]),
        "rougeL": np.mean([_f(_lcs(h, r), len(h), len(r)) for h, r in pairs]),
    }
    overall = result.to_dict()["systems"]["bart"]["overall"]
    for name, value in expected.items():
        assert overall[name]["value"] == pytest.approx(value, abs=1e-12)


def test_bucket_bleu_is_corpus_bleu_of_the_bucket(outputs: Path) -> None:
    data, systems = CASES["ted"]
    result = evaluate(
        "generation",
        outputs / data,
        {"nmt": outputs / systems["nmt"]},
        n_bootstrap=0,
        features=["reference_length"],
    )
    references = [line.split("\t")[1] for line in _lines(outputs / data)]
    hypotheses = _lines(outputs / systems["nmt"])
    for row in result.to_dict()["systems"]["nmt"]["buckets"]["reference_length"]:
        rows = result.indices("nmt", "reference_length", row["bucket"])
        expected = (
            sacrebleu.BLEU(force=True)
            .corpus_score([hypotheses[i] for i in rows], [[references[i] for i in rows]])
            .score
        )
        assert row["bleu"] == pytest.approx(expected, abs=1e-9)
