"""The exceptions raised by :mod:`slack_sessions`."""

from __future__ import annotations


class EmulatorError(Exception):
    """Base class: anything that went wrong with the emulator process or its control plane."""


class BinaryNotFoundError(EmulatorError, FileNotFoundError):
    """The ``slack-sessions`` executable could not be found (or ``SLACK_SESSIONS_BIN`` is wrong)."""


class StartError(EmulatorError):
    """The emulator did not start: it exited, or did not answer in time.

    Attributes:
        returncode: the process's exit code, or ``None`` if it was still running (a timeout).
        stderr: what the process wrote on standard error (its ``error: …`` line names the cause,
            e.g. the seed entry that is not valid).
    """

    def __init__(self, message: str, *, returncode: int | None = None, stderr: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stderr = stderr


class ControlError(EmulatorError):
    """A ``/_emulator/`` control route answered with an error.

    Attributes:
        status: the HTTP status.
        code: the error code of the answer (e.g. ``invalid_fault``, ``user_not_found``).
        detail: the explanation the emulator gave.
    """

    def __init__(self, route: str, status: int, code: str, detail: str) -> None:
        super().__init__(f"{route}: HTTP {status} {code}" + (f": {detail}" if detail else ""))
        self.route = route
        self.status = status
        self.code = code
        self.detail = detail
