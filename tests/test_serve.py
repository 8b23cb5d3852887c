import json
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("fastapi")
pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from seqrnn.configs import CharLMData, Seq2SeqData, ServeLimits, TrainConfig  # noqa: E402
from seqrnn.data.tokenize import tokenize  # noqa: E402
from seqrnn.errors import UserError  # noqa: E402
from seqrnn.metrics import DECISION_THRESHOLD  # noqa: E402
from seqrnn.serve.app import (  # noqa: E402
    Models,
    build_app,
    create_app,
    load_models,
)

# Hamlet-like lines: a speaker's abbreviation, words, a bracketed aside.
CHAR_TEXT = "".join(f"  {name}. the cat (sat) on the mat.\n"
                    for name in ("Ham", "Hor", "Fran", "Bar") * 10)
POSITIVE = ["a wonderful film, great acting", "loved it, brilliant and moving",
            "great fun, superb cast", "a delight, excellent story"]
NEGATIVE = ["a dull film, awful acting", "hated it, boring and flat",
            "terrible mess, poor cast", "a bore, dreadful story"]
LIMITS = ServeLimits(max_review_chars=300, max_generate_length=50, max_prime_chars=20,
                     max_inspect_chars=400, max_source_chars=30)


def tiny_runs(tmp_path_factory) -> dict:
    """Run folders of a tiny language model and a tiny sentiment classifier, trained once per
    test session and shared by the serve, CLI and browser tests.

    One torch thread: on a machine whose cores are busy, two threads make these tiny steps
    many times slower (each waits for the other to be scheduled).
    """
    from seqrnn.api.sentiment import SentimentClassifier
    from seqrnn.recipes import base, charlm, seq2seq

    root = tmp_path_factory.getbasetemp() / "tiny-serve-models"
    runs = {"charlm": root / "charlm", "sentiment": root / "sentiment",
            "seq2seq": root / "seq2seq", "wordlm": root / "wordlm", "forecast": root / "forecast",
            "tag": root / "tag"}
    if not (runs["forecast"] / "config.json").exists():
        import seqrnn
        from tests.forecast_data import seasonal_series, write_series

        root.mkdir(parents=True, exist_ok=True)
        path = write_series(root / "series.json", seasonal_series(8, 48))
        seqrnn.train("forecast", runs["forecast"], data=str(path), horizon=6,
                     frequency="monthly", input_length=12, batch_size=16, batches_per_epoch=3,
                     epochs=2, hidden_size=16, num_layers=1, progress=False, device="cpu",
                     threads=1)
    if not (runs["tag"] / "config.json").exists():
        import seqrnn
        from tests.tag_data import toy_sentences, write_conll

        root.mkdir(parents=True, exist_ok=True)
        seqrnn.train("tag", runs["tag"], data=str(write_conll(root / "tagged.txt",
                                                                toy_sentences(120, 1))),
                     scheme="iob2", hidden_size=16, word_dim=16, char_hidden=8, char_dim=8,
                     batch_size=8, lr=1e-2, epochs=6, progress=False, device="cpu", threads=1)
    if not (runs["wordlm"] / "config.json").exists():
        from tests.test_api_wordlm import save_wordlm

        save_wordlm(runs["wordlm"])
    if not (runs["seq2seq"] / "config.json").exists():
        root.mkdir(parents=True, exist_ok=True)
        (root / "text.txt").write_text(CHAR_TEXT, encoding="utf-8")
        data = CharLMData(text=str(root / "text.txt"), batch_size=4, num_steps=16, eval_rows=2)
        base.start(charlm.RECIPE, data, {"hidden_size": 16, "dropout": 0.0},
                   TrainConfig(epochs=2, lr=1e-2, progress=False, seed=3, threads=1),
                   runs["charlm"])
        clf = SentimentClassifier(epochs=5, hidden_size=8, embedding_dim=8, batch_size=8,
                                  dropout=0.0, lr=0.05, device="cpu", threads=1)
        clf.fit((POSITIVE + NEGATIVE) * 5, (["pos"] * 4 + ["neg"] * 4) * 5)
        clf.save(runs["sentiment"])
        words = [a + b + c for a in "abcd" for b in "abcd" for c in "abcd"]
        (root / "pairs.tsv").write_text("source\ttarget\n" + "".join(
            f"{w}\t{' '.join(reversed(w))}\n" for w in words), encoding="utf-8")
        base.start(seq2seq.RECIPE, Seq2SeqData(data=str(root / "pairs.tsv"), batch_size=8),
                   {"hidden_size": 16, "embedding_dim": 8, "dropout": 0.0},
                   TrainConfig(epochs=2, lr=1e-2, progress=False, seed=3, threads=1),
                   runs["seq2seq"])
    return runs


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    return tiny_runs(tmp_path_factory)


@pytest.fixture(scope="module")
def models(runs):
    return load_models(runs["sentiment"], runs["charlm"], runs["seq2seq"],
                       wordlm_dir=runs["wordlm"])


@pytest.fixture(scope="module")
def client(runs):
    return TestClient(create_app(runs["sentiment"], runs["charlm"], runs["seq2seq"],
                                 wordlm_dir=runs["wordlm"], limits=LIMITS))


def assert_error(response, status: int, *fragments: str, field: str | None = None) -> str:
    """The answer is `status` with exactly {"error": message}, plus {"field": field} when the
    error is about one field, and the message says `fragments`."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert list(body) == (["error"] if field is None else ["error", "field"])
    assert isinstance(body["error"], str) and body.get("field") == field
    for fragment in fragments:
        assert fragment in body["error"]
    return body["error"]


# -- health, page, schema ---------------------------------------------------------------------


def test_health_says_which_models_are_loaded_and_the_limits(client, models):
    body = client.get("/api/health").json()
    assert body["status"] == "ok"
    assert body["models"] == {"sentiment": True, "charlm": True, "wordlm": True,
                              "seq2seq": True, "forecast": False, "tag": False}
    assert body["limits"]["max_review_chars"] == 300
    assert body["limits"]["max_generate_length"] == 50
    assert body["limits"]["max_source_chars"] == 30
    assert body["classes"] == ["neg", "pos"]
    assert not models.charlm.vocab.unknown_chars(body["default_prime"])


def test_page_is_one_self_contained_html_document(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    for element in ('id="review"', 'id="classify"', 'id="generate-button"', 'id="inspect-button"'):
        assert element in page
    # Works offline: no script, style, image or font is fetched from elsewhere.
    assert not re.findall(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", page)
    assert "@import" not in page and "url(" not in page


def test_schema_documents_the_api(client):
    schema = client.get("/openapi.json").json()
    assert {"/api/health", "/api/sentiment", "/api/generate", "/api/inspect"} <= set(
        schema["paths"])
    text = schema["components"]["schemas"]["SentimentRequest"]["properties"]["text"]
    assert "review" in text["description"]
    responses = schema["paths"]["/api/sentiment"]["post"]["responses"]
    assert {"400", "404", "413", "422"} <= set(responses)


# -- sentiment --------------------------------------------------------------------------------


def test_sentiment_gives_label_probability_and_the_prediction_after_each_word(client, models):
    review = "A wonderful film, great acting and a dull ending."
    body = client.post("/api/sentiment", json={"text": review}).json()
    expected = models.sentiment.predict_proba([review])[0]
    assert body["classes"] == ["neg", "pos"]
    assert body["positive_probability"] == pytest.approx(expected[1])
    assert body["label"] == ("pos" if expected[1] >= DECISION_THRESHOLD else "neg")
    assert body["probability"] == pytest.approx(expected.max())
    tokens, prefix = models.sentiment.prefix_probabilities(review)
    assert body["tokens"] == tokens == tokenize(review)
    assert body["prefix_probabilities"] == pytest.approx(prefix.tolist())
    changes = np.asarray(body["changes"])
    assert changes[0] == pytest.approx(prefix[0] - 0.5)
    assert changes.sum() == pytest.approx(prefix[-1] - 0.5)
    movers = body["top_movers"]
    assert len(movers) == 5 and movers[0] == int(np.abs(changes).argmax())
    assert list(np.abs(changes[movers])) == sorted(np.abs(changes[movers]), reverse=True)


def test_sentiment_tells_positive_from_negative(client):
    labels = [client.post("/api/sentiment", json={"text": t}).json()["label"]
              for t in ("a wonderful film, great acting", "a dull film, awful acting")]
    assert labels == ["pos", "neg"]


@pytest.mark.parametrize(("payload", "fragments"), [
    ({"text": "x" * 301}, ["301", "at most 300", "--max-review-chars"]),
    ({"text": ""}, ["empty"]),
    ({"text": "  \n "}, ["empty"]),
    ({}, ["text", "required"]),
    ({"text": 5}, ["text", "string"]),
    ({"text": "good", "model": "/etc/passwd"}, ["model", "Extra inputs"]),
    (["good"], ["JSON object body"]),
])
def test_sentiment_refuses_bad_requests_with_422(client, payload, fragments):
    assert_error(client.post("/api/sentiment", json=payload), 422, *fragments)


def test_malformed_json_is_a_400(client):
    response = client.post("/api/sentiment", content=b'{"text": "good',
                           headers={"content-type": "application/json"})
    assert_error(response, 400, "malformed JSON")


def test_a_missing_or_non_json_body_is_a_422(client):
    assert_error(client.post("/api/sentiment"), 422, "JSON object body")
    response = client.post("/api/sentiment", content=b'{"text": "good"}',
                           headers={"content-type": "text/plain"})
    assert_error(response, 422, "Content-Type: application/json")


def test_a_huge_body_is_refused_before_it_is_read(client):
    response = client.post("/api/sentiment", content=b"x" * (LIMITS.max_body_bytes + 1),
                           headers={"content-type": "application/json"})
    assert_error(response, 413, str(LIMITS.max_body_bytes))


def test_unknown_paths_and_methods_answer_json(client):
    assert_error(client.get("/api/nothing"), 404, "Not Found")
    assert_error(client.get("/api/sentiment"), 405, "Method Not Allowed")


# -- generation -------------------------------------------------------------------------------


def test_generation_streams_exactly_what_the_model_samples(client, models):
    request = {"prime": "  Ham", "length": 40, "temperature": 0.8, "top_k": 3, "seed": 7}
    with client.stream("POST", "/api/generate", json=request) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        chunks = list(response.iter_text())
    text = "".join(chunks)
    assert len(chunks) > 1  # streamed, not sent in one piece
    assert len(text) == 40
    expected = models.charlm.sample("  Ham", 40, temperature=0.8, top_k=3, seed=7)
    assert "  Ham" + text == expected


def test_generation_options_are_the_python_ones(client, models):
    lm = models.charlm
    request = {"prime": "  Ham", "length": 50, "top_k": 0, "top_p": 0.7, "seed": 2}
    text = client.post("/api/generate", json=request).text
    assert "  Ham" + text == lm.sample("  Ham", 50, top_k=0, top_p=0.7, seed=2)
    stop = text[10:12]
    cut = client.post("/api/generate", json={**request, "stop": [stop, "\u2603"]}).text
    assert cut == text[: text.index(stop) + 2]
    beam = client.post("/api/generate", json={"prime": "  Ham", "length": 20, "beam": 3}).text
    assert "  Ham" + beam == lm.sample("  Ham", 20, beam=3)
    timed = client.post("/api/generate", json={**request, "time_limit": 0.001})
    assert timed.status_code == 200 and text.startswith(timed.text) and timed.text


def test_generation_length_defaults_to_200_or_the_server_limit(client):
    response = client.post("/api/generate", json={"prime": "  Ham"})
    assert response.status_code == 200
    assert len(response.text) == 50  # this server's limit is below the default 200


def test_the_model_words_its_prime_rule_with_the_request_field(client):
    response = client.post("/api/generate", json={"prime": "  H@m#", "length": 5})
    assert_error(response, 422, "never saw", "'#', '@'", "remove them from prime", field="prime")
    response = client.post("/api/generate", json={"prime": "", "length": 5})
    assert_error(response, 422, "prime must have at least one character", field="prime")


@pytest.mark.parametrize(("payload", "fragments"), [
    ({"prime": "the " * 6, "length": 5}, ["prime", "24", "at most 20", "--max-prime-chars"]),
    ({"prime": "the ", "length": 51}, ["51", "50", "--max-generate-length"]),
    ({"prime": "the ", "length": 0}, ["length", "greater than or equal to 1"]),
    ({"prime": "the ", "temperature": 0}, ["temperature", "greater than 0"]),
    ({"prime": "the ", "top_k": -1}, ["top_k"]),
    ({"prime": "the ", "top_p": 0}, ["top_p", "greater than 0"]),
    ({"prime": "the ", "top_p": 1.01}, ["top_p", "less than or equal to 1"]),
    ({"prime": "the ", "beam": 0}, ["beam"]),
    ({"prime": "the ", "beam": 65}, ["beam", "64"]),
    ({"prime": "the ", "stop": [""]}, ["stop", "1 to 100 characters"]),
    ({"prime": "the ", "stop": ["x"] * 17}, ["stop", "16"]),
    ({"prime": "the ", "stop": "x"}, ["stop", "list"]),
    ({"prime": "the ", "time_limit": 0}, ["time_limit"]),
    ({"prime": "the ", "time_limit": 61}, ["time_limit", "60"]),
    ({"prime": "the ", "seed": -1}, ["seed"]),
    ({"prime": "the ", "seed": 2**64}, ["seed"]),
    ({"prime": "the ", "length": "many"}, ["length", "integer"]),
    ({"length": 5}, ["prime", "required"]),
])
def test_generation_refuses_bad_requests_with_422(client, payload, fragments):
    assert_error(client.post("/api/generate", json=payload), 422, *fragments)


@pytest.mark.parametrize(("path", "payload", "name"), [
    ("/api/generate", {"prime": "the ", "length": True}, "length"),
    ("/api/generate", {"prime": "the ", "length": "5"}, "length"),
    ("/api/generate", {"prime": "the ", "length": 5.0}, "length"),
    ("/api/generate", {"prime": "the ", "top_k": True}, "top_k"),
    ("/api/generate", {"prime": "the ", "temperature": "0.5"}, "temperature"),
    ("/api/generate", {"prime": "the ", "seed": False}, "seed"),
    ("/api/inspect", {"text": "the cat", "cells": "2"}, "cells"),
    ("/api/seq2seq", {"sources": ["ab"], "attention": "yes"}, "attention"),
    ("/api/seq2seq", {"sources": ["ab"], "beam": True}, "beam"),
])
def test_a_mistyped_field_is_a_422_never_coerced(client, path, payload, name):
    assert_error(client.post(path, json=payload), 422, name)


def test_an_integer_is_still_a_number(client):
    response = client.post("/api/generate", json={"prime": "the ", "length": 3, "temperature": 1,
                                                   "top_p": 1, "time_limit": 5, "seed": 1})
    assert response.status_code == 200, response.text


def test_a_temperature_of_nan_is_refused(client):
    response = client.post("/api/generate", content=b'{"prime": "the ", "temperature": NaN}',
                           headers={"content-type": "application/json"})
    assert_error(response, 422, "temperature")


# -- inspection -------------------------------------------------------------------------------


def test_inspect_returns_chosen_cells_with_an_activation_per_character(client):
    text = CHAR_TEXT[:200]
    body = client.post("/api/inspect", json={"text": text, "cells": 3}).json()
    assert body["text"] == text and body["state"] == "c" and body["dropped_chars"] == []
    assert len(body["cells"]) == 3
    for cell in body["cells"]:
        assert len(cell["activations"]) == len(text)
        assert all(-1 <= a <= 1 for a in cell["activations"])
        assert -1 <= cell["correlation"] <= 1 and cell["description"]
    assert len({(c["layer"], c["unit"]) for c in body["cells"]}) == 3


def test_inspect_leaves_out_characters_the_model_never_saw(client):
    body = client.post("/api/inspect", json={"text": "  Ham. the cat @ sat\n", "state": "h"}).json()
    assert body["dropped_chars"] == ["@"]
    assert body["text"] == "  Ham. the cat  sat\n" and body["state"] == "h"


def test_inspect_names_the_field_of_a_library_error(client):
    response = client.post("/api/inspect", json={"text": "t"})
    assert_error(response, 422, "at least 2 characters", field="text")


@pytest.mark.parametrize(("payload", "fragments"), [
    ({"text": "a" * 401}, ["401", "at most 400", "--max-inspect-chars"]),
    ({"text": "the cat", "cells": 17}, ["cells"]),
    ({"text": "the cat", "cells": 0}, ["cells"]),
    ({"text": "the cat", "state": "x"}, ["state"]),
])
def test_inspect_refuses_bad_requests_with_422(client, payload, fragments):
    assert_error(client.post("/api/inspect", json=payload), 422, *fragments)


# -- a model kind that was not loaded ---------------------------------------------------------


def test_a_model_that_was_not_loaded_is_a_404_naming_the_flag(models):
    only_charlm = TestClient(build_app(Models(charlm=models.charlm), LIMITS))
    only_sentiment = TestClient(build_app(Models(sentiment=models.sentiment), LIMITS))
    assert only_charlm.get("/api/health").json()["models"] == {"sentiment": False,
                                                                "charlm": True,
                                                                "wordlm": False,
                                                                "seq2seq": False,
                                                                "forecast": False,
                                                                "tag": False}
    assert_error(only_charlm.post("/api/wordlm", json={"prime": "the"}), 404, "--wordlm")
    assert_error(only_charlm.post("/api/seq2seq", json={"sources": ["ab"]}), 404,
                 "--seq2seq")
    assert_error(only_charlm.post("/api/sentiment", json={"text": "good"}), 404, "--sentiment")
    assert_error(only_sentiment.post("/api/generate", json={"prime": "the "}), 404, "--charlm")
    assert_error(only_sentiment.post("/api/inspect", json={"text": "the cat"}), 404, "--charlm")
    assert only_sentiment.get("/api/health").json()["default_prime"] is None


# -- loading ----------------------------------------------------------------------------------


def test_loading_needs_a_model_and_valid_folders(runs, tmp_path):
    with pytest.raises(UserError, match="at least one model"):
        load_models()
    with pytest.raises(UserError, match="not found"):
        load_models(charlm_dir=tmp_path / "missing")
    with pytest.raises(UserError, match="not a sentiment model"):
        load_models(sentiment_dir=runs["charlm"])


# -- hostile input ------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "body"), [
    ("/api/sentiment", b'{"text": "good \\ud800 film"}'),
    ("/api/generate", b'{"prime": "the \\udc00"}'),
    ("/api/inspect", b'{"text": "\\ud800"}'),
])
def test_a_lone_surrogate_is_a_422_not_a_500(client, path, body):
    response = client.post(path, content=body, headers={"content-type": "application/json"})
    assert_error(response, 422, "lone surrogate (U+D", "send valid Unicode text")


def test_a_surrogate_pair_is_one_character_and_welcome(client):
    body = b'{"text": "good \\ud83d\\ude00 film"}'  # an escaped emoji
    response = client.post("/api/sentiment", content=body,
                           headers={"content-type": "application/json"})
    assert response.status_code == 200


def test_a_chunked_body_is_cut_off_at_the_limit(client):
    chunks = (b"x" * 1024 for _ in range(LIMITS.max_body_bytes // 1024 + 2))  # no length
    response = client.post("/api/sentiment", content=chunks,
                           headers={"content-type": "application/json"})
    assert_error(response, 413, str(LIMITS.max_body_bytes))
    small = (part for part in (b'{"text": ', b'"a good film"}'))
    response = client.post("/api/sentiment", content=small,
                           headers={"content-type": "application/json"})
    assert response.status_code == 200


def test_a_temperature_so_low_that_logits_overflow_still_generates(client):
    response = client.post("/api/generate", json={"prime": "the ", "length": 12,
                                                  "temperature": 1e-40})
    assert response.status_code == 200 and len(response.text) == 12


# -- fuzzing ------------------------------------------------------------------------------------

# No subnormal floats: loading a model flushes denormals in this process (process.py).
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_subnormal=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=3),
    max_leaves=8)
FIELDS = st.sampled_from(["text", "prime", "length", "temperature", "top_k", "seed", "cells",
                          "state", "model"])
BODIES = st.dictionaries(FIELDS, JSON_VALUE, max_size=5) | JSON_VALUE
RAW_BODIES = st.sampled_from([
    b'{"text": NaN}', b'{"prime": "the ", "temperature": Infinity}', b'{"text": -Infinity}',
    b'{"text": "\\ud800"}', b'{"prime": "\\udfff\\ud800"}', b"\xff\xfe", b"", b"null", b"[]",
    b'{"text": "a"' + b"}" * 1000, b"[" * 10_000, b'{"text": "\\u0000"}', b'{"seed": 1e400}',
    b'{"prime": "the ", "length": 99999999999999999999999}', b'{"cells": -1, "text": "x"}',
])


@settings(max_examples=200, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(["/api/sentiment", "/api/generate", "/api/inspect", "/api/wordlm"]),
       BODIES | RAW_BODIES)
def test_no_request_body_gets_a_5xx(client, path, body):
    raw = body if isinstance(body, bytes) else json.dumps(body, allow_nan=True).encode()
    response = client.post(path, content=raw, headers={"content-type": "application/json"})
    assert response.status_code < 500, (raw[:200], response.text[:300])
    if response.status_code >= 400:
        assert set(response.json()) <= {"error", "field"}


# -- the word model ---------------------------------------------------------------------------


def test_word_generation_streams_what_the_word_model_samples(client, models):
    lm = models.wordlm
    request = {"prime": "the cat", "length": 12, "top_k": 0, "seed": 4}
    with client.stream("POST", "/api/wordlm", json=request) as response:
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/plain; charset=utf-8"
        text = "".join(response.iter_text())
    expected = lm.sample("the cat", 12, top_k=0, seed=4)
    assert "the cat" + text == expected and text.startswith(" ")
    fresh = client.post("/api/wordlm", json={"length": 5, "seed": 1}).text  # a new document
    assert fresh == lm.sample("", 5, seed=1) and not fresh.startswith(" ")
    beam = client.post("/api/wordlm", json={"prime": "the", "length": 4, "beam": 2}).text
    assert "the" + beam == lm.sample("the", 4, beam=2)
    assert len(client.post("/api/wordlm", json={"prime": "a"}).text.split()) <= 50


@pytest.mark.parametrize(("payload", "fragments"), [
    ({"prime": "the", "length": 51}, ["length 51", "limit of 50", "--max-generate-length"]),
    ({"prime": "the " * 6}, ["prime is 24 characters", "--max-prime-chars"]),
    ({"prime": "the", "beam": 0}, ["beam"]),
    ({"prime": "the", "text": "x"}, ["text"]),
])
def test_word_generation_refuses_bad_requests_with_422(client, payload, fragments):
    assert_error(client.post("/api/wordlm", json=payload), 422, *fragments)


# -- ensembles, and run folders of any kind ---------------------------------------------------


def test_models_of_any_kind_load_from_their_run_folders(runs, models):
    loaded = load_models(runs=[runs["wordlm"], runs["seq2seq"], runs["charlm"]])
    assert sorted(loaded) == ["charlm", "seq2seq", "wordlm"] and loaded.sentiment is None
    both = load_models(charlm_dir=runs["charlm"], runs=[runs["sentiment"]])
    assert sorted(both) == ["charlm", "sentiment"]
    with pytest.raises(UserError, match=r"served alone \(no ensemble\): give one --charlm"):
        load_models(runs=[runs["charlm"], runs["charlm"]])


def test_a_folder_of_no_servable_kind_is_named(tmp_path):
    (tmp_path / "config.json").write_text('{"format_version": 1, "kind": "tagger", "model": {}}')
    with pytest.raises(UserError, match="holds a tagger model; seqrnn serve takes charlm, "
                                        "wordlm, sentiment, seq2seq, forecast or tag"):
        load_models(runs=[tmp_path])


def test_several_runs_of_a_kind_serve_as_its_ensemble(runs, client):
    twice = TestClient(build_app(load_models(runs=[runs["seq2seq"], runs["sentiment"]],
                                             seq2seq_dir=runs["seq2seq"],
                                             sentiment_dir=[runs["sentiment"]]), LIMITS))
    request = {"sources": ["abc", "dda"], "beam": 2}
    assert twice.post("/api/seq2seq", json=request).json() == client.post(
        "/api/seq2seq", json=request).json()  # the mean of one model twice is that model
    assert_error(twice.post("/api/seq2seq", json={"sources": ["abc"], "attention": True}), 422,
                 "an ensemble has no one attention")
    review = {"text": "a wonderful film, great acting"}
    mean, one = twice.post("/api/sentiment", json=review).json(), client.post(
        "/api/sentiment", json=review).json()
    assert mean["curve"].startswith("the mean of 2 models' curves")
    assert mean["scored_prefixes"] == one["scored_prefixes"] and mean["label"] == one["label"]
    np.testing.assert_allclose(mean["prefix_probabilities"], one["prefix_probabilities"])
    np.testing.assert_allclose(mean["probability"], one["probability"])


# -- sequence to sequence ---------------------------------------------------------------------


def test_seq2seq_answers_what_the_model_predicts_with_its_attention(client, models):
    response = client.post("/api/seq2seq", json={"sources": ["abc", "dda"], "beam": 2})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["output"] for r in results] == models.seq2seq.predict(["abc", "dda"], beam=2)
    assert results[0]["attention"] is None
    shown = client.post("/api/seq2seq", json={"sources": ["abc"], "attention": True}).json()
    result = shown["results"][0]
    assert result["source_tokens"] == ["a", "b", "c"]
    assert len(result["attention"]) == len(result["output_tokens"])
    assert all(abs(sum(row) - 1) < 1e-3 for row in result["attention"])


@pytest.mark.parametrize(("payload", "fragments"), [
    ({"sources": ["abz"]}, ["never saw", "['z']"]),
    ({"sources": []}, ["sources"]),
    ({"sources": ["ab"] * 65}, ["sources", "64"]),
    ({"sources": ["a" * 31]}, ["source is 31 characters", "at most 30", "--max-source-chars"]),
    ({"sources": ["ab"], "beam": 0}, ["beam"]),
    ({"sources": "ab"}, ["sources", "list"]),
    ({"sources": [""]}, ["sources must not be empty"]),
])
def test_seq2seq_refuses_bad_requests_with_422(client, payload, fragments):
    assert_error(client.post("/api/seq2seq", json=payload), 422, *fragments,
                 field="sources" if payload.get("sources") in (["abz"], [""]) else None)


# -- load: generation is admitted in bounded amounts, apart from everything else ---------------

class _HeldLanguageModel:
    """A language model whose generations wait until the test lets them go."""

    compiled = False  # so the shared sampler hands every stream to `stream`

    def __init__(self):
        import threading

        self.started = threading.Semaphore(0)
        self.go = threading.Event()

    def check_prime(self, prime: str) -> None:
        pass

    def default_prime(self) -> str:
        return "a"

    def stream(self, prime, length, **options):
        self.started.release()
        self.go.wait()
        yield "x" * length


def _answered(request):
    """`request()`'s answer; a guard, not a timing: a request stuck behind held generations
    fails the test instead of hanging it."""
    import threading

    answer = []
    thread = threading.Thread(target=lambda: answer.append(request()), daemon=True)
    thread.start()
    thread.join(timeout=60)
    assert answer, "the request waited behind the generations under way"
    return answer[0]


def test_generation_beyond_its_budget_is_a_503_and_never_delays_the_classifier(models):
    import threading

    from anyio import to_thread

    lm = _HeldLanguageModel()
    limits = ServeLimits(max_generation_work=4)
    generate = {"prime": "a", "length": 3, "beam": 2}  # 2 units of work each
    with TestClient(build_app(Models(sentiment=models.sentiment, charlm=lm), limits)) as client:
        # The shared pool has as many threads as generations under way: if generation held
        # them (as it did), health and sentiment below would wait for it.
        client.portal.call(lambda: setattr(to_thread.current_default_thread_limiter(),
                                           "total_tokens", 2))
        answers = []
        held = [threading.Thread(target=lambda: answers.append(
            client.post("/api/generate", json=generate)), daemon=True) for _ in range(2)]
        try:
            for thread in held:
                thread.start()
            for _ in held:
                lm.started.acquire()  # both generations are under way, holding all 4 units
            busy = _answered(lambda: client.post("/api/generate", json=generate))
            assert_error(busy, 503, "the server is busy with 4 of its 4 units of generation "
                         "work (seqrnn serve --max-generation-work): retry in 5 s")
            assert busy.headers["Retry-After"] == "5"
            health = _answered(lambda: client.get("/api/health"))
            assert health.json()["limits"]["max_generation_work"] == 4
            review = _answered(lambda: client.post("/api/sentiment",
                                                   json={"text": "a wonderful film"}))
            assert review.status_code == 200 and review.json()["label"] in ("pos", "neg")
        finally:
            lm.go.set()
        for thread in held:
            thread.join()
        assert [(a.status_code, a.text) for a in answers] == [(200, "xxx")] * 2
        again = client.post("/api/generate", json=generate)  # the units were given back
        assert (again.status_code, again.text) == (200, "xxx")


class _HeldTransducer:
    """A transducer whose predictions wait until the test lets them go."""

    def __init__(self, model):
        import threading

        self.model = model
        self.started = threading.Semaphore(0)
        self.go = threading.Event()

    def predict(self, sources, beam):
        self.started.release()
        self.go.wait()
        return self.model.predict(sources, beam)


def test_a_transduction_costing_more_than_the_budget_is_admitted_alone(models):
    import threading

    model = _HeldTransducer(models.seq2seq)
    big = {"sources": ["ab", "ba"], "beam": 2}  # 4 units, over the capacity of 3
    small = {"sources": ["ab"]}  # 1 unit
    with TestClient(build_app(Models(seq2seq=model), ServeLimits(max_generation_work=3))) \
            as client:
        answers = []
        held = threading.Thread(target=lambda: answers.append(
            client.post("/api/seq2seq", json=big)), daemon=True)
        held.start()
        try:
            assert model.started.acquire(timeout=60), "the big transduction was not admitted"
            busy = _answered(lambda: client.post("/api/seq2seq", json=small))
            assert_error(busy, 503, "the server is busy with 3 of its 3 units")  # all of them
        finally:
            model.go.set()
        held.join()
        assert answers[0].status_code == 200 and len(answers[0].json()["results"]) == 2
        again = client.post("/api/seq2seq", json=small)  # the units were given back
        assert again.status_code == 200 and len(again.json()["results"]) == 1


def test_a_stream_whose_close_fails_still_gives_its_units_back():
    import anyio

    from seqrnn.serve.app import WorkAdmission

    def pieces():
        try:
            yield "b"
            yield "c"
        finally:
            raise RuntimeError("the sampler failed to stop")

    admission = WorkAdmission(2)

    async def leave_after_two_pieces():
        stream = admission.stream("a", pieces(), admission.admit(2))
        assert [await anext(stream), await anext(stream)] == ["a", "b"]
        await stream.aclose()  # the client left mid-stream: the pieces are closed

    with pytest.raises(RuntimeError, match="the sampler failed to stop"):
        anyio.run(leave_after_two_pieces)
    admission.release(admission.admit(2))  # not a 503 forever: the units were given back


def test_a_stream_never_sent_still_gives_its_units_back():
    """A client that leaves before the response starts: the body is never iterated, so no
    finally of it runs; its units come back when it is collected."""
    import gc

    from seqrnn.serve.app import WorkAdmission

    admission = WorkAdmission(2)
    body = admission.stream("a", iter(["b"]), admission.admit(2))
    del body
    gc.collect()
    admission.release(admission.admit(2))  # not a 503 forever


# -- a conditioned language model -------------------------------------------------------------

@pytest.fixture(scope="module")
def conditioned_client(tmp_path_factory):
    from tests.conditioned_data import train_toy

    run = tmp_path_factory.mktemp("conditioned-serve") / "toy"
    train_toy(run)
    return TestClient(create_app(charlm_dir=run, limits=LIMITS)), run


def test_generation_with_a_condition_is_the_python_sample(conditioned_client):
    from seqrnn.api.charlm import LanguageModel

    client, run = conditioned_client
    lm = LanguageModel.load(run)
    for condition in ("a", "b", "a:0.5,b:0.5"):
        request = {"prime": "\n", "length": 30, "seed": 4, "condition": condition}
        text = client.post("/api/generate", json=request).text
        assert "\n" + text == lm.sample("\n", 30, seed=4, condition=condition)
    beam = client.post("/api/generate", json={"prime": "\n", "length": 10, "beam": 2,
                                              "condition": "b"}).text
    assert beam.startswith("bababa")
    assert_error(client.post("/api/generate", json={"prime": "\n", "condition": "c"}), 422,
                 "never saw the label 'c' in training: give condition one of a, b",
                 field="condition")
