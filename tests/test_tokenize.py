import random
from string import punctuation

from seqrnn.data.tokenize import iter_tokenized, tokenize


def lecture_tokenize(review: str) -> list[str]:
    """The lecture's tokenizer, verbatim: the oracle for text without HTML line breaks."""
    text = "".join([c if c not in punctuation else " " + c + " " for c in review]).lower()
    return text.split()


def test_lowercases_and_splits_off_punctuation():
    assert tokenize("This movie was GREAT!!! Don't miss it (really).") == [
        "this", "movie", "was", "great", "!", "!", "!", "don", "'", "t", "miss", "it",
        "(", "really", ")", ".",
    ]  # fmt: skip


def test_removes_html_line_breaks_in_every_spelling():
    text = "Loved it.<br /><br />Would watch again<br/>and<BR>again<br  />too"
    assert tokenize(text) == [
        "loved", "it", ".", "would", "watch", "again", "and", "again", "too",
    ]  # fmt: skip
    # The lecture's tokenizer would have kept the tag as four tokens.
    assert lecture_tokenize("a<br />b") == ["a", "<", "br", "/", ">", "b"]


def test_other_angle_brackets_stay_punctuation():
    assert tokenize("1 < 2 <i>yes</i>") == ["1", "<", "2", "<", "i", ">", "yes", "<", "/", "i", ">"]


def test_empty_and_blank_text_give_no_tokens():
    assert tokenize("") == []
    assert tokenize("  \n\t<br />  ") == []


def test_matches_the_lecture_tokenizer_on_random_text():
    rng = random.Random(0)
    alphabet = "abcXYZ019 \t\n\u00a0éß–…" + punctuation
    for _ in range(500):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 40)))
        assert tokenize(text) == lecture_tokenize(text), repr(text)


def test_non_ascii_letters_and_symbols_stay_inside_words():
    # string.punctuation is ASCII only, as in the lecture: "…" is not split off.
    assert tokenize("Café… naïve—great") == ["café…", "naïve—great"]


def test_iter_tokenized_streams_in_order():
    texts = ["A b.", "", "C<br />d"]
    stream = iter_tokenized(texts)
    assert next(stream) == ["a", "b", "."]
    assert list(stream) == [[], ["c", "d"]]


def test_progress_bar_on_stderr_only_when_asked(capsys):
    assert list(iter_tokenized(["A.", "b"], progress=True)) == [["a", "."], ["b"]]
    captured = capsys.readouterr()
    assert "tokenizing" in captured.err and captured.out == ""
    list(iter_tokenized(["A.", "b"]))
    assert capsys.readouterr().err == ""
