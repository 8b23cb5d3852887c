import os

import pytest

from seqrnn.data import identity
from seqrnn.data.identity import IN_MEMORY, absolute, check_unchanged, fingerprint, same_data
from seqrnn.errors import UserError


def test_a_fingerprint_is_the_absolute_path_size_and_content_hash(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("hello")
    monkeypatch.chdir(tmp_path)
    first = fingerprint("a.txt")
    assert first["path"] == str(tmp_path / "a.txt") and first["size"] == 5
    (tmp_path / "a.txt").write_text("hellO")  # same size, other content
    assert fingerprint("a.txt")["blake2b"] != first["blake2b"]
    (tmp_path / "b.txt").write_text("hello")  # a copy elsewhere: the same content
    assert fingerprint("b.txt")["blake2b"] == first["blake2b"]


def test_a_folder_is_hashed_by_its_files_names_and_contents(tmp_path):
    (tmp_path / "d" / "pos").mkdir(parents=True)
    (tmp_path / "d" / "pos" / "1.txt").write_text("good")
    before = fingerprint(str(tmp_path / "d"))
    (tmp_path / "d" / "pos" / "1.txt").rename(tmp_path / "d" / "pos" / "2.txt")
    renamed = fingerprint(str(tmp_path / "d"))
    assert renamed["size"] == before["size"] == 4 and renamed["blake2b"] != before["blake2b"]


def test_a_large_file_is_hashed_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(identity, "CHUNK", 3)
    (tmp_path / "a.txt").write_text("abcdefgh")
    chunked = fingerprint(str(tmp_path / "a.txt"))
    monkeypatch.setattr(identity, "CHUNK", 1 << 20)
    assert chunked == fingerprint(str(tmp_path / "a.txt"))


def test_a_named_dataset_is_fingerprinted_as_the_file_it_resolves_to(tmp_path, monkeypatch):
    (tmp_path / "pg2265.txt").write_text("Hamlet")
    monkeypatch.setenv("SEQRNN_DATA", str(tmp_path))
    assert fingerprint("hamlet")["path"] == str(tmp_path / "pg2265.txt")
    (tmp_path / "cmudict.dict").write_text("a AH0\n")
    assert fingerprint("cmudict")["path"] == str(tmp_path / "cmudict.dict")


def test_paths_become_absolute_and_names_stay_names(tmp_path, monkeypatch):
    (tmp_path / "r.csv").write_text("x")
    monkeypatch.chdir(tmp_path)
    assert absolute("r.csv") == str(tmp_path / "r.csv")
    assert absolute("hamlet") == "hamlet" and absolute("missing.csv") == "missing.csv"


def test_changed_data_is_refused_in_one_line_unless_allowed(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("text,label\na,1\n")
    recorded = fingerprint(str(path))
    assert check_unchanged(recorded, None, str(path), run=tmp_path, field="data") == recorded
    with path.open("a") as f:
        f.write("b,0\n")
    with pytest.raises(UserError) as error:
        check_unchanged(recorded, None, str(path), run=tmp_path / "run", field="data")
    message = str(error.value)
    assert f"{path} changed since the run in {tmp_path / 'run'} read it" in message
    assert "15 bytes then, 19 now" in message and "\n" not in message
    assert error.value.fields == ("data", "allow_changed_data")
    now = check_unchanged(recorded, None, str(path), run=tmp_path, field="data",
                          allow_changed=True)
    assert now["size"] == 19


def test_another_file_than_the_run_read_is_named(tmp_path):
    (tmp_path / "a.csv").write_text("one")
    (tmp_path / "b.csv").write_text("two")
    recorded = fingerprint(str(tmp_path / "a.csv"))
    with pytest.raises(UserError, match=f"b.csv is not the data the run in .* read "
                       f".{tmp_path / 'a.csv'}; same size, other content.") as error:
        check_unchanged(recorded, str(tmp_path / "b.csv"), str(tmp_path / "a.csv"),
                        run=tmp_path, field="text")
    assert error.value.fields[0] == "text"
    os.replace(tmp_path / "a.csv", tmp_path / "moved.csv")  # moved, not changed: accepted
    assert check_unchanged(recorded, str(tmp_path / "moved.csv"), str(tmp_path / "a.csv"),
                           run=tmp_path, field="data")["path"] == str(tmp_path / "moved.csv")


def test_a_run_without_a_fingerprint_takes_the_data_as_it_is(tmp_path):
    (tmp_path / "a.txt").write_text("anything")
    assert check_unchanged(None, None, str(tmp_path / "a.txt"), run=tmp_path,
                           field="text")["size"] == 8


def test_data_fitted_in_memory_must_be_given(tmp_path):
    with pytest.raises(UserError, match="fitted on texts in memory, which it does not keep: "
                       "give the data with data") as error:
        check_unchanged(IN_MEMORY, None, "imdb", run=tmp_path, field="data")
    assert error.value.fields == ("data",)
    (tmp_path / "r.csv").write_text("x")
    assert check_unchanged(IN_MEMORY, str(tmp_path / "r.csv"), "imdb", run=tmp_path,
                           field="data")["size"] == 1


def test_same_data_is_the_run_s_path_or_where_it_recorded_one_its_content(tmp_path, monkeypatch):
    (tmp_path / "a.csv").write_text("one")
    monkeypatch.chdir(tmp_path)
    recorded = fingerprint("a.csv")
    assert same_data(None, "a.csv", recorded) and same_data("a.csv", "a.csv", recorded)
    assert same_data(str(tmp_path / "a.csv"), "a.csv", None)  # the same file, resolved
    (tmp_path / "a.csv").write_text("changed")  # still the run's data: check_unchanged refuses
    assert same_data(str(tmp_path / "a.csv"), "elsewhere/a.csv", recorded)
    (tmp_path / "copy.csv").write_text("one")  # moved or copied, unchanged: the same data
    assert same_data("copy.csv", "a.csv", recorded)
    (tmp_path / "edited.csv").write_text("One")  # a moved, edited copy: other data
    assert not same_data("edited.csv", "a.csv", recorded)
    assert not same_data("copy.csv", "a.csv", None)  # no fingerprint: only its path is known


def test_a_glob_is_fingerprinted_by_the_files_it_matches(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("one")
    (tmp_path / "b.txt").write_text("two")
    monkeypatch.chdir(tmp_path)
    assert absolute("*.txt") == str(tmp_path / "*.txt")
    first = fingerprint("*.txt")
    assert first["size"] == 6 and first["path"] == str(tmp_path / "*.txt")
    (tmp_path / "c.txt").write_text("three")  # a new file matched: other data
    assert fingerprint("*.txt")["blake2b"] != first["blake2b"]
    (tmp_path / "c.txt").unlink()
    assert fingerprint("*.txt") == first
