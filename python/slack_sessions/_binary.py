"""Locating the ``slack-sessions`` executable that the wheel installs.

The wheel is built by maturin with ``bindings = "bin"``: the Rust binary is installed into the
environment's scripts folder (``<venv>/bin`` on Linux and macOS, ``<venv>\\Scripts`` on Windows),
next to the Python interpreter's other console scripts. That folder is not always on ``PATH``
(a venv used without being activated, ``python -m pytest`` from an IDE), so it is searched first,
then the user scheme's scripts folder (``pip install --user``), then ``PATH``.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
from pathlib import Path

from .errors import BinaryNotFoundError

#: Environment variable that names the binary to run, overriding every search.
BINARY_ENV = "SLACK_SESSIONS_BIN"

#: The executable's file name on this platform.
BINARY_NAME = "slack-sessions.exe" if os.name == "nt" else "slack-sessions"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _scripts_dirs() -> list[Path]:
    """The folders where pip puts console scripts for this interpreter, best first."""
    dirs: list[Path] = []
    candidates: list[str | None] = [sysconfig.get_path("scripts")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        try:
            candidates.append(sysconfig.get_path("scripts", user_scheme))
        except KeyError:  # pragma: no cover - odd platforms
            pass
    # A venv's interpreter lives in its scripts folder; covers unusual sysconfig layouts.
    candidates.append(str(Path(sys.executable).parent))
    for candidate in candidates:
        if candidate and Path(candidate) not in dirs:
            dirs.append(Path(candidate))
    return dirs


def find_binary() -> str:
    """Returns the path of the ``slack-sessions`` executable to start.

    Order: the ``SLACK_SESSIONS_BIN`` environment variable (which must then name an executable
    file), this interpreter's scripts folder (where ``pip install slack-sessions`` put it), the
    user scripts folder, then ``PATH``.

    Raises:
        BinaryNotFoundError: nothing was found; the message lists every place searched.
    """
    override = os.environ.get(BINARY_ENV)
    if override:
        path = Path(override).expanduser()
        if _is_executable(path):
            return str(path)
        raise BinaryNotFoundError(
            f"{BINARY_ENV}={override!r} is not an executable file"
            + (" (it does not exist)" if not path.exists() else "")
        )
    searched = _scripts_dirs()
    for folder in searched:
        path = folder / BINARY_NAME
        if _is_executable(path):
            return str(path)
    on_path = shutil.which(BINARY_NAME)
    if on_path:
        return on_path
    places = ", ".join(str(d) for d in searched)
    raise BinaryNotFoundError(
        f"the {BINARY_NAME} executable was not found (searched {places} and PATH). "
        f"Install the package with `pip install slack-sessions` (its wheel carries the binary), "
        f"build it with `cargo build --release -p slack-sessions`, or set {BINARY_ENV} to its path."
    )
