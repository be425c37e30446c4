"""Errors that reach the user as one clear line (CLI exit code 2, a message in the app)."""


class InputError(ValueError):
    """Bad input: unreadable, binary, empty, too large, wrong language or format.
    The message names the file and says what is wrong, in one line."""
