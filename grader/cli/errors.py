"""Exit codes and the CLI's error classes: each error carries its own exit code."""

from __future__ import annotations

import enum

import click

__all__ = ["ExitCode", "UsageProblem"]


class ExitCode(enum.IntEnum):
    """What the `grader` command's exit status means."""

    OK = 0
    CHECKS_FAILED = 1
    USAGE_ERROR = 2
    INTERNAL_ERROR = 3


class UsageProblem(click.UsageError):
    """Bad input from the person at the keyboard: exit status 2 with a plain message."""

    exit_code = ExitCode.USAGE_ERROR
