"""The ``geogrid`` command's fixtures, shared with the CLI tests."""

from tests.cli.conftest import cli_for

__all__ = ["cli_for"]
