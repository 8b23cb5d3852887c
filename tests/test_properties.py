"""Property-based tests (hypothesis) of what reads user input and files from disk.

For any input, a reader either returns something that keeps its invariants or raises
a UserError: never another exception, which would reach a user as a traceback. The
number of examples is bounded so that the suite stays fast.
"""

import contextlib
import json
import string

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqrnn.data.tables import read_table
from seqrnn.data.text import CharVocab
from seqrnn.data.tokenize import tokenize
from seqrnn.data.vocab import UNK_ID, WordVocab
from seqrnn.errors import UserError
from seqrnn.run import CONFIG_FILE, TRAIN_STATE, RunFolder

BOUNDED = settings(max_examples=150, deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture])
# No subnormal floats: other tests' model loading flushes denormals in this process.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_subnormal=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
ANY_CHARACTER = st.characters(exclude_categories=())  # lone surrogates too: a str may hold them
REVIEW_TEXT = st.text(alphabet=string.ascii_letters + string.punctuation + " \n\t<>/é😀",
                      max_size=80)


@BOUNDED
@given(st.text(ANY_CHARACTER, max_size=200))
def test_tokens_are_lowercase_words_without_spaces(text):
    tokens = tokenize(text)
    assert all(token and not any(c.isspace() for c in token) for token in tokens)
    assert tokens == tokenize(" ".join(tokens))  # tokenizing is idempotent
    assert tokenize(text.upper()) == tokenize(text.upper().lower())


@BOUNDED
@given(st.lists(st.lists(st.text(alphabet="abcde", min_size=1, max_size=3), max_size=8),
                max_size=6),
       st.integers(1, 3), st.none() | st.integers(1, 5))
def test_word_vocabularies_round_trip_and_keep_the_frequent_words(texts, min_freq, max_vocab):
    vocab = WordVocab.build(texts, min_freq=min_freq, max_vocab=max_vocab)
    assert WordVocab.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab
    assert max_vocab is None or len(vocab.words) <= max_vocab
    for tokens in texts:
        ids = vocab.encode(tokens)
        assert [t if t in vocab else "<unk>" for t in tokens] == vocab.decode(ids)
        assert all(i == UNK_ID or vocab.words[i - 2] == t for i, t in zip(ids, tokens, strict=True))


@BOUNDED
@given(st.text(ANY_CHARACTER, min_size=1, max_size=100))
def test_character_vocabularies_encode_every_character_they_were_built_on(text):
    vocab = CharVocab.from_text(text)
    assert vocab.decode(vocab.encode(text)) == text
    assert CharVocab.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab


@BOUNDED
@given(st.text(ANY_CHARACTER, max_size=20))
def test_characters_outside_a_vocabulary_are_a_user_error(text):
    vocab = CharVocab.from_text("abc")
    try:
        assert vocab.decode(vocab.encode(text)) == text
    except UserError:
        assert set(text) - set("abc")


@BOUNDED
@given(JSON)
def test_any_vocab_json_loads_or_is_a_user_error(data):
    for vocab_class in (WordVocab, CharVocab):
        with contextlib.suppress(UserError):
            vocab_class.from_dict(data)


@BOUNDED
@given(st.sampled_from(["csv", "tsv", "jsonl", "json"]),
       st.lists(st.tuples(REVIEW_TEXT, st.sampled_from(["0", "1", "pos", "", "2"])),
                max_size=6),
       st.booleans())
def test_any_table_reads_or_is_a_user_error(tmp_path, extension, rows, with_header):
    path = tmp_path / f"reviews.{extension}"
    if extension in ("csv", "tsv"):
        sep = "," if extension == "csv" else "\t"
        lines = ([f"text{sep}label"] if with_header else []) + [f"{t}{sep}{label}"
                                                                for t, label in rows]
        path.write_text("\n".join(lines), encoding="utf-8")
    else:
        records = [{"text": t, "label": label} for t, label in rows]
        body = (json.dumps(records) if extension == "json"
                else "\n".join(json.dumps(r) for r in records))
        path.write_text(body, encoding="utf-8")
    with contextlib.suppress(UserError):
        read_table(path)


@BOUNDED
@given(JSON)
def test_any_config_json_reads_or_is_a_user_error(tmp_path, config):
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")
    with contextlib.suppress(UserError):
        RunFolder(tmp_path).read_config("charlm")


@BOUNDED
@given(st.dictionaries(st.sampled_from(["progress", "optimizers", "rng_cpu", "carried",
                                        "best_before_stop"]),
                       JSON | st.just(torch.zeros(3)) | st.just(torch.get_rng_state()),
                       max_size=5))
def test_any_train_state_loads_or_is_a_user_error(tmp_path, state):
    torch.save(state, tmp_path / TRAIN_STATE)
    with contextlib.suppress(UserError):
        RunFolder(tmp_path).load_train_state()


@pytest.mark.parametrize("text", ["a\ud800b", "\udfff"])
def test_a_lone_surrogate_is_an_unknown_character(text):
    with pytest.raises(UserError, match="characters not in the vocabulary"):
        CharVocab.from_text("ab").encode(text)
