"""`slack_sessions.Emulator` on its own, outside the pytest fixture."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

import slack_sessions
from slack_sessions import (
    BinaryNotFoundError,
    Emulator,
    EmulatorError,
    StartError,
    admin_token_of,
    find_binary,
)

SEED_FILE = Path(__file__).parent / "data" / "seed.json"


def port_of(url: str) -> int:
    port = urllib.parse.urlsplit(url).port
    assert port is not None
    return port


def refuses(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) != 0


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as dead.
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def wait_dead(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def test_context_manager_starts_and_stops() -> None:
    with Emulator() as emulator:
        assert emulator.running
        client = WebClient(token=emulator.admin_token, base_url=emulator.api_url)
        assert client.auth_test()["user_id"] == "W0DEMO0002"
        port, pid = port_of(emulator.api_url), emulator.pid
        assert emulator.health()["rate_limits"] == "off"
    assert not emulator.running
    assert wait_dead(pid) and refuses(port)
    with pytest.raises(EmulatorError, match="not running"):
        emulator.api_url  # noqa: B018


def test_stopped_also_when_the_block_raises() -> None:
    with pytest.raises(ZeroDivisionError):
        with Emulator() as emulator:
            pid = emulator.pid
            1 / 0  # noqa: B018
    assert wait_dead(pid)


def test_start_stop_and_start_again() -> None:
    emulator = Emulator(seed=SEED_FILE)
    assert "not running" in repr(emulator)
    emulator.start()
    try:
        pid = emulator.pid
        emulator.stop()
        assert wait_dead(pid)
        emulator.stop()  # idempotent
        emulator.start()
        assert emulator.running and emulator.api_url.endswith("/api/")
        assert WebClient(token=emulator.admin_token, base_url=emulator.api_url).auth_test()["ok"]
    finally:
        emulator.stop()


def test_seed_dict_and_slack_rate_limits() -> None:
    seed = json.loads(SEED_FILE.read_text())
    with Emulator(seed=seed, rate_limits="slack") as emulator:
        assert emulator.admin_token == "xoxp-example-admin"
        client = WebClient(token=emulator.admin_token, base_url=emulator.api_url)
        # Tier 2: a burst of 20 calls a minute passes, the 21st is refused.
        for _ in range(20):
            client.admin_users_session_list(limit=1)
        with pytest.raises(SlackApiError) as raised:
            client.admin_users_session_list(limit=1)
        assert raised.value.response.status_code == 429
        assert int(raised.value.response.headers["Retry-After"]) >= 1
        # reset() empties the buckets too.
        emulator.reset()
        assert client.admin_users_session_list(limit=1)["ok"] is True


def test_a_database_file_keeps_state_across_restarts(tmp_path: Path) -> None:
    db = tmp_path / "emulator.db"
    with Emulator(seed=SEED_FILE, db=db) as emulator:
        client = WebClient(token=emulator.admin_token, base_url=emulator.api_url)
        client.admin_users_session_reset(user_id="W034C5EFG")
    with Emulator(seed=SEED_FILE, db=db) as emulator:
        client = WebClient(token=emulator.admin_token, base_url=emulator.api_url)
        assert client.admin_users_session_list()["active_sessions"] == []
        assert [a["method"] for a in emulator.audit()] == ["admin.users.session.reset"]
        emulator.reset()
        assert len(client.admin_users_session_list()["active_sessions"]) == 2
        assert emulator.audit() == [] and len(emulator.audit(after=0)) == 1


def test_an_invalid_seed_names_the_entry(tmp_path: Path) -> None:
    seed = json.loads(SEED_FILE.read_text())
    seed["orgs"][0]["sessions"][1]["user_id"] = "W9"
    with pytest.raises(StartError) as raised:
        Emulator(seed=seed).start()
    message = str(raised.value)
    assert "orgs[0].sessions[1].user_id" in message and '"W9"' in message
    assert raised.value.returncode not in (None, 0)
    assert "seed is not valid" in raised.value.stderr


def test_a_missing_seed_file_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(StartError, match="nope.json"):
        Emulator(seed=missing).start()


def test_bad_arguments_show_the_binary_message() -> None:
    with pytest.raises(StartError, match="rate"):
        Emulator(rate_limits="sometimes").start()


def test_binary_override_and_missing_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_binary()
    monkeypatch.setenv(slack_sessions.BINARY_ENV, real)
    assert find_binary() == real
    monkeypatch.setenv(slack_sessions.BINARY_ENV, str(tmp_path / "slack-sessions"))
    with pytest.raises(BinaryNotFoundError, match="SLACK_SESSIONS_BIN"):
        Emulator().start()
    with pytest.raises(FileNotFoundError):  # BinaryNotFoundError is one
        find_binary()


def test_a_binary_that_never_listens_times_out(tmp_path: Path) -> None:
    fake = tmp_path / "fake-slack-sessions"
    fake.write_text("#!/bin/sh\necho 'starting, slowly' >&2\nexec sleep 30\n")
    fake.chmod(0o755)
    started = time.monotonic()
    with pytest.raises(StartError) as raised:
        Emulator(binary=fake, startup_timeout=1).start()
    assert time.monotonic() - started < 10
    assert "did not report its address within 1 s" in str(raised.value)
    assert "starting, slowly" in raised.value.stderr


def test_a_binary_that_exits_reports_its_code(tmp_path: Path) -> None:
    fake = tmp_path / "fake-slack-sessions"
    fake.write_text("#!/bin/sh\necho 'error: cannot start the emulator: port taken' >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(StartError, match="exited with code 1") as raised:
        Emulator(binary=fake).start()
    assert "port taken" in str(raised.value)


def test_admin_token_of_seed() -> None:
    assert admin_token_of(json.loads(SEED_FILE.read_text())) == "xoxp-example-admin"
    org: dict[str, Any] = {
        "id": "E1",
        "users": [
            {"id": "W1", "role": "admin"},
            {"id": "W2", "role": "admin", "deleted": True},
            {"id": "W3"},
        ],
        "tokens": [
            {"token": "xoxp-deleted", "user_id": "W2", "scopes": ["admin.users:write"]},
            {"token": "xoxp-member", "user_id": "W3", "scopes": ["admin.users:write"]},
            {"token": "xoxp-expired", "user_id": "W1", "scopes": ["admin.users:write"], "state": "expired"},
            {"token": "xoxb-bot", "user_id": "W1", "scopes": ["admin.users:write"]},
            {"token": "xoxp-bot-typed", "type": "bot", "user_id": "W1", "scopes": ["admin.users:write"]},
            {"token": "xoxp-read", "user_id": "W1", "scopes": ["admin.users:read"]},
            {"token": "xoxp-write", "user_id": "W1", "scopes": ["admin.users:write"]},
        ],
    }
    assert admin_token_of({"orgs": [org]}) == "xoxp-write"
    org["tokens"].pop()
    assert admin_token_of({"orgs": [org]}) == "xoxp-read"
    org["tokens"].pop()
    assert admin_token_of({"orgs": [org]}) is None
    with pytest.raises(EmulatorError, match="no active user token"):
        Emulator(seed={"orgs": [org]}).admin_token  # noqa: B018


def run_python(code: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_interpreter_exit_stops_a_forgotten_emulator() -> None:
    child = run_python(
        """
        from slack_sessions import Emulator
        e = Emulator().start()
        print(e.pid, flush=True)
        """
    )
    out, err = child.communicate(timeout=60)
    assert child.returncode == 0, err
    assert wait_dead(int(out.split()[0]))


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("where", ["main thread", "worker thread"])
def test_the_server_dies_with_a_killed_parent_and_leaves_no_file(where: str, tmp_path: Path) -> None:
    """SIGKILL runs no atexit hook and no finalizer: only what the kernel does on the parent's
    death can stop the server (it closes the pipe of the server's standard input). The seed
    dict, tokens and all, never touches the disk (TMPDIR is watched)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    seed = json.loads(SEED_FILE.read_text())
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import json, sys, threading, time
                from slack_sessions import Emulator
                seed = json.loads(sys.argv[1])
                started = []
                def start():
                    started.append(Emulator(seed=seed).start())
                if sys.argv[2] == "main thread":
                    start()
                else:
                    worker = threading.Thread(target=start)
                    worker.start()
                    worker.join()  # the thread that started the server is gone
                print(started[0].pid, started[0].url, flush=True)
                time.sleep(60)
                """
            ),
            json.dumps(seed),
            where,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp)},
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line, child.communicate(timeout=10)
    pid, url = int(line.split()[0]), line.split()[1]
    assert alive(pid)
    assert files_under(tmp) == []  # the seed was not written to a file
    # The server answers with the seed's token although the starting thread has ended.
    client = WebClient(token=admin_token_of(seed) or "", base_url=url + "api/")
    assert client.auth_test()["ok"]
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert wait_dead(pid, timeout=5), "the server outlived its SIGKILLed parent"
    assert files_under(tmp) == []


class _PagedJournal(http.server.BaseHTTPRequestHandler):
    """A stand-in control plane whose journal pages with `after` / `next_after`."""

    entries: list[dict[str, Any]] = [{"id": i, "method": "auth.test" if i % 2 else "x"} for i in range(1, 8)]
    seen: list[str] = []

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.seen.append(url.path + "?" + url.query)
        if url.path.endswith("/health"):
            body: dict[str, Any] = {"ok": True}
        else:
            after = int(query.get("after", 0))
            matching = [
                e for e in self.entries if e["id"] > after and query.get("method") in (None, e["method"])
            ]
            body = {"ok": True, "requests": matching[:2]}
            if len(matching) > 2:
                body["next_after"] = matching[1]["id"]
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def paged_server(tmp_path: Path) -> Iterator[Emulator]:
    """An Emulator whose 'binary' announces a stand-in server that pages its journal."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PagedJournal)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake = tmp_path / "fake-slack-sessions"
    url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    fake.write_text(f"#!/bin/sh\necho 'slack-sessions emulator listening on {url}'\nexec sleep 60\n")
    fake.chmod(0o755)
    emulator = Emulator(binary=fake).start()
    try:
        yield emulator
    finally:
        emulator.stop()
        server.shutdown()


def test_requests_follows_next_after(paged_server: Emulator) -> None:
    assert [e["id"] for e in paged_server.requests()] == [1, 2, 3, 4, 5, 6, 7]
    assert [e["id"] for e in paged_server.requests("auth.test")] == [1, 3, 5, 7]
    assert [e["id"] for e in paged_server.requests(after=4)] == [5, 6, 7]
    assert any("after=2" in q for q in _PagedJournal.seen)
