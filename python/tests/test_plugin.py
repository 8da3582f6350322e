"""The pytest plugin seen from outside: pytest runs of small test files, in a subprocess."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

IN_CI = bool(os.environ.get("SLACK_SESSIONS_CI"))


def run_pytest(folder: Path, source: str, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_sample.py").write_text(textwrap.dedent(source))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "SLACK_SESSIONS_CI"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_plugin_is_registered_by_its_entry_point(tmp_path: Path) -> None:
    result = run_pytest(
        tmp_path,
        """
        def test_fixture(slack_emulator):
            assert slack_emulator.admin_token == "xoxp-demo-admin"
        """,
        "--markers",
    )
    assert result.returncode == 0, result.stderr
    assert "@pytest.mark.slack_seed(seed)" in result.stdout
    help_text = run_pytest(tmp_path, "", "--help").stdout
    assert "--slack-rate-limits" in help_text
    header = run_pytest(tmp_path, "def test_nothing(): pass\n", "-v")
    assert "slack-sessions emulator:" in header.stdout


def test_a_failed_test_reports_its_journal(tmp_path: Path) -> None:
    result = run_pytest(
        tmp_path,
        """
        from slack_sdk import WebClient

        def test_passes(slack_emulator):
            WebClient(token="xoxp-demo-admin", base_url=slack_emulator.api_url).auth_test()

        def test_fails(slack_emulator):
            client = WebClient(token=slack_emulator.admin_token, base_url=slack_emulator.api_url)
            slack_emulator.add_fault("admin.users.session.getSettings", {"error": "fatal_error"})
            client.admin_users_session_list(limit=3)
            client.admin_users_session_getSettings(user_ids=["W0DEMO0005"])
        """,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert "1 failed, 1 passed" in out
    assert "slack emulator requests" in out
    section = out.split("slack emulator requests", 1)[1]
    lines = [line for line in section.splitlines() if line.startswith("#")]
    assert len(lines) == 2, section  # this test's calls only: not test_passes's auth.test
    assert "admin.users.session.list" in lines[0] and "HTTP 200" in lines[0] and '"limit":"3"' in lines[0]
    assert "admin.users.session.getSettings" in lines[1] and "error=fatal_error" in lines[1]
    assert "fault=" in lines[1]
    assert "auth.test" not in section.split("short test summary")[0]


def test_rate_limits_option(tmp_path: Path) -> None:
    source = """
        def test_mode(slack_emulator):
            assert "{mode}" in slack_emulator.health()["rate_limits"]
        """
    assert run_pytest(tmp_path, source.format(mode="off")).returncode == 0
    result = run_pytest(tmp_path, source.format(mode="slack"), "--slack-rate-limits", "slack")
    assert result.returncode == 0, result.stdout
    (tmp_path / "pytest.ini").write_text("[pytest]\nslack_rate_limits = scale=60\n")
    result = run_pytest(tmp_path, source.format(mode="scale"))
    assert result.returncode == 0, result.stdout


def test_a_bad_seed_marker_fails_the_test_with_the_binary_message(tmp_path: Path) -> None:
    result = run_pytest(
        tmp_path,
        """
        import pytest

        @pytest.mark.slack_seed({"orgs": [{"id": "E1", "users": [{"id": "W1", "role": "emperor"}]}]})
        def test_one(slack_emulator):
            pass

        @pytest.mark.slack_seed({"orgs": [{"id": "E1", "users": [{"id": "W1", "role": "emperor"}]}]})
        def test_two(slack_emulator):
            pass
        """,
    )
    assert result.returncode == 1
    assert "2 errors" in result.stdout
    assert "StartError" in result.stdout and "emperor" in result.stdout


def xdist_available() -> bool:
    return importlib.util.find_spec("xdist") is not None


def test_xdist_two_workers(tmp_path: Path) -> None:
    if not xdist_available():
        if IN_CI:
            pytest.fail("pytest-xdist is not installed")
        pytest.skip("pytest-xdist is not installed")
    tests: list[str] = []
    for i in range(8):
        tests.append(
            f"""
            def test_{i}(slack_emulator, worker_id):
                client = WebClient(token=slack_emulator.admin_token, base_url=slack_emulator.api_url)
                assert slack_emulator.requests() == []
                before = client.admin_users_session_list(user_id="W0DEMO0005", team_id="E0DEMO0001")
                assert before["active_sessions"], "the seed's sessions are back"
                client.admin_users_session_reset(user_id="W0DEMO0005")
                PIDS.setdefault(worker_id, set()).add(slack_emulator.pid)
                assert len(PIDS[worker_id]) == 1  # one emulator per worker
                print("WORKER", worker_id, slack_emulator.pid)
            """
        )
    source = "from slack_sdk import WebClient\nPIDS = {}\n" + "".join(textwrap.dedent(t) for t in tests)
    result = run_pytest(tmp_path, source, "-n", "2", "-rA")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "8 passed" in result.stdout
    workers = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("WORKER")}
    emulators = {line.split()[2] for line in result.stdout.splitlines() if line.startswith("WORKER")}
    assert workers == {"gw0", "gw1"}
    assert len(emulators) == 2
