"""The one exception type for mistakes a user can fix.

The CLI prints its message on one line and exits with status 2, without a
traceback; library callers catch it like any other exception.
"""


class UserError(Exception):
    """Bad input: the message names the problem and the fix."""
