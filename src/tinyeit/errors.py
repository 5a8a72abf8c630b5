"""One exception type for every user-facing failure, so the CLI and rules can report it plainly."""


class TinyEitError(Exception):
    """A failure caused by the user's input or environment; the message says what and where."""
