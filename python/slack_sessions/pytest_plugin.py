"""pytest plugin of ``slack-sessions``: a Slack emulator fixture, without a conftest.

Registered through the ``pytest11`` entry point, so it is active as soon as the package is
installed (``-p no:slack_sessions`` turns it off). It provides:

* the fixture ``slack_emulator``: an :class:`~slack_sessions.Emulator` (the demo org unless the
  test says otherwise), reset before each test with :meth:`~slack_sessions.Emulator.reset`
  (seed state, rate-limit buckets, no fault rules, empty journal). One process serves the
  whole test session (one per ``pytest-xdist`` worker), started on first use and stopped at
  the end;
* the marker ``@pytest.mark.slack_seed(seed)``: the test's emulator is started with this seed
  (a dict, or a path to a seed file: relative paths are looked up from the test file's folder,
  then the rootdir, then the current folder). One process per distinct seed, shared by the
  tests that use it. On a class or module (``pytestmark``), it applies to every test in it;
* the option ``--slack-rate-limits off|slack|scale=N`` (ini: ``slack_rate_limits``; default
  ``off``);
* on a failed test, the request journal of that test (every API call the emulator saw, its
  arguments, status, Slack error and injected fault) as a report section
  ``slack emulator requests``.

Example::

    from slack_sdk import WebClient

    def test_lists_sessions(slack_emulator):
        client = WebClient(token=slack_emulator.admin_token, base_url=slack_emulator.api_url)
        assert client.admin_users_session_list(limit=5)["active_sessions"]
"""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from ._binary import find_binary
from .emulator import Emulator, SeedLike, format_journal
from .errors import EmulatorError

__all__ = ["slack_emulator"]

_SeedKey = tuple[str, str]


class _Pool:
    """The emulators of one pytest process, one per distinct seed, started on first use."""

    def __init__(self, rate_limits: str) -> None:
        self.rate_limits = rate_limits
        self._emulators: dict[_SeedKey, Emulator] = {}
        self._failures: dict[_SeedKey, EmulatorError] = {}

    @staticmethod
    def key(seed: SeedLike) -> _SeedKey:
        if seed is None:
            return ("demo", "")
        if isinstance(seed, (str, os.PathLike)):
            return ("path", str(Path(os.fspath(seed)).resolve()))
        return ("dict", json.dumps(seed, sort_keys=True, default=str))

    def get(self, seed: SeedLike) -> Emulator:
        key = self.key(seed)
        emulator = self._emulators.get(key)
        if emulator is not None and emulator.running:
            return emulator
        if key in self._failures:  # do not retry a start that failed, for every test
            raise self._failures[key]
        emulator = Emulator(seed=seed, rate_limits=self.rate_limits)
        try:
            emulator.start()
        except EmulatorError as e:
            self._failures[key] = e
            raise
        self._emulators[key] = emulator
        return emulator

    def close(self) -> None:
        for emulator in self._emulators.values():
            emulator.stop()
        self._emulators.clear()


_POOL = pytest.StashKey[_Pool]()
# The emulator a test used, and the journal id its calls come after.
_USED = pytest.StashKey[tuple[Emulator, int]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("slack-sessions", "Slack admin.users.session emulator")
    group.addoption(
        "--slack-rate-limits",
        dest="slack_rate_limits",
        default=None,
        metavar="MODE",
        help="rate limits of the slack_emulator fixture: off (default), slack, or scale=N",
    )
    parser.addini(
        "slack_rate_limits",
        "rate limits of the slack_emulator fixture: off (default), slack, or scale=N",
        default="off",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "slack_seed(seed): run the test against an emulator started with this seed "
        "(a dict in the seed file's shape, or a path to a seed file)",
    )
    rate_limits = config.getoption("slack_rate_limits") or config.getini("slack_rate_limits") or "off"
    config.stash[_POOL] = _Pool(str(rate_limits))


def pytest_unconfigure(config: pytest.Config) -> None:
    pool = config.stash.get(_POOL, None)
    if pool is not None:
        pool.close()


def pytest_report_header(config: pytest.Config) -> str:
    pool = config.stash[_POOL]
    try:
        binary = find_binary()
    except EmulatorError as e:
        binary = f"not found ({e})"
    return f"slack-sessions emulator: {binary} (rate limits: {pool.rate_limits})"


def _marker_seed(request: pytest.FixtureRequest) -> SeedLike:
    marker = request.node.get_closest_marker("slack_seed")
    if marker is None:
        return None
    if marker.args:
        seed: Any = marker.args[0]
    elif "seed" in marker.kwargs:
        seed = marker.kwargs["seed"]
    else:
        raise pytest.UsageError("@pytest.mark.slack_seed needs a seed: a dict or a path")
    if seed is None or isinstance(seed, dict):
        return seed
    if not isinstance(seed, (str, os.PathLike)):
        raise pytest.UsageError(f"@pytest.mark.slack_seed takes a dict or a path, not {type(seed).__name__}")
    path = Path(os.fspath(seed)).expanduser()
    if path.is_absolute():
        return path
    bases = [Path(str(request.node.path)).parent, Path(str(request.config.rootpath)), Path.cwd()]
    for base in bases:
        if (base / path).exists():
            return base / path
    return bases[0] / path  # the binary names the missing file


@pytest.fixture
def slack_emulator(request: pytest.FixtureRequest) -> Iterator[Emulator]:
    """A running :class:`~slack_sessions.Emulator`, reset to its seed for this test.

    The demo org (admin token ``xoxp-demo-admin``) unless the test is marked
    ``@pytest.mark.slack_seed(seed)``. Use ``slack_emulator.api_url`` as ``slack_sdk``'s
    ``base_url`` and ``slack_emulator.admin_token`` as its token.
    """
    pool: _Pool = request.config.stash[_POOL]
    emulator = pool.get(_marker_seed(request))
    emulator.reset()
    # reset() emptied the journal: every entry from now on belongs to this test.
    request.node.stash[_USED] = (emulator, 0)
    yield emulator


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.failed or report.when not in ("setup", "call"):
        return
    used: tuple[Emulator, int] | None = item.stash.get(_USED, None)
    if used is None:
        return
    emulator, after = used
    text: str | None
    try:
        text = format_journal(emulator.requests(after=after))
    except EmulatorError as e:
        text = f"(the journal could not be read: {e})"
    report.sections.append(("slack emulator requests", text))
