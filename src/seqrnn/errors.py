"""The one exception type for mistakes a user can fix.

A message may name configuration fields as placeholders, `{top_k}`, listed in
`fields`; each front end spells them in its own words: the command line as
flags (`--top-k`), the server as JSON fields (`top_k`). `str(error)` spells
them as the fields themselves, which is also what Python callers pass.
"""

from __future__ import annotations

from collections.abc import Callable

# Every character str.splitlines breaks at, escaped: a message quoting the user's input (a
# column name, a file's text) stays one line.
_ONE_LINE = str.maketrans({c: repr(c)[1:-1] for c in "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"})


class UserError(Exception):
    """Bad input: the message names the problem and the fix."""

    def __init__(self, message: str, *, fields: tuple[str, ...] = ()):
        self.template = message
        self.fields = tuple(fields)
        super().__init__(self.render(str))

    @property
    def field(self) -> str | None:
        """The first field the error is about, or None when it is about no field."""
        return self.fields[0] if self.fields else None

    def render(self, spell: Callable[[str], str]) -> str:
        """The message, on one line, with each field placeholder replaced by `spell(field)`."""
        text = self.template.translate(_ONE_LINE)
        for name in self.fields:
            text = text.replace("{" + name + "}", spell(name))
        return text


def field_error(name: str, message: str) -> UserError:
    """A UserError about field `name`; `{}` in `message` stands for the field."""
    return UserError(message.replace("{}", "{" + name + "}"), fields=(name,))


def flag(name: str) -> str:
    """A field as the command line spells it: top_k -> --top-k."""
    return "--" + name.replace("_", "-")
