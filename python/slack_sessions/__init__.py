"""A local emulator of Slack's ``admin.users.session.*`` Web API for Python tests.

The wheel carries the ``slack-sessions`` binary (the Rust emulator and CLI); this package starts
it and steers it:

* :class:`Emulator`: a context manager that runs the emulator on a free loopback port, with
  ``api_url`` for ``slack_sdk`` and methods for its control plane (reset, faults, the request
  journal, the audit log, simulated sign-ins, the whole state);
* a pytest plugin (loaded automatically once installed): the ``slack_emulator`` fixture, the
  ``slack_seed`` marker and the ``--slack-rate-limits`` option; see
  :mod:`slack_sessions.pytest_plugin`.
"""

from __future__ import annotations

from ._binary import BINARY_ENV, find_binary
from .emulator import DEMO_ADMIN_TOKEN, Effect, Emulator, SeedLike, admin_token_of, format_journal
from .errors import BinaryNotFoundError, ControlError, EmulatorError, StartError

try:
    from importlib.metadata import PackageNotFoundError, version

    try:
        __version__ = version("slack-sessions")
    except PackageNotFoundError:  # running from a source checkout
        __version__ = "0.0.0+unknown"
except ImportError:  # pragma: no cover - Python < 3.8
    __version__ = "0.0.0+unknown"

__all__ = [
    "BINARY_ENV",
    "DEMO_ADMIN_TOKEN",
    "BinaryNotFoundError",
    "ControlError",
    "Effect",
    "Emulator",
    "EmulatorError",
    "SeedLike",
    "StartError",
    "__version__",
    "admin_token_of",
    "find_binary",
    "format_journal",
]
