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
from seqrnn.errors import UserError
from seqrnn.kinds import LABELS_FILE, VOCAB_FILE
from seqrnn.models.charlm import CharLM
from seqrnn.models.finetuned import LMClassifier
from seqrnn.run import BEST_WEIGHTS, RunFolder
from tests.test_api_sentiment import SMALL, reviews
from tests.test_api_wordlm import save_wordlm

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


@pytest.mark.parametrize("options", [{"num_layers": 1}, {"num_layers": 3, "cutoffs": (4, 9)},
                                     {"tie_weights": False, "cutoffs": (6,)}])
def test_a_runtime_steps_the_exported_word_model_as_torch_does(tmp_path, options):
    lm = save_wordlm(tmp_path / "run", **options)
    meta = export(tmp_path / "run", tmp_path / "words.onnx")
    assert json.loads((tmp_path / "words.onnx.json").read_text()) == meta
    assert meta["kind"] == "wordlm" and meta["vocab"] == lm.vocab.to_dict()
    session = ort.InferenceSession(str(tmp_path / "words.onnx"))
    layers = lm.model.encoder.layers
    ids = torch.tensor([lm.vocab.encode(["the", "cat", "sat", "on"]),
                        lm.vocab.encode(["a", "dog", "ran", "to"])])  # (2, 4)
    feeds = {"ids": ids.numpy(), **{f"{part}{k}": np.zeros((1, 2, layer.lstm.hidden_size),
                                                           dtype=np.float32)
                                    for k, layer in enumerate(layers) for part in "hc"}}
    assert list(meta["inputs"]) == list(feeds)
    with torch.no_grad():
        hidden, state = lm.model(ids)
        expected = lm.model.log_probs(hidden.reshape(8, -1)).reshape(2, 4, -1)
        outputs = session.run(None, feeds)
        np.testing.assert_allclose(outputs[0], expected.numpy(), atol=1e-5)
        np.testing.assert_allclose(np.exp(outputs[0]).sum(-1), 1, atol=1e-5)
        step = torch.tensor([[3], [5]])  # one more word each, from the runtime's state
        hidden, _ = lm.model(step, state)
        feeds = {"ids": step.numpy(), **dict(zip(list(feeds)[1:], outputs[1:], strict=True))}
        np.testing.assert_allclose(session.run(None, feeds)[0][:, 0],
                                   lm.model.log_probs(hidden[:, 0]).numpy(), atol=1e-5)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory):
    root = tmp_path_factory.mktemp("export-seq2seq")
    words = [a + b + c for a in "abcd" for b in "abcd" for c in "abcd"]
    (root / "pairs.tsv").write_text("source\ttarget\n" + "".join(
        f"{w}\t{' '.join(reversed(w))}\n" for w in words), encoding="utf-8")
    return root / "pairs.tsv"


def only_inputs(session, feeds: dict) -> dict:
    """The feeds the graph takes (a decoder without attention takes no memory)."""
    return {i.name: feeds[i.name] for i in session.get_inputs()}


def greedy_onnx(encoder, decoder, source, steps):
    """Greedy decoding with the two graphs, as a runtime would: the ids written."""
    memory, mask, *state = encoder.run(None, {"source": source})
    previous, written = np.full((len(source), 1), 1, dtype=np.int64), []  # <s>
    for _ in range(steps):
        names = ["h", "c"][: len(state)]
        out = decoder.run(None, only_inputs(decoder, {
            "previous": previous, "memory": memory, "mask": mask,
            **dict(zip(names, state, strict=True))}))
        previous = out[0][:, -1].argmax(-1).reshape(-1, 1)
        state = out[1 : 1 + len(names)]
        written.append(previous[:, 0])
    return np.stack(written, axis=1)


@pytest.mark.parametrize("options", [
    {}, {"cell": "gru", "attention": "dot", "bidirectional": False, "num_layers": 2},
    {"cell": "rnn", "attention": "none"}])
def test_a_runtime_transduces_with_the_exported_encoder_and_decoder_step(tmp_path, pairs,
                                                                        options):
    from seqrnn.api.seq2seq import Transducer
    from seqrnn.configs import Seq2SeqData, TrainConfig
    from seqrnn.recipes import base, seq2seq

    base.start(seq2seq.RECIPE, Seq2SeqData(data=str(pairs), batch_size=8),
               {"hidden_size": 12, "embedding_dim": 6, "dropout": 0.0, **options},
               TrainConfig(max_steps=3, lr=1e-2, progress=False, seed=3, threads=1),
               tmp_path / "run")
    meta = export(tmp_path / "run", tmp_path / "g2p.onnx")
    assert meta["kind"] == "seq2seq" and meta["decoder"]["onnx"] == "g2p.decoder.onnx"
    assert ("attention" in meta["decoder"]["outputs"]) == (options.get("attention") != "none")
    transducer = Transducer.load(tmp_path / "run")
    model = transducer.model
    encoder = ort.InferenceSession(str(tmp_path / "g2p.onnx"))
    decoder = ort.InferenceSession(str(tmp_path / "g2p.decoder.onnx"))
    source = torch.tensor([transducer.encode_source(w) + [0] * (4 - len(w))
                           for w in ("abcd", "db", "cca")])  # right-padded, of three lengths
    with torch.no_grad():
        memory, mask, state = model.encode(source)
        outputs = encoder.run(None, {"source": source.numpy()})
        np.testing.assert_allclose(outputs[0], memory.numpy(), atol=1e-5)
        assert (outputs[1] == mask.numpy()).all()
        for mine, theirs in zip(outputs[2:], state if isinstance(state, tuple) else [state],
                                strict=True):
            np.testing.assert_allclose(mine, theirs.numpy(), atol=1e-5)
        previous = torch.tensor([[1, 5, 6], [1, 4, 4], [1, 6, 5]])  # teacher-forced steps
        logits, _, weights = model.decode(previous, state, memory, mask)
        names = ["h", "c"][: len(outputs) - 2]
        assert [i.name for i in decoder.get_inputs()] == list(meta["decoder"]["inputs"])
        out = decoder.run(None, only_inputs(decoder, {
            "previous": previous.numpy(), "memory": outputs[0], "mask": outputs[1],
            **dict(zip(names, outputs[2:], strict=True))}))
        np.testing.assert_allclose(out[0], logits.numpy(), atol=1e-5)
        if weights is not None:
            np.testing.assert_allclose(out[-1], weights.numpy(), atol=1e-5)
    expected = transducer.predict_ids(["abcd", "db", "cca"])
    written = greedy_onnx(encoder, decoder, source.numpy(), max(map(len, expected)) + 1)
    for ids, mine in zip(written.tolist(), expected, strict=True):
        assert ids[: len(mine)] == mine  # then </s> (2), unless decoding met its limit
        assert ids[len(mine)] == 2 or len(mine) == transducer.data.max_length + 1


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


def test_the_decoder_graph_of_an_encoder_decoder_is_never_replaced_unasked(tmp_path, pairs):
    from seqrnn.configs import Seq2SeqData, TrainConfig
    from seqrnn.recipes import base, seq2seq

    base.start(seq2seq.RECIPE, Seq2SeqData(data=str(pairs), batch_size=8),
               {"hidden_size": 8, "embedding_dim": 4, "dropout": 0.0},
               TrainConfig(max_steps=1, progress=False, threads=1), tmp_path / "run")
    (tmp_path / "g2p.decoder.onnx").write_text("mine")
    with pytest.raises(UserError, match="g2p.decoder.onnx already exists"):
        export(tmp_path / "run", tmp_path / "g2p.onnx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g2p.decoder.onnx", "run"]
    meta = export(tmp_path / "run", tmp_path / "g2p.onnx", overwrite=True)
    assert (tmp_path / "g2p.decoder.onnx").read_bytes()[:4] != b"mine"
    assert json.loads((tmp_path / "g2p.onnx.json").read_text()) == meta
