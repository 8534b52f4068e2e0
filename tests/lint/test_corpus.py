"""The labelled corpus: precision and recall of all rules must both be 1.0."""

from __future__ import annotations

from lint_labels import CORPUS, expected

from flowc.lint import lint_source


def test_corpus_size() -> None:
    files = sorted(CORPUS.glob("*.py"))
    bad = [f for f in files if f.name.startswith("bad_")]
    good = [f for f in files if f.name.startswith("good_")]
    assert len(files) >= 40 and len(bad) >= 20 and len(good) >= 20
    for file in bad:
        assert expected(file.read_text()), file.name
    for file in good:
        assert not expected(file.read_text()), file.name


def test_precision_and_recall() -> None:
    tp = fp = fn = 0
    wrong = []
    for file in sorted(CORPUS.glob("*.py")):
        source = file.read_text()
        want = expected(source)
        got = {(f.line, f.code) for f in lint_source(source, str(file)).findings}
        tp += len(want & got)
        fp += len(got - want)
        fn += len(want - got)
        if want != got:
            wrong.append((file.name, sorted(want - got), sorted(got - want)))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    assert (precision, recall) == (1.0, 1.0), wrong
