"""Exceptions that the library raises for user mistakes.

Every user-facing error is an :class:`LsmEdgeError` (a ``ValueError``); the CLI prints its
message on one line and exits non-zero, with no traceback.
"""


class LsmEdgeError(ValueError):
    """A user error: bad input, a bad file, a bad option. The message says what and what was expected."""


class DataFormatError(LsmEdgeError):
    """A data file is malformed or in a layout we do not recognise (the message names file and line)."""


class SchemaError(LsmEdgeError):
    """Features, shapes or values do not match the schema."""


class OptionError(LsmEdgeError):
    """An option's value, or a combination of options, is not allowed (the CLI exits 2, as for a usage error)."""
