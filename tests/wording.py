"""Checking a library error as the command line words it (its fields spelled as flags)."""

import re
from contextlib import contextmanager

import pytest

from seqrnn.errors import UserError, flag


@contextmanager
def raises_as_cli(pattern: str):
    """Expect a UserError whose message, fields spelled as flags, matches `pattern`."""
    with pytest.raises(UserError) as info:
        yield info
    text = info.value.render(flag)
    assert re.search(pattern, text), text
