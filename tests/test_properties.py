"""Property-based tests (hypothesis) of what reads user input and files from disk.

For any input, a reader either returns something that keeps its invariants or raises
a UserError of one line: never another exception, which would reach a user as a
traceback. The invariants are the README's: what is encoded decodes to itself, what is
written reads back equal, a second read gives what the first gave, and a refused value is
one line naming its field. The number of examples is bounded so that the suite stays fast.
"""

import dataclasses
import json
import string
import typing

import pytest
import torch
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import seqrnn.configs
from seqrnn.data.pairs import join_tokens, split_tokens
from seqrnn.data.symbols import EOS_ID, SymbolVocab
from seqrnn.data.tables import read_table
from seqrnn.data.text import CharVocab
from seqrnn.data.tokenize import tokenize
from seqrnn.data.vocab import UNK_ID, WordVocab
from seqrnn.errors import UserError, flag
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
VOCABULARIES = (WordVocab, CharVocab, SymbolVocab)


def assert_one_line(error: UserError) -> None:
    """What the command line prints of `error` is one line, with every field placeholder
    spelled as its flag."""
    shown = error.render(flag)
    assert len(shown.splitlines()) == 1, shown
    assert not any("{" + name + "}" in shown for name in error.fields), shown


def refused(call):
    """call(), or None when it raises a UserError, which must be one line."""
    try:
        return call()
    except UserError as exc:
        assert_one_line(exc)
        return None


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
@given(JSON | st.fixed_dictionaries({"kind": st.sampled_from(["words", "chars", "symbols"])},
                                    optional={"words": JSON, "chars": JSON, "symbols": JSON}))
def test_any_vocab_json_loads_or_is_a_user_error(data):
    for vocab_class in VOCABULARIES:
        vocab = refused(lambda vocab_class=vocab_class: vocab_class.from_dict(data))
        if vocab is None:
            continue
        written = json.loads(json.dumps(vocab.to_dict()))
        again = vocab_class.from_dict(written)
        assert again == vocab and again.to_dict() == written  # a second read: the same


@BOUNDED
@given(st.lists(st.lists(st.sampled_from(["AE", "K", "T", "IH0", "a", "é", "😀"]), max_size=6),
                min_size=1, max_size=5).filter(lambda sequences: any(sequences)))
def test_symbol_vocabularies_round_trip_every_sequence_they_were_built_on(sequences):
    vocab = SymbolVocab.build(sequences)
    assert SymbolVocab.from_dict(json.loads(json.dumps(vocab.to_dict()))) == vocab
    assert list(vocab.symbols) == sorted(set().union(*sequences))
    for sequence in sequences:
        ids = vocab.encode(sequence)
        assert vocab.decode(ids) == list(sequence)
        assert vocab.decode([*ids, EOS_ID, *ids]) == list(sequence)  # up to the end id
        for tokens in ("chars", "words"):
            if tokens == "words" or all(len(symbol) == 1 for symbol in sequence):
                assert split_tokens(join_tokens(sequence, tokens), tokens) == tuple(sequence)


@BOUNDED
@given(st.text(ANY_CHARACTER, max_size=6), st.lists(st.sampled_from("ab"), max_size=4))
def test_symbols_outside_a_vocabulary_are_a_one_line_user_error(symbol, sequence):
    vocab = SymbolVocab(("a", "b"))
    ids = refused(lambda: vocab.encode([*sequence, symbol]))
    assert (ids is None) == (symbol not in ("a", "b"))


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
    table = refused(lambda: read_table(path))
    if table is None:
        return
    again = read_table(path)  # a second read: the same
    assert again.texts == table.texts and again.label_map == table.label_map
    assert again.labels.tolist() == table.labels.tolist()
    assert len(table.texts) == len(table.labels) and set(table.labels.tolist()) <= {0, 1}
    names = (table.label_map.negative, table.label_map.positive)
    assert all(text.strip() for text in table.texts)
    if extension in ("json", "jsonl"):  # no quoting to merge rows: each row as written
        read = [(text, names[label]) for text, label in zip(table.texts, table.labels.tolist(),
                                                              strict=True)]
        assert read == [(text, label) for text, label in rows if text.strip()]
        assert table.skipped_empty == len(rows) - len(read)


@BOUNDED
@given(JSON | st.fixed_dictionaries(
    {"kind": st.sampled_from(["charlm", "wordlm"]), "model": st.dictionaries(st.text(
        max_size=4), JSON, max_size=3)},
    optional={"format_version": st.integers(-1, 2) | JSON, "train": JSON | st.fixed_dictionaries(
        {}, optional={"data": JSON, "loop": JSON, "sources": JSON, "preset": JSON})}))
def test_any_config_json_reads_or_is_a_user_error(tmp_path, config):
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config), encoding="utf-8")
    read = refused(lambda: RunFolder(tmp_path).read_config("charlm"))
    if read is None:
        return
    assert RunFolder(tmp_path).read_config("charlm") == read  # a second read: the same
    assert read.kind == "charlm" and read.model == config["model"]
    train = config.get("train") or {}
    assert (read.data, read.loop) == (train.get("data"), train.get("loop"))


TRAIN_STATE_PARTS = st.dictionaries(
    st.sampled_from(["progress", "optimizers", "rng_cpu", "carried", "best_before_stop"]),
    JSON | st.just(torch.zeros(3)) | st.just(torch.get_rng_state())
    | st.fixed_dictionaries({"step": st.integers(-2, 50) | JSON}), max_size=5)
VALID_TRAIN_STATE = {"progress": {"step": 3}, "optimizers": [], "rng_cpu": torch.get_rng_state(),
                     "carried": {}}


@BOUNDED
@given(TRAIN_STATE_PARTS | TRAIN_STATE_PARTS.map(lambda parts: {**VALID_TRAIN_STATE, **parts}))
def test_any_train_state_loads_or_is_a_user_error(tmp_path, state):
    torch.save(state, tmp_path / TRAIN_STATE)
    loaded = refused(lambda: RunFolder(tmp_path).load_train_state())
    if loaded is None:
        return
    assert set(loaded) == set(state) and loaded["progress"] == state["progress"]
    assert torch.equal(loaded["rng_cpu"], state["rng_cpu"])
    again = RunFolder(tmp_path).load_train_state()  # a second read: the same
    assert again["progress"] == loaded["progress"]
    assert torch.equal(again["rng_cpu"], loaded["rng_cpu"])


@pytest.mark.parametrize("text", ["a\ud800b", "\udfff"])
def test_a_lone_surrogate_is_an_unknown_character(text):
    with pytest.raises(UserError, match="characters not in the vocabulary"):
        CharVocab.from_text("ab").encode(text)


# -- configs: every dataclass of seqrnn.configs ----------------------------------------------

CONFIG_CLASSES = sorted({value for value in vars(seqrnn.configs).values()
                         if dataclasses.is_dataclass(value) and isinstance(value, type)
                         and value.__module__.startswith("seqrnn.")}, key=lambda c: c.__name__)
REQUIRED = {"vocab_size": 12, "source_vocab_size": 9, "target_vocab_size": 7}
# Every string choice seqrnn.configs names (cells, heads, schedules, ...), and any text.
CHOICES = sorted({item for value in vars(seqrnn.configs).values() if isinstance(value, tuple)
                  for item in value if isinstance(item, str)})
# No subnormal floats: training flushes them to zero process-wide (train.process), and
# hypothesis refuses to draw them once an earlier test in the session has.
NUMBERS = (st.integers(-2, 300) | st.integers() | st.floats(-2.0, 2.0, allow_subnormal=False)
           | st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=False))


def default_of(cls: type):
    """`cls` with its defaults, and a size where it has no default."""
    required = [f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING
                and f.default_factory is dataclasses.MISSING]
    return cls(**{name: REQUIRED[name] for name in required})


def values_of(hint) -> st.SearchStrategy:
    """Values of the declared type `hint`, in and out of each field's range."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if type(None) in args:
        rest = [arg for arg in args if arg is not type(None)]
        return st.none() | values_of(rest[0])
    if origin is tuple:
        return st.lists(values_of(args[0]), max_size=4).map(tuple)
    if hint is bool:
        return st.booleans()
    if hint is int:
        return st.integers(-2, 300) | st.integers(-2**70, 2**70)
    if hint is float:
        return NUMBERS
    if hint is str:
        return st.sampled_from(CHOICES) | st.text(max_size=6)
    if dataclasses.is_dataclass(hint):  # a nested config (a classifier's language model)
        return st.just(default_of(hint))
    raise AssertionError(f"no strategy for {hint}")


@st.composite
def changed_config(draw, *, most: int = 3):
    """(cls, its defaults, changes): up to `most` fields given values of their type."""
    cls = draw(st.sampled_from(CONFIG_CLASSES))
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=most, unique=True))
    return cls, default_of(cls), {name: draw(values_of(hints[name])) for name in chosen}


CONFIGS = settings(BOUNDED, max_examples=100)


def test_every_config_class_is_covered():
    names = {cls.__name__ for cls in CONFIG_CLASSES}
    assert {"TrainConfig", "CharLMConfig", "CharLMData", "SentimentConfig", "SentimentData",
            "WordLMConfig", "WordLMData", "Seq2SeqConfig", "Seq2SeqData", "Sampling",
            "ServeLimits", "GradientStudyConfig"} <= names


@CONFIGS
@given(changed_config())
def test_a_config_written_to_a_run_folder_reads_back_equal(tmp_path, drawn):
    cls, base, changes = drawn
    config = refused(lambda: dataclasses.replace(base, **changes))
    if config is None:
        reject()
    run = RunFolder(tmp_path)
    values = dataclasses.asdict(config)
    run.write_config("charlm", values, values, values)  # the model, data and loop parts
    read = run.read_config("charlm")
    for part, saved in (("model", read.model), ("data", read.data), ("loop", read.loop)):
        assert run.build_config(cls, saved, part) == config, part
    assert run.read_config("charlm") == read  # a second read: the same


# GradientStudyConfig names one of its listed values in the singular: "radius 0.0 must be ..."
SINGULAR = {"radii": "radius", "forget_biases": "forget bias"}


@CONFIGS
@given(changed_config(most=1), st.none() | st.text(max_size=3) | st.lists(st.integers(),
                                                                          max_size=2)
       | st.booleans() | st.just({}))
def test_a_refused_config_value_is_one_line_naming_its_field(drawn, wrong_type):
    cls, base, changes = drawn
    (name, value), = changes.items()
    for tried in (value, wrong_type):
        try:
            dataclasses.replace(base, **{name: tried})
        except UserError as exc:
            assert_one_line(exc)
            assert name in exc.fields, (name, tried, exc.fields, str(exc))
            shown = exc.render(flag)
            words = SINGULAR.get(name, name.replace("_", " "))
            assert flag(name) in shown or words in shown.lower(), shown
