import json

import numpy as np
import pytest
import torch

from seqrnn.api.charlm import LanguageModel
from seqrnn.api.export import export
from seqrnn.api.sentiment import SentimentClassifier
from seqrnn.configs import CharLMConfig, SentimentConfig, WordLMConfig
from seqrnn.data.text import CharVocab
from seqrnn.data.tokenize import tokenize
from seqrnn.models.charlm import CharLM
from seqrnn.models.finetuned import LMClassifier
from seqrnn.run import BEST_WEIGHTS, LABELS_FILE, VOCAB_FILE, RunFolder
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
