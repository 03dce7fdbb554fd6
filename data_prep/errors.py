"""The one exception type of the project.

Its message names the bad input and, where there is one, the fix. CLIs print it as one
line and exit non-zero; the server turns it into a JSON error.
"""


class S2SError(Exception):
    """A user-facing error: bad input, missing file, unknown version."""
