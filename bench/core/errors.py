"""User-facing errors.

Every error a user can cause (a bad file, an unknown name, a bad config key, a
corrupt checkpoint) is raised as a :class:`BenchError` subclass carrying a message
that names the file and, where known, the line. The CLI prints the message and
exits non-zero without a traceback; library users catch ``BenchError``.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterable, Optional, Union

PathLike = Union[str, Path]


class BenchError(Exception):
    """Base class of every error the toolkit raises on bad input. CLI exit code 1."""

    exit_code = 1


class DataError(BenchError):
    """A data file is missing, unreadable or malformed.

    The message reads ``<path>:<line>: <what is wrong>`` (``line`` is 1-based).
    """

    def __init__(self, message: str, path: Optional[PathLike] = None, line: Optional[int] = None):
        self.path = None if path is None else str(path)
        self.line = line
        self.detail = message
        where = ""
        if self.path is not None:
            where = self.path + (f":{line}" if line is not None else "") + ": "
        super().__init__(where + message)


class DatasetNotFoundError(DataError):
    """A dataset root (or a required file inside it) does not exist.

    ``hint`` says where the dataset comes from (download page or command).
    """

    def __init__(self, message: str, path: Optional[PathLike] = None, hint: str = ""):
        self.hint = hint
        super().__init__(message + (f"\n  {hint}" if hint else ""), path=path)


class ConfigError(BenchError):
    """A configuration file or ``--set`` override is invalid (unknown key, bad type)."""


class CheckpointError(BenchError):
    """A weight file cannot be loaded: unreadable, unknown format, missing keys or bad shapes."""


class UnknownNameError(BenchError):
    """An unknown tracker, dataset or metric name. CLI exit code 2.

    The message lists the known names and the closest match.
    """

    exit_code = 2

    def __init__(self, kind: str, name: str, known: Iterable[str], plural: Optional[str] = None):
        self.kind, self.name = kind, name
        self.known = sorted(set(known))
        self.closest = closest_match(name, self.known)
        msg = f"unknown {kind} '{name}'."
        if self.closest:
            msg += f" Did you mean '{self.closest}'?"
        msg += f"\n  known {plural or kind + 's'}: " + (", ".join(self.known) if self.known else "(none)")
        super().__init__(msg)


def closest_match(name: str, known: Iterable[str]) -> Optional[str]:
    """Closest name in ``known`` (case-insensitive), or None when nothing is similar."""
    known = list(known)
    lower = {k.lower(): k for k in known}
    hits = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.5)
    return lower[hits[0]] if hits else None
