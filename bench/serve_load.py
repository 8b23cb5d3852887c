"""A bounded load test of `seqrnn serve` on loopback.

    python bench/serve_load.py --sentiment RUN_DIR --charlm RUN_DIR [--reviews FILE]

Starts `seqrnn serve` in a subprocess on a free loopback port, then:

- sends `--requests` reviews (default 200) to POST /api/sentiment from `--clients` (20)
  concurrent clients, and checks every answer against the classifier run in this process
  (same label, probability within 1e-6);
- starts `--generations` (20) generations of `--length` characters at once, each with its own
  seed, and checks every streamed text against LanguageModel.sample with that seed;
- with both models, sends the reviews again while `--generations` clients keep generating
  (each starting a new generation as soon as one ends): whether generation starves the
  classifier's answers, and how many characters the generations got meanwhile.

Prints one JSON object: for each half, how many answers were correct, latency percentiles
(p50/p90/p99, milliseconds; for generation also the time to the first character) and
throughput. Either model may be left out; its half is skipped. Reviews come from `--reviews`
(a text file, one review per line) or, by default, the IMDb test set. Not a test: the figures
depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def post(port: int, path: str, body: dict) -> tuple[int, bytes, float, float]:
    """Status, body, and seconds to the first byte of the body and to its end (new connection)."""
    start = time.perf_counter()
    connection = http.client.HTTPConnection(HOST, port, timeout=300)
    try:
        connection.request("POST", path, json.dumps(body),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        first = response.read1(65536)
        first_byte = time.perf_counter() - start
        rest = response.read()
        return response.status, first + rest, first_byte, time.perf_counter() - start
    finally:
        connection.close()


@contextlib.contextmanager
def server(args: argparse.Namespace, port: int, longest_review: int) -> Iterator[None]:
    command = [sys.executable, "-m", "seqrnn", "serve", "--port", str(port),
               "--max-generate-length", str(max(args.length, 1)),
               "--max-review-chars", str(max(longest_review, 1))]
    if args.sentiment:
        command += ["--sentiment", args.sentiment]
    if args.charlm:
        command += ["--charlm", args.charlm]
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while not _healthy(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise SystemExit(f"seqrnn serve did not start:\n{log.read()}")
                time.sleep(0.2)
            yield
        finally:
            process.terminate()
            process.wait(timeout=30)


def _healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=2)
        connection.request("GET", "/api/health")
        return connection.getresponse().status == 200
    except OSError:
        return False


def percentiles_ms(seconds: list[float]) -> dict[str, float]:
    values = np.asarray(seconds) * 1000
    return {f"p{q}_ms": round(float(np.percentile(values, q)), 1) for q in (50, 90, 99)}


Outcome = tuple[bool, int, float, float]  # correct, HTTP status, latency, time to first byte


def run_concurrently(jobs: list[Callable[[], Outcome]], clients: int) -> dict:
    """Run the jobs on `clients` threads."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(lambda job: job(), jobs))
    elapsed = time.perf_counter() - start
    return {
        "requests": len(jobs),
        "concurrent_clients": clients,
        "correct": sum(bool(ok) for ok, _, _, _ in results),
        "statuses": dict(Counter(str(status) for _, status, _, _ in results)),
        "latency": percentiles_ms([latency for _, _, latency, _ in results]),
        "first_byte": percentiles_ms([first for _, _, _, first in results]),
        "seconds": round(elapsed, 2),
        "requests_per_s": round(len(jobs) / elapsed, 1),
    }


def sentiment_load(args: argparse.Namespace, port: int, reviews: list[str]) -> dict:
    from seqrnn.api.sentiment import SentimentClassifier
    from seqrnn.metrics import DECISION_THRESHOLD

    clf = SentimentClassifier.load(args.sentiment)
    texts = [reviews[i % len(reviews)] for i in range(args.requests)]
    # One review at a time, as the server reads it: in a padded batch the float sums differ in
    # the last bits, which can flip the label of a review the model finds undecided.
    answers = {text: clf.predict_proba([text])[0, 1] for text in set(texts)}
    expected = [answers[text] for text in texts]
    labels = [str(clf.classes_[int(p >= DECISION_THRESHOLD)]) for p in expected]

    def job(i: int) -> Outcome:
        status, body, first, latency = post(port, "/api/sentiment", {"text": texts[i]})
        if status != 200:
            return False, status, latency, first
        answer = json.loads(body)
        ok = (answer["label"] == labels[i]
              and abs(answer["positive_probability"] - expected[i]) < 1e-6)
        return ok, status, latency, first

    result = run_concurrently([lambda i=i: job(i) for i in range(len(texts))], args.clients)
    del result["first_byte"]  # the answer is one small JSON object: no different from latency
    result["review_words_median"] = int(np.median([len(t.split()) for t in texts]))
    return result


def generation_load(args: argparse.Namespace, port: int) -> dict:
    from seqrnn.api.charlm import LanguageModel

    lm = LanguageModel.load(args.charlm)
    prime = lm.default_prime()
    expected = [lm.sample(prime, args.length, seed=seed)[len(prime):]
                for seed in range(args.generations)]

    def job(seed: int) -> Outcome:
        status, body, first, latency = post(port, "/api/generate",
                                            {"prime": prime, "length": args.length, "seed": seed})
        return status == 200 and body.decode("utf-8") == expected[seed], status, latency, first

    jobs = [lambda seed=seed: job(seed) for seed in range(args.generations)]
    result = run_concurrently(jobs, args.generations)
    result["length"] = args.length
    result["chars_per_s"] = round(args.generations * args.length / result["seconds"])
    return result


def mixed_load(args: argparse.Namespace, port: int, reviews: list[str]) -> dict:
    from seqrnn.api.charlm import LanguageModel

    prime = LanguageModel.load(args.charlm).default_prime()
    stop = threading.Event()
    produced = [0] * args.generations

    def keep_generating(seed: int) -> None:
        while not stop.is_set():
            status, body, _, _ = post(port, "/api/generate",
                                      {"prime": prime, "length": args.length, "seed": seed})
            produced[seed] += len(body.decode("utf-8")) if status == 200 else 0

    with ThreadPoolExecutor(max_workers=args.generations) as pool:
        for seed in range(args.generations):
            pool.submit(keep_generating, seed)
        time.sleep(1.0)  # every generation under way
        start = time.perf_counter()
        result = sentiment_load(args, port, reviews)
        elapsed = time.perf_counter() - start
        stop.set()
    result["generations_meanwhile"] = args.generations
    result["generated_chars_per_s_meanwhile"] = round(sum(produced) / elapsed)
    return result


def read_reviews(source: str | None, count: int) -> list[str]:
    if source:
        lines = Path(source).read_text(encoding="utf-8").splitlines()
        return [line for line in lines if line.strip()][:count]
    from seqrnn.data.sentiment_sets import load_sentiment

    test = load_sentiment("imdb").test
    step = max(1, len(test.texts) // count)  # spread over both classes
    return list(test.texts[::step][:count])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentiment", metavar="RUN_DIR", help="a sentiment classifier's run")
    parser.add_argument("--charlm", metavar="RUN_DIR", help="a language model's run")
    parser.add_argument("--reviews", metavar="FILE",
                        help="reviews, one per line (default: the IMDb test set)")
    parser.add_argument("--requests", type=int, default=200, help="sentiment requests (200)")
    parser.add_argument("--clients", type=int, default=20,
                        help="concurrent sentiment clients (20)")
    parser.add_argument("--generations", type=int, default=20,
                        help="concurrent generations (20)")
    parser.add_argument("--length", type=int, default=200,
                        help="characters per generation (200)")
    args = parser.parse_args()
    if not (args.sentiment or args.charlm):
        parser.error("give --sentiment and/or --charlm")
    report: dict = {"cpus": os.cpu_count(), "load_average_before": os.getloadavg()[0]}
    reviews = read_reviews(args.reviews, args.requests) if args.sentiment else []
    port = free_port()
    # The longest review sets --max-review-chars: every answer should be a 200.
    with server(args, port, max(map(len, reviews), default=1)):
        if args.sentiment:
            report["sentiment"] = sentiment_load(args, port, reviews)
        if args.charlm:
            report["generate"] = generation_load(args, port)
        if args.sentiment and args.charlm:
            report["sentiment_while_generating"] = mixed_load(args, port, reviews)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
