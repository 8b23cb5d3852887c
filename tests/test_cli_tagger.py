"""`seqrnn tag train|evaluate|predict` from the command line, bad input included."""

import json

import pytest

from seqrnn.cli import main
from seqrnn.data.conll import TaggedSentence
from tests.tag_data import toy_sentences, write_conll

FLAGS = ["--hidden-size", "16", "--word-dim", "16", "--char-hidden", "8", "--char-dim", "8",
         "--batch-size", "8", "--lr", "0.01", "--lr-schedule", "constant", "--epochs", "6",
         "--amp", "off", "--quiet"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("tagcli")
    for name, count, seed in (("train", 120, 1), ("val", 30, 2), ("test", 30, 3)):
        write_conll(root / f"{name}.txt", toy_sentences(count, seed))
    status = main(["tag", "train", "--data", str(root / "train.txt"), "--validation",
                   str(root / "val.txt"), "--test", str(root / "test.txt"), "--scheme", "iob2",
                   "--out", str(root / "run"), *FLAGS])
    assert status == 0
    return root


def test_train_evaluate_and_predict(run, capsys, monkeypatch):
    capsys.readouterr()
    assert main(["tag", "evaluate", "--model", str(run / "run")]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["f1"] == 1.0 and scored["split"] == "test"
    assert main(["tag", "predict", "--model", str(run / "run"), "John saw Rome ."]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["tags"] == ["B-PER", "O", "B-LOC", "O"]
    assert main(["tag", "predict", "--model", str(run / "run"), "--tokens",
                 '["Mary", "saw", "New", "York"]']) == 0
    assert [s["text"] for s in json.loads(capsys.readouterr().out)["spans"]] == [
        "Mary", "New York"]


@pytest.mark.parametrize("lines, fragment", [
    ('{"tokens": 3}', "input line 1: give a list of tokens"),
    ("[1, 2", "input line 1: not JSON"),
])
def test_bad_token_lines_are_one_line(run, capsys, lines, fragment):
    assert main(["tag", "predict", "--model", str(run / "run"), "--tokens", lines]) != 0
    err = capsys.readouterr().err
    assert fragment in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("text, fragment", [
    ("John NNP B-PER\nsaw\n", "line 2"),
    ("John B-PER\nRome E-LOC\n", "'E-LOC' is not one of the iob2 tags"),
])
def test_bad_training_files_are_one_line_and_write_nothing(tmp_path, capsys, text, fragment):
    path = tmp_path / "bad.txt"
    path.write_text(text)
    status = main(["tag", "train", "--data", str(path), "--validation", str(path), "--out",
                   str(tmp_path / "run"), *FLAGS])
    err = capsys.readouterr().err
    assert status != 0 and fragment in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and not (tmp_path / "run").exists()


def test_a_missing_corpus_says_where_it_is_expected(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SEQRNN_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    status = main(["tag", "train", "--data", "conll2000", "--out", str(tmp_path / "run"),
                   *FLAGS])
    err = capsys.readouterr().err
    assert status != 0 and "conll2000.zip not found in" in err
    assert len(err.strip().splitlines()) == 1


def _viterbi(emissions, start, transitions, end, allowed_start, allowed, allowed_end):
    """Numpy Viterbi over one sentence's emissions, as a runtime beside the graph decodes."""
    import numpy as np

    forbid = np.where
    score = forbid(allowed_start, np.asarray(start) + emissions[0], -np.inf)
    trans = forbid(allowed, np.asarray(transitions), -np.inf)
    back = []
    for row in emissions[1:]:
        total = score[:, None] + trans
        back.append(total.argmax(0))
        score = total.max(0) + row
    path = [int((score + forbid(allowed_end, np.asarray(end), -np.inf)).argmax())]
    for pointers in reversed(back):
        path.append(int(pointers[path[-1]]))
    return path[::-1]


def test_export_writes_the_emissions_graph_and_what_viterbi_needs(run, capsys):
    import numpy as np
    import onnxruntime as ort

    from seqrnn.api.tagger import Tagger

    out = run / "t.onnx"
    assert main(["export", "--model", str(run / "run"), "--out", str(out)]) == 0
    meta = json.loads((run / "t.onnx.json").read_text())
    tagger = Tagger.load(run / "run")
    words = ["Mary", "saw", "Ada", "Lovelace", "."]
    vocab, chars = tagger.vocab.words, tagger.vocab.chars
    feeds = {"words": np.array([vocab.encode([w.lower() for w in words])]),
             "chars": np.zeros((1, 5, 8), dtype=np.int64),
             "features": np.zeros((1, 5, 0), dtype=np.int64),
             "mask": np.ones((1, 5), dtype=bool)}
    for j, w in enumerate(words):
        feeds["chars"][0, j, : len(w)] = chars.encode(list(w))
    session = ort.InferenceSession(str(out))
    assert [i.name for i in session.get_inputs()] == ["words", "chars", "mask"]  # no features
    emissions = session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})[0][0]
    d = meta["decoding"]
    path = _viterbi(emissions, d["start"], d["transitions"], d["end"], d["allowed_start"],
                    d["allowed"], d["allowed_end"])
    assert [meta["tags"]["tags"][i] for i in path] == tagger.predict([words])[0]["tags"] == [
        "B-PER", "O", "B-PER", "I-PER", "O"]


def test_served_tagger_answers_spans_and_refuses_bad_requests(run):
    from fastapi.testclient import TestClient

    from seqrnn.configs import ServeLimits
    from seqrnn.serve.app import create_app

    client = TestClient(create_app(runs=[run / "run"], limits=ServeLimits(max_tag_chars=40)))
    health = client.get("/api/health").json()
    assert health["models"]["tag"] and health["tag_features"] == 0
    body = client.post("/api/tag", json={"sentences": ["John saw Rome .",
                                                       ["Mary", "saw", "New", "York"]]}).json()
    assert [[s["text"] for s in r["spans"]] for r in body["results"]] == [
        ["John", "Rome"], ["Mary", "New York"]]
    long = client.post("/api/tag", json={"sentences": ["John saw Rome and Paris " * 3]})
    assert long.status_code == 422 and "--max-tag-chars" in long.json()["error"]
    empty = client.post("/api/tag", json={"sentences": [""]})
    assert empty.status_code == 422 and empty.json()["field"] == "sentences"
    one = client.post("/api/tag", json={"sentences": "John"})  # the schema's own check
    assert one.status_code == 422 and one.json()["error"].startswith("sentences:")


@pytest.fixture(scope="module")
def lm_run(run):
    lm_flags = ["--text", str(run / "lm.txt"), "--hidden-size", "12", "--batch-size", "4",
                "--num-steps", "16", "--max-steps", "6", "--sample-length", "0", "--quiet"]
    (run / "lm.txt").write_text("".join(" ".join(s[0]) + "\n" for s in toy_sentences(40, 1)))
    assert main(["charlm", "train", "--out", str(run / "fwd"), *lm_flags]) == 0
    assert main(["charlm", "train", "--out", str(run / "bwd"), "--reverse", *lm_flags]) == 0
    assert main(["tag", "train", "--data", str(run / "train.txt"), "--validation",
                 str(run / "val.txt"), "--char-lm", str(run / "fwd"), "--char-lm-backward",
                 str(run / "bwd"), "--out", str(run / "lmrun"), *FLAGS, "--max-steps",
                 "5"]) == 0
    return run / "lmrun"


def test_export_of_a_tagger_with_character_lms_takes_the_sentence_as_they_read_it(
        lm_run, capsys):
    import numpy as np
    import onnxruntime as ort
    import torch

    from seqrnn.api.tagger import Tagger
    from seqrnn.recipes.tagger import Encoded

    out = lm_run.parent / "lm.onnx"
    assert main(["export", "--model", str(lm_run), "--out", str(out)]) == 0
    meta = json.loads(out.with_name("lm.onnx.json").read_text())
    tagger = Tagger.load(lm_run)
    words = ["Mary", "saw", "Rome", "."]
    chars = sorted(meta["lm_chars"])
    feeds = {"words": np.array([tagger.vocab.words.encode([w.lower() for w in words])]),
             "chars": np.zeros((1, 4, 4), dtype=np.int64), "mask": np.ones((1, 4), dtype=bool),
             # " Mary saw Rome . ": words from 1, 6, 10, 15 to 4, 8, 13, 15
             "lm_chars": np.array([[chars.index(c) for c in " Mary saw Rome . "]]),
             "lm_first": np.array([[1, 6, 10, 15]]), "lm_last": np.array([[4, 8, 13, 15]])}
    for j, w in enumerate(words):
        feeds["chars"][0, j, : len(w)] = tagger.vocab.chars.encode(list(w))
    session = ort.InferenceSession(str(out))
    got = session.run(None, {i.name: feeds[i.name] for i in session.get_inputs()})[0][0]
    sentence = TaggedSentence(tuple(words), ("O",) * 4, ())
    inputs, _ = Encoded([sentence], tagger.vocab, tagger.data, "input",
                        with_tags=False).tensors(np.array([0]))
    with torch.no_grad():
        expected = tagger.models[0](*inputs)[0]
    np.testing.assert_allclose(got, expected.numpy(), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("flags, fragment", [
    (["--char-lm", "no-such-run"], "no-such-run"),
    (["--char-lm", "BWD"], "--char-lm BWD was trained on text reversed: give one trained "
     "without charlm train --reverse"),
])
def test_bad_character_lms_are_one_line_and_write_nothing(lm_run, tmp_path, capsys, flags,
                                                          fragment):
    flags = [f.replace("BWD", str(lm_run.parent / "bwd")) for f in flags]
    fragment = fragment.replace("BWD", str(lm_run.parent / "bwd"))
    status = main(["tag", "train", "--data", str(lm_run.parent / "train.txt"), *flags,
                   "--out", str(tmp_path / "x"), *FLAGS])
    err = capsys.readouterr().err
    assert status == 2 and fragment in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
