"""Bad input gets a DataError/ConfigError naming the file, the line or sentence, and the fix."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from telltale.analysis.evaluate import evaluate
from telltale.analysis.evaluate.readers import (
    read_conll,
    read_json_records,
    read_record_lines,
    read_tsv,
)
from telltale.errors import ConfigError, DataError


def test_misaligned_chunking_names_the_first_differing_sentence(outputs: Path) -> None:
    folder = outputs / "chunking"
    with pytest.raises(DataError) as caught:
        evaluate(
            "chunking",
            folder / "dataset-test-conll00.tsv",
            {"crf": folder / "test-conll00-predictions.tsv"},
            n_bootstrap=0,
        )
    message = str(caught.value)
    assert "test-conll00-predictions.tsv" in message and "does not line up" in message
    match = re.search(r"sentence (\d+) \(gold line (\d+), system line (\d+)\)", message)
    assert match is not None
    sentence = int(match.group(1))
    gold = read_conll(folder / "dataset-test-conll00.tsv").sentences
    system = read_conll(folder / "test-conll00-predictions.tsv").sentences
    first_differing = next(
        i for i, (g, s) in enumerate(zip(gold, system, strict=False)) if g.tokens != s.tokens
    )
    assert sentence == first_differing + 1
    assert "gold '#'" in message  # the dropped token is named
    assert caught.value.details["sentence"] == sentence


def test_toy_ner_output_with_unknown_label_and_crlf(artifacts: Path) -> None:
    folder = artifacts / "ner"
    # the 4-sentence gold file has no ORG entity, so the output's B-ORG is unknown at first
    with pytest.raises(DataError, match=r"sentence 1, line 8, token 8 'CHINA': tag 'B-ORG'"):
        evaluate("ner", folder / "dataset.tsv", {"toy": folder / "output.tsv"}, n_bootstrap=0)
    labels = ["LOC", "MISC", "ORG", "PER"]
    with pytest.raises(DataError) as caught:
        evaluate(
            "ner",
            folder / "dataset.tsv",
            {"toy": folder / "output.tsv"},
            n_bootstrap=0,
            labels=labels,
        )
    message = str(caught.value)
    assert "'B-LOG'" in message and "'LOG'" in message and "unknown_labels='keep'" in message
    assert re.search(r"sentence 3, line 19, token 3 'United'", message), message


def test_toy_ner_output_invalid_bio_strict_and_lenient(artifacts: Path) -> None:
    folder = artifacts / "ner"
    with pytest.raises(
        DataError, match=r"sentence 3, line 20, token 4 'Arab': I-LOC follows B-LOG"
    ):
        evaluate(
            "ner",
            folder / "dataset.tsv",
            {"toy": folder / "output.tsv"},
            n_bootstrap=0,
            unknown_labels="keep",
        )
    result = evaluate(
        "ner",
        folder / "dataset.tsv",
        {"toy": folder / "output.tsv"},
        n_bootstrap=0,
        unknown_labels="keep",
        tagging="lenient",
    )
    from seqeval.metrics import f1_score

    gold = [s.tags for s in read_conll(folder / "dataset.tsv").sentences]
    predicted = [s.tags for s in read_conll(folder / "output.tsv").sentences]
    assert result.to_dict()["systems"]["toy"]["overall"]["f1"]["value"] == pytest.approx(
        f1_score(gold, predicted), abs=1e-12
    )
    assert any("repaired as conlleval does" in note for note in result.notes)


def test_conll_reader_tolerates_crlf_docstart_and_blank_runs(tmp_path: Path) -> None:
    path = tmp_path / "gold.conll"
    path.write_bytes(
        b"-DOCSTART- O\r\n\r\nEU\tB-ORG\r\nrejects\tO\r\n\r\n\r\n\r\nPeter NNP B-PER\r\n"
    )
    document = read_conll(path)
    assert [s.tokens for s in document.sentences] == [["EU", "rejects"], ["Peter"]]
    assert [s.tags for s in document.sentences] == [["B-ORG", "O"], ["B-PER"]]
    assert [s.first_line for s in document.sentences] == [3, 8]
    assert document.n_docstart == 1


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        (b"", r"gold file .* is empty \(0 bytes\)"),
        (b"\n\n  \n", r"is empty \(only whitespace\)"),
        (b"EU\tB-ORG\nrejects\n", r"line 2: expected a token and a tag"),
        (b"EU\tB-ORG\n\xff\n", r"not UTF-8: byte 0xff on line 2"),
        (b"EU\tORG\n", r"line 1, token 1 'EU': 'ORG' is not a BIO/BIOES tag"),
    ],
)
def test_bad_conll_files(tmp_path: Path, content: bytes, pattern: str) -> None:
    gold = tmp_path / "gold.conll"
    gold.write_bytes(content)
    with pytest.raises(DataError, match=pattern):
        evaluate("ner", gold, {"s": gold}, n_bootstrap=0)


def test_tsv_and_label_files(tmp_path: Path) -> None:
    data = tmp_path / "data.tsv"
    data.write_bytes(b"good film\tpositive\r\nbad\tnegative\r\n\r\n")
    assert read_tsv(data, ("text", "label")) == {
        "text": ["good film", "bad"],
        "label": ["positive", "negative"],
    }
    data.write_text("good film\tpositive\nbad film negative\n")
    with pytest.raises(DataError, match=r"line 2 has 1 tab-separated field but 2 are expected"):
        read_tsv(data, ("text", "label"))
    labels = tmp_path / "out.txt"
    labels.write_text("positive\n\nnegative\n")
    with pytest.raises(DataError, match=r"out.txt' line 2 is empty"):
        read_record_lines(labels)
    labels.write_text("positive\nnegative")  # no trailing newline
    assert read_record_lines(labels) == ["positive", "negative"]


def test_prediction_count_and_unknown_labels(artifacts: Path, tmp_path: Path) -> None:
    folder = artifacts / "text_pair_classification"
    result = evaluate(
        "text-pair", folder / "dataset-snli.tsv", {"s": folder / "output.txt"}, n_bootstrap=0
    )
    assert result.n_examples == 5  # the output has no trailing newline
    short = tmp_path / "short.txt"
    short.write_text("entailment\n")
    with pytest.raises(DataError, match=r"has 1 predictions but the data .* has 5 examples"):
        evaluate("text-pair", folder / "dataset-snli.tsv", {"s": short}, n_bootstrap=0)
    typo = tmp_path / "typo.txt"
    typo.write_text("entailment\nentailment\nentailmnt\nneutral\ncontradiction\n")
    with pytest.raises(DataError, match=r"typo.txt' record 3 .* predicts 'entailmnt'"):
        evaluate("text-pair", folder / "dataset-snli.tsv", {"s": typo}, n_bootstrap=0)


def test_json_layouts(artifacts: Path, outputs: Path, tmp_path: Path) -> None:
    listed = read_json_records(artifacts / "text_classification" / "dataset.json")
    assert len(listed.records) == 7 and listed.records[0]["true_label"] == "positive"
    examples = read_json_records(artifacts / "text_classification" / "output_user_metadata.json")
    assert examples.metadata["task_name"] == "text-classification"
    bad = tmp_path / "bad.json"
    bad.write_text('{"examples": [{"predicted_label": "a"},]}')
    with pytest.raises(DataError, match=r"bad.json' is not valid JSON at line 1"):
        read_json_records(bad)


def test_configuration_errors(artifacts: Path) -> None:
    folder = artifacts / "ner"
    with pytest.raises(ConfigError, match=r"task='pos' is not a known task"):
        evaluate("pos", folder / "dataset.tsv", {"s": folder / "dataset.tsv"})
    with pytest.raises(ConfigError, match=r"tagging='loose' is not one of"):
        evaluate("ner", folder / "dataset.tsv", {"s": folder / "dataset.tsv"}, tagging="loose")
    with pytest.raises(ConfigError, match=r"unknown feature\(s\) \['colour'\]"):
        evaluate("ner", folder / "dataset.tsv", {"s": folder / "dataset.tsv"}, features=["colour"])
    with pytest.raises(ConfigError, match=r"n_bootstrap=-1"):
        evaluate("ner", folder / "dataset.tsv", {"s": folder / "dataset.tsv"}, n_bootstrap=-1)
