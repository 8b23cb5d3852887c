import json

import numpy as np
import pytest
import torch

from seqrnn.api.charlm import LanguageModel
from seqrnn.api.export import export
from seqrnn.api.sentiment import SentimentClassifier
from seqrnn.cli import main
from seqrnn.configs import CharLMConfig, SentimentConfig, WordLMConfig
from seqrnn.data.text import CharVocab
from seqrnn.data.tokenize import tokenize
from seqrnn.errors import UserError
from seqrnn.kinds import LABELS_FILE, VOCAB_FILE
from seqrnn.models.charlm import CharLM
from seqrnn.models.finetuned import LMClassifier
from seqrnn.run import BEST_WEIGHTS, RunFolder
from tests.test_api_sentiment import SMALL, reviews

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

VOCAB = CharVocab.from_text("abcdefghij .")


def save_charlm(path, **options) -> LanguageModel:
    torch.manual_seed(3)
    model = CharLM(CharLMConfig(vocab_size=len(VOCAB.chars), hidden_size=12, **options)).eval()
    run = RunFolder(path)
    run.create()
    run.write_json(VOCAB_FILE, VOCAB.to_dict())
    run.save_weights(BEST_WEIGHTS, model.state_dict(), step=-1)
    run.write_config("charlm", {**vars(model.config)})
    return LanguageModel(model, VOCAB)


@pytest.mark.parametrize("options", [
    {"cell": "lstm"}, {"cell": "gru", "num_layers": 2, "input": "embedding"},
    {"cell": "rnn", "num_layers": 2}, {"cell": "lstm", "impl": "explicit", "num_layers": 2},
])
def test_a_runtime_steps_the_exported_language_model_as_torch_does(tmp_path, options):
    lm = save_charlm(tmp_path / "run", **options)
    meta = export(tmp_path / "run", tmp_path / "lm.onnx")
    assert json.loads((tmp_path / "lm.onnx.json").read_text()) == meta
    assert meta["vocab"]["chars"] == list(VOCAB.chars) and meta["kind"] == "charlm"
    session = ort.InferenceSession(str(tmp_path / "lm.onnx"))
    lstm = lm.model.config.cell == "lstm"
    layers = lm.model.config.num_layers
    ids = torch.tensor(np.array([VOCAB.encode("abc dea"), VOCAB.encode("jjj.aaa")]))  # (2, 7)
    zeros = np.zeros((layers, 2, 12), dtype=np.float32)
    feeds = {"ids": ids.numpy(), "h": zeros, **({"c": zeros} if lstm else {})}
    with torch.no_grad():
        expected, state = lm.model(ids)
        outputs = session.run(None, feeds)
        np.testing.assert_allclose(outputs[0], expected.numpy(), atol=1e-5)
        # one more character each, from the state the runtime returned: stepping works
        step = torch.tensor([[4], [9]])
        expected, _ = lm.model(step, state)
        feeds = {"ids": step.numpy(), "h": outputs[1], **({"c": outputs[2]} if lstm else {})}
        np.testing.assert_allclose(session.run(None, feeds)[0], expected.numpy(), atol=1e-5)


def right_padded(clf, texts):
    ids = [clf.vocab_.encode(tokenize(text)) or [1] for text in texts]
    batch = np.zeros((len(ids), max(map(len, ids))), dtype=np.int64)
    for row, words in enumerate(ids):
        batch[row, : len(words)] = words
    return batch, np.array([len(words) for words in ids], dtype=np.int64)


@pytest.mark.parametrize("options", [{}, {"bidirectional": True, "head": "max"},
                                     {"cell": "gru", "head": "mean", "num_layers": 2},
                                     {"cell": "rnn", "impl": "explicit"},
                                     {"batching": "fixed", "seq_len": 6},
                                     {"batching": "fixed", "seq_len": 20, "head": "mean"}])
def test_a_runtime_classifies_as_torch_does(tmp_path, options):
    texts, labels = reviews()
    clf = SentimentClassifier(**{**SMALL, "epochs": 1, **options}).fit(texts, labels)
    clf.save(tmp_path / "run")
    meta = export(tmp_path / "run", tmp_path / "clf.onnx")
    assert meta["labels"] == {"negative": "neg", "positive": "pos"}
    session = ort.InferenceSession(str(tmp_path / "clf.onnx"))
    chosen = [*texts[:9], "great", ""]  # long and short reviews, one word and none
    ids, lengths = right_padded(clf, chosen)
    p_positive, _ = session.run(None, {"ids": ids, "lengths": lengths})
    np.testing.assert_allclose(p_positive, clf.predict_proba(chosen)[:, 1], atol=1e-5)


def test_a_fine_tuned_classifier_exports_too(tmp_path):
    torch.manual_seed(0)
    lm = WordLMConfig(vocab_size=30, embedding_dim=6, hidden_size=10, num_layers=2)
    model = LMClassifier(SentimentConfig(vocab_size=30, lm=lm)).eval()
    from seqrnn.data.vocab import WordVocab

    vocab = WordVocab.build([[f"w{i}" for i in range(28)]], min_freq=1)
    run = RunFolder(tmp_path / "run")
    run.create()
    run.write_json(VOCAB_FILE, vocab.to_dict())
    run.write_json(LABELS_FILE, {"negative": "neg", "positive": "pos"})
    run.save_weights(BEST_WEIGHTS, model.state_dict(), step=-1)
    from dataclasses import asdict

    run.write_config("sentiment", asdict(model.config))
    export(tmp_path / "run", tmp_path / "ft.onnx")
    ids = torch.tensor([[3, 4, 5, 6, 0], [7, 8, 9, 0, 0]])
    with torch.no_grad():
        expected = torch.sigmoid(model(ids)).numpy()
    out = ort.InferenceSession(str(tmp_path / "ft.onnx")).run(
        None, {"ids": ids.numpy(), "lengths": np.array([4, 3])})[0]
    np.testing.assert_allclose(out, expected, atol=1e-5)


def test_export_from_the_command_line_and_its_mistakes(tmp_path, capsys):
    save_charlm(tmp_path / "run")
    assert main(["export", "--model", str(tmp_path / "run"), "--out",
                 str(tmp_path / "m.onnx")]) == 0
    assert (tmp_path / "m.onnx").stat().st_size > 0 and (tmp_path / "m.onnx.json").exists()
    assert "inputs ids, h, c" in capsys.readouterr().err
    for args, message in [
        (["--out", str(tmp_path / "m.bin")], "should end in .onnx"),
        (["--out", str(tmp_path / "x.onnx"), "--weights", "latest"], "latest.safetensors"),
    ]:
        assert main(["export", "--model", str(tmp_path / "run"), *args]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "Traceback" not in err and len(err.splitlines()) == 1
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "config.json").write_text('{"format_version": 1, "kind": "wordlm", '
                                                 '"model": {}}')
    assert main(["export", "--model", str(tmp_path / "lm"), "--out", str(tmp_path / "w.onnx")]) == 2
    assert "holds a wordlm model; export takes" in capsys.readouterr().err
    assert not (tmp_path / "w.onnx").exists() and not (tmp_path / "x.onnx").exists()


def test_export_never_replaces_a_run_folders_own_files(tmp_path, capsys):
    run = tmp_path / "run"
    save_charlm(run)
    config = (run / "config.json").read_bytes()
    assert main(["export", "--model", str(run), "--out", str(run / "config.onnx")]) == 0
    assert (run / "config.json").read_bytes() == config  # the JSON went to config.onnx.json
    assert json.loads((run / "config.onnx.json").read_text())["kind"] == "charlm"
    capsys.readouterr()
    (tmp_path / "mine.json").write_text("my notes")  # the old sidecar name: no longer touched
    assert main(["export", "--model", str(run), "--out", str(tmp_path / "mine.onnx")]) == 0
    assert (tmp_path / "mine.json").read_text() == "my notes"


@pytest.mark.parametrize("existing", ["m.onnx", "m.onnx.json"])
def test_export_replaces_existing_files_only_when_asked(tmp_path, capsys, existing):
    save_charlm(tmp_path / "run")
    (tmp_path / existing).write_text("mine")
    argv = ["export", "--model", str(tmp_path / "run"), "--out", str(tmp_path / "m.onnx")]
    assert main(argv) == 2
    assert capsys.readouterr().err == (
        f"seqrnn: error: {tmp_path / existing} already exists: choose another --out, or pass "
        "--overwrite to replace it\n")
    assert (tmp_path / existing).read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == [existing, "run"]
    assert main([*argv, "--overwrite"]) == 0
    assert json.loads((tmp_path / "m.onnx.json").read_text())["onnx"] == "m.onnx"
    with pytest.raises(UserError, match="pass overwrite to replace it"):
        export(tmp_path / "run", tmp_path / "m.onnx")
