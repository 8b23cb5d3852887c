import zipfile

import pytest

from seqrnn.data import conll
from seqrnn.data.conll import TaggedSentence, load_corpus, read_conll, read_jsonl
from seqrnn.errors import UserError

CHUNKS = """Confidence NN B-NP
in IN B-PP
the DT B-NP
pound NN I-NP

Chancellor NNP O
. . O
"""


def test_read_conll_with_a_feature_column():
    sentences = read_conll(CHUNKS, feature_columns=(1,))
    assert sentences == [
        TaggedSentence(("Confidence", "in", "the", "pound"), ("B-NP", "B-PP", "B-NP", "I-NP"),
                       (("NN", "IN", "DT", "NN"),)),
        TaggedSentence(("Chancellor", "."), ("O", "O"), (("NNP", "."),)),
    ]
    assert len(sentences[0]) == 4


def test_read_conll_columns_blank_lines_docstart_and_lines():
    text = ("-DOCSTART- -DOCSTART- O\nDe Art O\nBrussel N B-LOC\n\n\n\t\n"
            "-DOCSTART- -DOCSTART- O\nzegt\tV\tO\n-DOCSTART- -DOCSTART- O\nja Int O")
    sentences = read_conll(text.splitlines(), word_column=0, tag_column=2)
    # -DOCSTART- ends a sentence too; runs of blank lines end one; the last needs no blank.
    assert [s.tokens for s in sentences] == [("De", "Brussel"), ("zegt",), ("ja",)]
    assert [s.tags for s in sentences] == [("O", "B-LOC"), ("O",), ("O",)]
    assert all(s.features == () for s in sentences)
    assert read_conll("a X\n", word_column=1, tag_column=0)[0].tokens == ("X",)


def test_too_few_columns_names_the_line():
    with pytest.raises(UserError) as info:
        read_conll("\n\nword B-NP\n", feature_columns=(2,), source="train.txt")
    assert str(info.value) == ("train.txt line 3: 2 columns, too few for feature_columns[0]=2; "
                               "give the columns this file has")
    with pytest.raises(UserError, match="^f line 1: 1 columns, too few for tag_column=-2; "):
        read_conll("word\n", tag_column=-2, source="f")


def test_a_line_with_other_columns_names_it():
    with pytest.raises(UserError, match=r"^train.txt line 4: 2 columns where line 1 has 3; "):
        read_conll("a NN O\nb NN O\n\nc O\n", source="train.txt")


@pytest.mark.parametrize("text", ["", "\n \n\t\n", "-DOCSTART- -DOCSTART- O\n\n"])
def test_no_sentences_is_a_one_line_error(text):
    with pytest.raises(UserError, match=r"^ned.train has no sentences; expected CoNLL columns"):
        read_conll(text, source="ned.train")


def test_read_jsonl_with_a_feature():
    text = ('{"tokens": ["Peter", "runs"], "tags": ["B-PER", "O"], "pos": ["NNP", "VBZ"]}\n\n'
            '{"tokens": ["Yes"], "tags": ["O"], "pos": ["UH"], "id": 7}\n')
    assert read_jsonl(text, feature_keys=("pos",)) == [
        TaggedSentence(("Peter", "runs"), ("B-PER", "O"), (("NNP", "VBZ"),)),
        TaggedSentence(("Yes",), ("O",), (("UH",),)),
    ]
    assert read_jsonl(text.splitlines())[1] == TaggedSentence(("Yes",), ("O",))


@pytest.mark.parametrize(("line", "problem"), [
    ('{"tokens": ["a", "b"], "tags": ["O"], "pos": ["X", "Y"]}',
     "2 tokens but 1 tags; give one for each token"),
    ('{"tokens": ["a"], "tags": ["O"], "pos": []}', "1 tokens but 0 pos;"),
    ('{"tokens": ["a"], "tags": ["O"]', "not JSON (Expecting ',' delimiter);"),
    ('["a"]', "a list, not an object;"),
    ('{"tokens": ["a"]}', '"tags" must be a list of strings;'),
    ('{"tokens": "a", "tags": ["O"]}', '"tokens" must be a list of strings;'),
    ('{"tokens": ["a"], "tags": [1]}', '"tags" must be a list of strings;'),
    ('{"tokens": [], "tags": []}', "no tokens;"),
    ("[" * 100_000, "JSON nested too deeply"),
])
def test_read_jsonl_errors_name_the_line(line, problem):
    text = '{"tokens": ["ok"], "tags": ["O"], "pos": ["UH"]}\n\n' + line + "\n"
    with pytest.raises(UserError) as info:
        read_jsonl(text, feature_keys=("pos",), source="dev.jsonl")
    assert str(info.value).startswith(f"dev.jsonl line 3: {problem}")
    assert "\n" not in str(info.value)


def test_read_jsonl_of_nothing_is_a_one_line_error():
    with pytest.raises(UserError, match="^dev.jsonl has no sentences; expected JSON lines"):
        read_jsonl("\n\n", source="dev.jsonl")


def sentence_lines(number):
    """Sentence `number` of a made-up corpus: two tokens, word POS tag."""
    return f"w{number} NN B-NP\nv{number} VB B-VP\n\n"


def write_zip(path, members):
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)  # a str as UTF-8


def test_load_corpus_carves_a_fixed_validation_from_conll2000_train(tmp_path):
    write_zip(tmp_path / "conll2000.zip", {
        "conll2000/train.txt": "".join(sentence_lines(n) for n in range(30)),
        "conll2000/test.txt": sentence_lines(99) + "Señor NNP B-NP\n",
        "conll2000/README": "not read",
    })
    corpus = load_corpus("conll2000", tmp_path)
    assert list(corpus) == ["train", "validation", "test"]
    train, validation = corpus["train"], corpus["validation"]
    assert (len(train), len(validation)) == (27, 3)  # 10% of 30
    numbers = [int(s.tokens[0][1:]) for s in train], [int(s.tokens[0][1:]) for s in validation]
    assert sorted(numbers[0] + numbers[1]) == list(range(30))
    assert numbers[0] == sorted(numbers[0]) and numbers[1] == sorted(numbers[1])
    assert load_corpus("conll2000", tmp_path)["validation"] == validation  # the same each time
    assert corpus["train"][0] == TaggedSentence(
        ("w0", "v0"), ("B-NP", "B-VP"), (("NN", "VB"),))
    assert corpus["test"][1].tokens == ("Señor",)  # UTF-8


def test_load_corpus_reads_the_conll2002_splits(tmp_path):
    write_zip(tmp_path / "conll2002.zip", {
        "conll2002/ned.train": "-DOCSTART- -DOCSTART- O\n" + sentence_lines(1),
        "conll2002/ned.testa": sentence_lines(2) + sentence_lines(3),
        "conll2002/ned.testb": sentence_lines(4),
    })
    corpus = load_corpus("conll2002-nl", tmp_path)
    assert {split: [s.tokens for s in sentences] for split, sentences in corpus.items()} == {
        "train": [("w1", "v1")], "validation": [("w2", "v2"), ("w3", "v3")],
        "test": [("w4", "v4")]}


def test_a_missing_archive_says_where_it_is_expected(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQRNN_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(UserError) as info:
        load_corpus("conll2002-es")
    assert str(info.value) == (
        f"conll2002.zip not found in {tmp_path}, {tmp_path / 'cache' / 'seqrnn'}; put NLTK's "
        f"conll2002.zip (nltk_data/corpora) in a folder named by $SEQRNN_DATA or in "
        f"{tmp_path / 'cache' / 'seqrnn'}")
    with pytest.raises(UserError, match=f"^conll2000.zip not found in {tmp_path}; put NLTK's"):
        load_corpus("conll2000", tmp_path)


def test_load_corpus_errors(tmp_path):
    with pytest.raises(UserError, match="^unknown corpus 'conll2003'; choose one of conll2000, "):
        load_corpus("conll2003", tmp_path)
    (tmp_path / "conll2000.zip").write_text("not a zip")
    with pytest.raises(UserError, match="conll2000.zip is not a zip archive"):
        load_corpus("conll2000", tmp_path)
    write_zip(tmp_path / "conll2000.zip", {"conll2000/train.txt": sentence_lines(0)})
    with pytest.raises(UserError, match="conll2000.zip has no member conll2000/test.txt; "):
        load_corpus("conll2000", tmp_path)
    write_zip(tmp_path / "conll2000.zip", {
        "conll2000/train.txt": sentence_lines(0) + "a DT E-NP\n",
        "conll2000/test.txt": sentence_lines(1)})
    with pytest.raises(UserError, match="^conll2000.zip: conll2000/train.txt sentence 2, token 1: "
                                        "'E-NP' is not one of the iob2 tags"):
        load_corpus("conll2000", tmp_path)
    write_zip(tmp_path / "conll2000.zip", {
        "conll2000/train.txt": sentence_lines(0), "conll2000/test.txt": b"caf\xe9 NN O\n"})
    with pytest.raises(UserError, match="conll2000/test.txt is not valid utf-8 text"):
        load_corpus("conll2000", tmp_path)


def test_the_real_corpora_have_their_published_sizes(real_data_dir):
    if not (real_data_dir / "conll2000.zip").is_file():
        pytest.skip(f"no conll2000.zip in {real_data_dir}")
    expected = {
        "conll2000": {"train": (8042, 190168), "validation": (894, 21559), "test": (2012, 47377)},
        "conll2002-es": {"train": (8323, 264715), "validation": (1915, 52923),
                         "test": (1517, 51533)},
        "conll2002-nl": {"train": (15806, 202644), "validation": (2895, 37687),
                         "test": (5195, 68875)},
    }
    corpora = {name: load_corpus(name, real_data_dir) for name in expected
               if (real_data_dir / conll.CORPORA[name].archive).is_file()}
    for name, corpus in corpora.items():
        sizes = {split: (len(s), sum(map(len, s))) for split, s in corpus.items()}
        assert sizes == expected[name], name
        assert all(len(s.features) == 1 for s in corpus["test"])
    # Train and validation together are CoNLL-2000's published training set, 8,936 sentences
    # and 211,727 tokens; the validation sentences are a fixed draw: pinned here.
    validation = corpora["conll2000"]["validation"]
    assert validation[0].tokens[:3] == ("Estimated", "volume", "was")
    assert validation[-1].tokens[:3] == ("But", "a", "secondary")
