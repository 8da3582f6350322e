"""The :class:`Emulator`: a ``slack-sessions serve`` process on a free loopback port.

The process is the Rust emulator shipped inside this package's wheel. Python talks to it only
over HTTP: your code under test calls ``api_url`` (Slack's Web API shape, e.g. with
``slack_sdk.WebClient(base_url=emulator.api_url)``), and the methods of :class:`Emulator` call
its control plane under ``/_emulator/`` (reset, fault rules, the request journal, the audit log,
simulated sign-ins, the whole state).

Process lifetime: the server is started by :meth:`Emulator.start` (or ``with Emulator() as
emulator:``) and stopped by :meth:`Emulator.stop` (or leaving the ``with`` block, also when the
block raises). If neither happens, it is killed when the :class:`Emulator` object is garbage
collected or the interpreter exits (a :func:`weakref.finalize` hook). And it dies with the Python
process however that dies (``SIGKILL``, a crash), from whatever thread it was started: it runs
with ``--exit-on-stdin-close`` and its standard input is a pipe whose only write end this process
holds, which the kernel closes when the process ends. (A process forked from this one, e.g. by
``multiprocessing`` with the ``fork`` start method, inherits that end too: the server then lives
until both have ended.)

Nothing is written to disk: a seed dict goes to the server on that same standard input
(``--seed -``), so its tokens never land in a temporary file that a killed process would leave
behind; with the default ``db=":memory:"`` the state lives in the server's memory only.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from queue import Empty, Queue
from types import TracebackType
from typing import IO, Any, Callable, Union

from ._binary import find_binary
from .errors import ControlError, EmulatorError, StartError

__all__ = ["DEMO_ADMIN_TOKEN", "Effect", "Emulator", "SeedLike", "admin_token_of", "format_journal"]

#: The admin token of the demo org (``serve --demo``): an org owner with every scope.
DEMO_ADMIN_TOKEN = "xoxp-demo-admin"

#: What ``seed=`` accepts: ``None`` (the demo org), a seed dict, or the path of a seed file.
SeedLike = Union[None, Mapping[str, Any], str, "os.PathLike[str]"]

#: A fault effect in the control plane's encoding: ``{"error": "internal_error"}``,
#: ``{"rate_limited": 5}``, ``{"http_status": 503}``, ``{"latency_ms": 300}``, or one of the
#: strings ``"empty_body"``, ``"non_json"``, ``"truncated_json"``, ``"reset_connection"``.
Effect = Union[str, Mapping[str, Any]]

_UNIT_EFFECTS = frozenset({"empty_body", "non_json", "truncated_json", "reset_connection"})
_VALUED_EFFECTS = frozenset({"error", "rate_limited", "http_status", "latency_ms"})
_DEVICE_FIELDS = frozenset(
    {
        "client",
        "session_id",
        "device_hardware",
        "os",
        "os_version",
        "slack_client_version",
        "ip",
    }
)
_ADMIN_ROLES = frozenset({"admin", "owner", "primary_owner"})

# The line `serve` prints once it listens: "slack-sessions emulator listening on http://…/api/".
_LISTENING = re.compile(r"listening on (https?://\S+?)/api/?(?:\s|$)")
# Fallback: the first loopback URL on any line.
_ANY_URL = re.compile(r"(https?://(?:127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+)")

# Control-plane calls go straight to loopback, never through an HTTP(S)_PROXY of the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

def admin_token_of(seed: Mapping[str, Any]) -> str | None:
    """The first admin token of a seed, or ``None``.

    That is the first token, in seed order (orgs, then their tokens), of type ``user`` (the
    default unless it starts with ``xoxb-``), state ``active`` (the default), whose user is a
    non-deleted, non-bot ``admin``, ``owner`` or ``primary_owner`` of the same org, and whose
    scopes include ``admin.users:write``. If no token has that scope, the first one with
    ``admin.users:read`` is taken instead.
    """
    read_only: str | None = None
    for org in seed.get("orgs") or []:
        users = {u.get("id"): u for u in org.get("users") or [] if isinstance(u, Mapping)}
        for token in org.get("tokens") or []:
            if not isinstance(token, Mapping):
                continue
            secret = token.get("token")
            if not isinstance(secret, str):
                continue
            kind = token.get("type") or ("bot" if secret.startswith("xoxb-") else "user")
            if kind != "user" or (token.get("state") or "active") != "active":
                continue
            user = users.get(token.get("user_id"))
            if user is None or user.get("deleted") or user.get("is_bot"):
                continue
            if (user.get("role") or "member") not in _ADMIN_ROLES:
                continue
            scopes = token.get("scopes") or []
            if "admin.users:write" in scopes:
                return secret
            if read_only is None and "admin.users:read" in scopes:
                read_only = secret
    return read_only


def _pump(stream: IO[bytes], sink: Callable[[str], None]) -> None:
    """Reads `stream` line by line until EOF, handing each decoded line to `sink`."""
    try:
        for raw in iter(stream.readline, b""):
            sink(raw.decode("utf-8", "replace").rstrip("\r\n"))
    except (OSError, ValueError):  # closed under our feet at shutdown
        pass
    finally:
        try:
            stream.close()
        except OSError:  # pragma: no cover
            pass


def _terminate(proc: subprocess.Popen[bytes], grace: float) -> None:
    """Stops the process: closes its standard input (it shuts down on that), then kills it if
    it is still running after `grace` seconds.

    Module-level so that :func:`weakref.finalize` does not keep the :class:`Emulator` alive.
    """
    try:
        if proc.poll() is None:
            if grace > 0 and proc.stdin is not None:
                try:
                    proc.stdin.close()
                    proc.wait(timeout=grace)
                except (OSError, subprocess.TimeoutExpired):
                    pass
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):  # pragma: no cover - best effort
        pass
    finally:
        if proc.stdin is not None:
            try:
                proc.stdin.close()
            except OSError:  # pragma: no cover
                pass


class Emulator:
    """A local Slack ``admin.users.session.*`` emulator, run from the bundled binary.

    Example::

        from slack_sdk import WebClient
        from slack_sessions import Emulator

        with Emulator() as emulator:                       # the demo org
            client = WebClient(token=emulator.admin_token, base_url=emulator.api_url)
            print(client.admin_users_session_list(limit=5)["active_sessions"])

    Args:
        seed: ``None`` for the demo org (``serve --demo``); a dict in the seed file's shape
            (handed to the server on its standard input, never written to disk); or the path of
            a seed file (JSON).
        rate_limits: ``"off"`` (default: functional tests), ``"slack"`` (Slack's tiers), or
            ``"scale=N"`` (windows N times shorter).
        db: ``":memory:"`` (default) or the path of a SQLite file. A file that already holds
            state is kept as it is; :meth:`reset` restores the seed.
        binary: the executable to run; default: :func:`slack_sessions.find_binary`.
        startup_timeout: seconds to wait for the server to answer.
        bulk_delay_ms: delay before a queued ``resetBulk`` job runs (the binary's default: 250).
        fault_seed: seed of the random source behind fault probabilities.
        extra_args: more ``serve`` arguments, appended as given.
        env: environment of the process (default: this process's).

    The process starts in :meth:`start` (``with`` calls it); attributes that need the running
    server raise :class:`EmulatorError` before that.
    """

    def __init__(
        self,
        seed: SeedLike = None,
        rate_limits: str = "off",
        db: str | os.PathLike[str] = ":memory:",
        *,
        binary: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
        bulk_delay_ms: int | None = None,
        fault_seed: int | None = None,
        extra_args: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        if seed is not None and not isinstance(seed, (Mapping, str, os.PathLike)):
            raise TypeError(f"seed must be None, a dict or a path, not {type(seed).__name__}")
        self._seed = seed
        self._rate_limits = str(rate_limits)
        self._db = os.fspath(db)
        self._binary = os.fspath(binary) if binary is not None else None
        self._startup_timeout = startup_timeout
        self._bulk_delay_ms = bulk_delay_ms
        self._fault_seed = fault_seed
        self._extra_args = list(extra_args)
        self._env = dict(env) if env is not None else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None
        self._root: str | None = None
        self._stderr: deque[str] = deque(maxlen=400)
        self._stdout: deque[str] = deque(maxlen=100)
        self._threads: list[threading.Thread] = []
        self._audit_floor = 0
        self._admin_token: str | None = None

    # ------------------------------------------------------------------ lifetime

    def start(self) -> Emulator:
        """Starts the server and waits until it answers; returns ``self``.

        Raises:
            BinaryNotFoundError: no ``slack-sessions`` executable.
            StartError: the process exited (its standard error, which names the cause, is in
                the message and in :attr:`StartError.stderr`) or did not answer within
                ``startup_timeout`` seconds.
        """
        if self._proc is not None:
            raise EmulatorError("this Emulator is already started")
        binary = self._binary or find_binary()
        self._threads = []
        self._stderr.clear()
        self._stdout.clear()
        self._audit_floor = 0
        cmd = [binary, "serve", "--addr", "127.0.0.1:0", "--db", self._db, "--exit-on-stdin-close"]
        cmd += ["--rate-limits", self._rate_limits]
        seed_data = self._seed_data()
        seed_input: bytes | None = None
        if self._seed is None:
            cmd.append("--demo")
            self._admin_token = DEMO_ADMIN_TOKEN
        elif isinstance(self._seed, Mapping):
            seed_input = json.dumps(self._seed).encode("utf-8")
            cmd += ["--seed", "-"]
        else:
            cmd += ["--seed", os.fspath(self._seed)]
        if seed_data is not None:
            self._admin_token = admin_token_of(seed_data)
        if self._bulk_delay_ms is not None:
            cmd += ["--bulk-delay-ms", str(self._bulk_delay_ms)]
        if self._fault_seed is not None:
            cmd += ["--fault-seed", str(self._fault_seed)]
        cmd += self._extra_args

        # The output threads must not reference `self`, or the finalizer would never run.
        lines: Queue[str | None] = Queue()
        stdout_tail, stderr_tail = self._stdout, self._stderr

        def on_stdout(line: str) -> None:
            stdout_tail.append(line)
            lines.put(line)

        try:
            # The pipe's write end is not inheritable (PEP 446): no other child of ours holds it.
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._env,
            )
        except OSError as e:
            raise StartError(f"cannot run {binary}: {e}") from e
        self._proc = proc
        self._finalizer = weakref.finalize(self, _terminate, proc, 0.0)
        out, err = proc.stdout, proc.stderr
        assert out is not None and err is not None

        def stdout_pump() -> None:
            _pump(out, on_stdout)
            lines.put(None)

        def stderr_pump() -> None:
            _pump(err, stderr_tail.append)

        for target in (stdout_pump, stderr_pump):
            thread = threading.Thread(target=target, name="slack-sessions-output", daemon=True)
            thread.start()
            self._threads.append(thread)

        if seed_input is not None and proc.stdin is not None:
            try:
                proc.stdin.write(seed_input)
                proc.stdin.flush()  # and left open: its end of file stops the server
            except OSError:
                pass  # the process has exited: _wait_for_url reports why
        try:
            self._root = self._wait_for_url(lines, time.monotonic() + self._startup_timeout)
            self._wait_until_healthy(time.monotonic() + self._startup_timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _seed_data(self) -> Mapping[str, Any] | None:
        """The seed as a dict, if it is one or a readable JSON file (for :attr:`admin_token`)."""
        if self._seed is None:
            return None
        if isinstance(self._seed, Mapping):
            return self._seed
        try:
            with open(os.fspath(self._seed), encoding="utf-8") as f:
                data = json.load(f)
        except (OSError, ValueError):
            return None  # the binary reports it, with a better message
        return data if isinstance(data, Mapping) else None

    def _stderr_text(self) -> str:
        for thread in self._threads[1:]:
            thread.join(timeout=2)
        return "\n".join(self._stderr).strip()

    def _start_failure(self, why: str) -> StartError:
        proc = self._proc
        code = proc.poll() if proc is not None else None
        if proc is not None and code is None:
            proc.kill()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                pass
        stderr = self._stderr_text()
        message = why
        if stderr:
            message += f"; its standard error:\n{stderr}"
        elif self._stdout:
            message += "; its output:\n" + "\n".join(self._stdout)
        return StartError(message, returncode=code, stderr=stderr)

    def _wait_for_url(self, lines: Queue[str | None], deadline: float) -> str:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._start_failure(
                    f"the emulator did not report its address within {self._startup_timeout:g} s"
                )
            try:
                line = lines.get(timeout=min(remaining, 0.5))
            except Empty:
                continue
            if line is None:  # standard output closed: the process is exiting
                proc = self._running_proc()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass
                raise self._start_failure(f"the emulator exited with code {proc.returncode} before listening")
            match = _LISTENING.search(line) or _ANY_URL.search(line)
            if match:
                return match.group(1).rstrip("/") + "/"

    def _wait_until_healthy(self, deadline: float) -> None:
        last: BaseException | None = None
        while time.monotonic() < deadline:
            if self._proc is not None and self._proc.poll() is not None:
                raise self._start_failure(
                    f"the emulator exited with code {self._proc.returncode} during start-up"
                )
            try:
                self._control("GET", "health", timeout=2)
                return
            except EmulatorError as e:
                last = e
                time.sleep(0.05)
        raise self._start_failure(
            f"the emulator at {self._root} did not answer within "
            f"{self._startup_timeout:g} s (last error: {last})"
        )

    def stop(self) -> None:
        """Stops the server (closes its standard input, then SIGKILL after 3 s).

        Idempotent; :meth:`start` may be called again afterwards (a new process, new port).
        """
        proc, self._proc = self._proc, None
        if self._finalizer is not None:
            self._finalizer.detach()
            self._finalizer = None
        if proc is not None:
            _terminate(proc, 3.0)
        for thread in self._threads:
            thread.join(timeout=2)
        self._proc = None
        self._root = None

    close = stop

    def __enter__(self) -> Emulator:
        if self._proc is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self._root or "not running"
        seed = (
            "demo"
            if self._seed is None
            else ("dict" if isinstance(self._seed, Mapping) else os.fspath(self._seed))
        )
        return f"<Emulator {where} seed={seed} rate_limits={self._rate_limits}>"

    # ------------------------------------------------------------------ addresses

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int:
        """The server's process id."""
        return self._running_proc().pid

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:40123/``."""
        if self._root is None:
            raise EmulatorError("the emulator is not running: call start() or use `with Emulator() as e:`")
        return self._root

    @property
    def api_url(self) -> str:
        """Base URL of the Web API, ending with ``/api/``: ``slack_sdk``'s ``base_url``."""
        return self.url + "api/"

    @property
    def control_url(self) -> str:
        """Base URL of the control plane, ending with ``/_emulator/``."""
        return self.url + "_emulator/"

    @property
    def admin_token(self) -> str:
        """An admin user token: ``xoxp-demo-admin`` for the demo org, else the seed's first admin
        token (see :func:`admin_token_of`).

        Raises:
            EmulatorError: the seed has no such token.
        """
        if self._seed is None:
            return DEMO_ADMIN_TOKEN
        token = self._admin_token or admin_token_of(self._seed_data() or {})
        if token is None:
            raise EmulatorError(
                "the seed has no active user token of an admin or owner with the "
                "admin.users:write or admin.users:read scope"
            )
        return token

    @property
    def rate_limits(self) -> str:
        """The ``--rate-limits`` mode the server was started with."""
        return self._rate_limits

    @property
    def stderr(self) -> str:
        """The last lines the server wrote on standard error (its log)."""
        return "\n".join(self._stderr)

    def _running_proc(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            raise EmulatorError("the emulator is not running: call start() or use `with Emulator() as e:`")
        return self._proc

    # ------------------------------------------------------------------ control plane

    def _control(
        self,
        verb: str,
        route: str,
        body: Any = None,
        query: Mapping[str, Any] | None = None,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """One control-plane call; returns the decoded JSON object."""
        url = self.control_url + route
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, method=verb)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json; charset=utf-8")
        name = f"{verb} /_emulator/{route}"
        try:
            with _OPENER.open(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as e:
            raw = e.read()
            code, detail = "http_error", raw.decode("utf-8", "replace")[:500]
            try:
                answer = json.loads(raw)
                code, detail = str(answer.get("error", code)), str(answer.get("detail", ""))
            except (ValueError, AttributeError):
                pass
            raise ControlError(name, e.code, code, detail) from None
        except (urllib.error.URLError, OSError) as e:
            proc = self._proc
            if proc is not None and proc.poll() is not None:
                tail = "\n".join(list(self._stderr)[-20:])
                raise EmulatorError(
                    f"{name}: the emulator has exited with code {proc.returncode}"
                    + (f"; its standard error:\n{tail}" if tail else "")
                ) from e
            raise EmulatorError(f"{name}: cannot reach the emulator at {self.url}: {e}") from e
        try:
            answer = json.loads(raw)
        except ValueError as e:
            raise EmulatorError(f"{name}: the answer is not JSON: {raw[:200]!r}") from e
        if not isinstance(answer, dict):
            raise EmulatorError(f"{name}: the answer is not a JSON object")
        if answer.get("ok") is False:
            raise ControlError(name, 200, str(answer.get("error")), str(answer.get("detail", "")))
        return answer

    def health(self) -> dict[str, Any]:
        """``GET /_emulator/health``: version, counts of orgs, users, sessions, pending jobs."""
        return self._control("GET", "health")

    def reset(self) -> None:
        """Makes the emulator as it was just after start: the seed's state, empty rate-limit
        buckets, no fault rules, an empty request journal; :meth:`audit` then lists only changes
        made after this call.
        """
        self._control("POST", "reset")
        self.clear_faults()
        self._control("DELETE", "requests")
        # The audit log is durable and is not emptied by a reset: move the window instead.
        entries = self.audit()
        if entries:
            self._audit_floor = max(int(e["id"]) for e in entries)

    def add_fault(
        self,
        method: str | None = None,
        effect: Effect | None = None,
        times: int | None = None,
        probability: float | None = None,
        token: str | None = None,
        *,
        team: str | None = None,
    ) -> dict[str, Any]:
        """Adds a fault rule after the existing ones; the first rule matching a call applies.

        Args:
            method: only this Web API method (e.g. ``"admin.users.session.list"``); default all.
            effect: what happens, in the control plane's encoding: ``{"error": "internal_error"}``
                (HTTP 200 ``ok:false``), ``{"rate_limited": 5}`` (HTTP 429, ``Retry-After: 5``),
                ``{"http_status": 503}``, ``{"latency_ms": 300}``, ``"empty_body"``,
                ``"non_json"``, ``"truncated_json"`` (the call is executed) or
                ``"reset_connection"``.
            times: affect this many calls, then the rule goes (at least 1); default: forever.
            probability: chance in [0, 1] that a matching call is affected (seeded, repeatable).
            token: only calls with this token.
            team: only calls whose token belongs to this org, or to the org of this team.

        Returns:
            The rule as stored, with its ``id``.
        """
        if effect is None:
            raise TypeError("add_fault() needs an effect, e.g. effect={'rate_limited': 1}")
        if isinstance(effect, str):
            if effect not in _UNIT_EFFECTS:
                raise ValueError(
                    f"unknown effect {effect!r}: one of {sorted(_UNIT_EFFECTS)}, or a dict "
                    f"with one of {sorted(_VALUED_EFFECTS)}"
                )
        elif not (isinstance(effect, Mapping) and len(effect) == 1):
            raise ValueError(f"effect must be a string or a one-key dict, not {effect!r}")
        if times is not None and (isinstance(times, bool) or int(times) < 1):
            raise ValueError(f"times must be at least 1 (or None for every call), not {times!r}")
        rule: dict[str, Any] = {"effect": effect if isinstance(effect, str) else dict(effect)}
        for key, value in (
            ("method", method),
            ("times", None if times is None else int(times)),
            ("probability", probability),
            ("token", token),
            ("team", team),
        ):
            if value is not None:
                rule[key] = value
        return dict(self._control("POST", "faults", body=rule).get("fault") or rule)

    def faults(self) -> list[dict[str, Any]]:
        """The fault rules, in order, with their remaining ``times``."""
        return list(self._control("GET", "faults").get("faults") or [])

    def clear_faults(self) -> None:
        """Removes every fault rule."""
        self._control("DELETE", "faults")

    def requests(self, method: str | None = None, *, after: int = 0) -> list[dict[str, Any]]:
        """The request journal, oldest first: one dict per API call with ``id``, ``at_ms``,
        ``method``, ``org_id``, ``user_id``, ``args`` (the token is never kept), ``status``,
        ``error``, ``fault`` and ``duration_us``.

        Args:
            method: only calls of this method.
            after: only entries with an id above this one.
        """
        out: list[dict[str, Any]] = []
        cursor = after
        while True:
            page = self._control("GET", "requests", query={"method": method, "after": cursor})
            entries = [e for e in page.get("requests") or [] if int(e.get("id", 0)) > cursor]
            out.extend(entries)
            next_after = page.get("next_after")
            if next_after is None or not entries or int(next_after) <= cursor:
                return out
            cursor = int(next_after)

    def clear_requests(self) -> None:
        """Empties the request journal (entry ids keep rising)."""
        self._control("DELETE", "requests")

    def audit(self, after: int | None = None) -> list[dict[str, Any]]:
        """Changes made through the API (and simulated sign-ins), oldest first: ``id``,
        ``at_ms``, ``org_id``, ``actor``, ``method``, ``users``, ``sessions``.

        Args:
            after: only entries with an id above this one; default: those made since the last
                :meth:`reset` (or since start). ``after=0`` gives the whole log.
        """
        cursor = self._audit_floor if after is None else after
        limit = 10_000
        out: list[dict[str, Any]] = []
        while True:
            page = self._control("GET", "audit", query={"after": cursor, "limit": limit})
            entries = list(page.get("audit") or [])
            out.extend(entries)
            if len(entries) < limit:
                return out
            cursor = int(entries[-1]["id"])

    def sign_in(self, user_id: str, team_id: str, **device: Any) -> int:
        """Simulates a sign-in: adds a session for `user_id` on `team_id` (or the org id).

        Keyword arguments: ``client`` (``"web"``, ``"desktop"`` or ``"mobile"``; default web),
        ``session_id`` (default: a fresh one), ``device_hardware``, ``os``, ``os_version``,
        ``slack_client_version``, ``ip``.

        Returns:
            The new session's id.
        """
        unknown = sorted(set(device) - _DEVICE_FIELDS)
        if unknown:
            raise TypeError(f"sign_in() got unknown fields {unknown}; known: {sorted(_DEVICE_FIELDS)}")
        body = {"user_id": user_id, "team_id": team_id}
        body.update({k: v for k, v in device.items() if v is not None})
        return int(self._control("POST", "sessions", body=body)["session_id"])

    def state(self) -> dict[str, Any]:
        """The whole state, in the seed file's shape (``{"orgs": [...]}``)."""
        return self._control("GET", "state")

    def load_state(self, state: Mapping[str, Any]) -> None:
        """Replaces the whole state (the seed that :meth:`reset` restores is unchanged)."""
        self._control("PUT", "state", body=dict(state))


def _format_entry(entry: Mapping[str, Any]) -> str:
    """One journal entry as a line, for reports."""
    status = entry.get("status")
    parts = [f"#{entry.get('id')}", str(entry.get("method")), f"HTTP {status}"]
    if entry.get("error"):
        parts.append(f"error={entry['error']}")
    if entry.get("fault"):
        parts.append(f"fault={entry['fault']}")
    if entry.get("user_id"):
        parts.append(f"user={entry['user_id']}")
    args = entry.get("args") or {}
    if args:
        parts.append(json.dumps(args, separators=(",", ":"), sort_keys=True))
    duration = entry.get("duration_us")
    if isinstance(duration, (int, float)):
        parts.append(f"{duration / 1000:.1f} ms")
    return "  ".join(parts)


def format_journal(entries: Sequence[Mapping[str, Any]]) -> str:
    """The journal entries as text, one call a line (what the pytest plugin reports)."""
    if not entries:
        return "(no API calls)"
    return "\n".join(_format_entry(e) for e in entries)
