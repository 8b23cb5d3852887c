"""onnxruntime against torch on the exported models: classifying reviews, sampling characters.

    python bench/onnx_vs_torch.py [--sentiment RUN_DIR] [--charlm RUN_DIR] [--threads 1]

Needs the export extra (`pip install -e ".[export]"`).

Without run folders, the lecture's configurations with untrained weights (the speed does not
depend on the weights): a classifier with a 20,000-word vocabulary on the IMDb test reviews,
and the Hamlet language model. Prints one JSON object:

- `classify`: reviews per second of `SentimentClassifier.predict_proba` and of the exported
  graph in onnxruntime, on the same batches of 64 reviews (tokenised and cut to seq_len
  outside the timing), and the largest difference of their probabilities;
- `sample`: characters per second of one stream: onnxruntime stepping the exported graph one
  character at a time (top-5 sampling in numpy), torch's one-call-per-character
  `CharLM.generate`, and `LanguageModel.stream` (compiled).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from machine import describe

from seqrnn.api.charlm import LanguageModel
from seqrnn.api.export import export
from seqrnn.api.sentiment import SentimentClassifier
from seqrnn.configs import CharLMConfig, SentimentConfig
from seqrnn.data.text import CharVocab, load_text
from seqrnn.data.tokenize import tokenize
from seqrnn.data.vocab import WordVocab
from seqrnn.kinds import LABELS_FILE, VOCAB_FILE
from seqrnn.models.charlm import CharLM
from seqrnn.models.sentiment import SentimentRNN
from seqrnn.run import BEST_WEIGHTS, RunFolder


def lecture_runs(root: Path, reviews: list[str]) -> tuple[Path, Path]:
    """Untrained lecture-configuration runs of both models in `root`."""
    torch.manual_seed(1)
    words = WordVocab.build((tokenize(text) for text in reviews), min_freq=1, max_vocab=20000)
    classifier = SentimentRNN(SentimentConfig(vocab_size=len(words)))
    run = RunFolder(root / "sentiment")
    run.create()
    run.write_json(VOCAB_FILE, words.to_dict())
    run.write_json(LABELS_FILE, {"negative": "neg", "positive": "pos"})
    run.save_weights(BEST_WEIGHTS, classifier.state_dict(), step=-1)
    run.write_config("sentiment", vars(classifier.config))
    chars = CharVocab.from_text(load_text("hamlet"))
    lm = CharLM(CharLMConfig(vocab_size=len(chars.chars)))
    run = RunFolder(root / "charlm")
    run.create()
    run.write_json(VOCAB_FILE, chars.to_dict())
    run.save_weights(BEST_WEIGHTS, lm.state_dict(), step=-1)
    run.write_config("charlm", vars(lm.config))
    return root / "sentiment", root / "charlm"


def classify(run_dir: Path, reviews: list[str], session: ort.InferenceSession) -> dict:
    clf = SentimentClassifier.load(run_dir)
    batches = [reviews[i : i + 64] for i in range(0, len(reviews), 64)]
    feeds = []
    for batch in batches:
        ids = [(clf.vocab_.encode(tokenize(text)) or [1])[-clf.seq_len :] for text in batch]
        matrix = np.zeros((len(ids), max(map(len, ids))), dtype=np.int64)
        for row, words in enumerate(ids):
            matrix[row, : len(words)] = words
        feeds.append({"ids": matrix, "lengths": np.array([len(w) for w in ids])})
    start = time.perf_counter()
    torch_p = np.concatenate([clf.predict_proba(batch)[:, 1] for batch in batches])
    torch_s = time.perf_counter() - start
    start = time.perf_counter()
    onnx_p = np.concatenate([session.run(None, feed)[0] for feed in feeds])
    onnx_s = time.perf_counter() - start
    return {"reviews": len(reviews), "batch": 64,
            "torch_reviews_per_s": round(len(reviews) / torch_s),
            "onnxruntime_reviews_per_s": round(len(reviews) / onnx_s),
            "max_probability_difference": float(np.abs(torch_p - onnx_p).max())}


def onnx_stream(session: ort.InferenceSession, lm: LanguageModel, length: int, seed: int) -> int:
    config = lm.model.config
    rng = np.random.default_rng(seed)
    state = {name: np.zeros((config.num_layers, 1, config.hidden_size), dtype=np.float32)
             for name in (("h", "c") if config.cell == "lstm" else ("h",))}
    ids = np.array([lm.vocab.encode("The ")], dtype=np.int64)
    for _ in range(length):
        logits, *new_state = session.run(None, {"ids": ids, **state})
        state = dict(zip(state, new_state, strict=True))
        last = logits[0, -1]
        top = np.argpartition(last, -5)[-5:]
        p = np.exp(last[top] - last[top].max())
        ids = np.array([[top[rng.choice(5, p=p / p.sum())]]], dtype=np.int64)
    return length


def sample(run_dir: Path, session: ort.InferenceSession, length: int, repeats: int = 3) -> dict:
    lm = LanguageModel.load(run_dir)
    prime = torch.tensor(lm.vocab.encode("The "))

    def reference(seed: int) -> int:
        generator = torch.Generator().manual_seed(seed)
        return sum(1 for _ in lm.model.generate(prime, length, generator=generator))

    runs = {"onnxruntime, one session.run per character": lambda s: onnx_stream(
                session, lm, length, s),
            "torch, CharLM.generate": reference,
            "LanguageModel.stream (compiled)": lambda s: len(
                "".join(lm.stream("The ", length, seed=s)))}
    for run in runs.values():
        run(0)  # warm-up
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for seed in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            produced = run(seed)
            seconds[name].append((time.perf_counter() - start) / produced)
    return {"chars": length, "repeats": repeats,
            "chars_per_s": {name: round(1 / statistics.median(t)) for name, t in
                            seconds.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentiment", metavar="RUN_DIR", help="a classifier's run folder")
    parser.add_argument("--charlm", metavar="RUN_DIR", help="a language model's run folder")
    parser.add_argument("--reviews", type=int, default=2000, help="IMDb test reviews (2000)")
    parser.add_argument("--length", type=int, default=2000, help="characters per sample")
    parser.add_argument("--threads", type=int, default=1, help="threads of both (1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    options = ort.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.inter_op_num_threads = 1
    from seqrnn.data.sentiment_sets import load_sentiment

    test = load_sentiment("imdb").test
    reviews = list(test.texts[:: max(1, len(test.texts) // args.reviews)][: args.reviews])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sentiment_run, charlm_run = lecture_runs(root, reviews)
        sentiment_run = Path(args.sentiment or sentiment_run)
        charlm_run = Path(args.charlm or charlm_run)
        export(sentiment_run, root / "clf.onnx")
        export(charlm_run, root / "lm.onnx")
        report = {
            "machine": describe(args.threads), "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "classify": classify(sentiment_run, reviews,
                                 ort.InferenceSession(str(root / "clf.onnx"), options)),
            "sample": sample(charlm_run, ort.InferenceSession(str(root / "lm.onnx"), options),
                             args.length),
        }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
