import argparse

import pytest

from seqrnn.cli.options import path_arg
from seqrnn.errors import UserError, flag
from seqrnn.paths import given_path

TAIL = "is empty: name a file or folder (is a shell variable unset?)"


@pytest.mark.parametrize("path", ["", "  ", "\t"])
def test_an_empty_path_is_one_line_naming_its_field_or_what_it_is(path):
    with pytest.raises(UserError) as error:
        given_path(path, "resume")
    assert error.value.field == "resume" and error.value.render(flag) == f"--resume {TAIL}"
    with pytest.raises(UserError) as error:
        given_path(path, what="the run folder's path")
    assert str(error.value) == f"the run folder's path {TAIL}" and error.value.fields == ()
    with pytest.raises(argparse.ArgumentTypeError) as usage:
        path_arg(path)  # the command line's usage error: the same words
    assert str(usage.value) == f"the path {TAIL}"


def test_a_path_is_given_back_as_it_is():
    assert given_path("runs/a b") == "runs/a b" and path_arg(" x") == " x"
