"""seqrnn.train (training.py): the library's one entry point, and its resume="auto" policy."""

import pytest

import seqrnn
from seqrnn.errors import UserError

TEXT = "".join(f"{w} the cat sat on the mat.\n" for w in ["one", "two", "three"] * 30)
SMALL = {"hidden_size": 8, "batch_size": 4, "num_steps": 8, "eval_rows": 2, "epochs": 1,
         "progress": False, "device": "cpu", "sample_length": 0}


@pytest.fixture
def text(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text(TEXT)
    return str(path)


def settings(text, **changes):
    small = {k: v for k, v in SMALL.items() if k != "sample_length"}
    return {"text": text, **small, **changes}


def test_resume_auto_with_amp_auto_continues_the_run_it_started(text, tmp_path):
    # The run records what "auto" chose ("on" where the machine has bfloat16 units): the same
    # command again continues it instead of refusing a changed amp.
    first = seqrnn.train("charlm", tmp_path / "r", amp="auto", max_steps=2, **settings(text))
    again = seqrnn.train("charlm", tmp_path / "r", resume="auto", amp="auto", max_steps=4,
                         **settings(text))
    assert (first.result.step, again.result.step) == (2, 4)


def test_resume_auto_still_refuses_another_amp(text, tmp_path):
    seqrnn.train("charlm", tmp_path / "r", amp="off", max_steps=2, **settings(text))
    with pytest.raises(UserError, match="drop amp"):
        seqrnn.train("charlm", tmp_path / "r", resume="auto", amp="on", max_steps=4,
                     **settings(text))
