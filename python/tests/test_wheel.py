"""The built wheel: it carries the binary, and installs and runs where there is no Rust.

Needs the wheel's path in SLACK_SESSIONS_WHEEL (python/run sets it); skipped without it, except
in CI (SLACK_SESSIONS_CI=1), where a missing wheel is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def wheel() -> Path:
    path = os.environ.get("SLACK_SESSIONS_WHEEL")
    if not path:
        if os.environ.get("SLACK_SESSIONS_CI"):
            pytest.fail("SLACK_SESSIONS_WHEEL is not set")
        pytest.skip("SLACK_SESSIONS_WHEEL is not set (python/run sets it)")
    assert Path(path).is_file(), path
    return Path(path)


def test_the_wheel_holds_the_binary_and_the_package(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        scripts = [
            n for n in names if re.fullmatch(r"slack_sessions-[^/]+\.data/scripts/slack-sessions(\.exe)?", n)
        ]
        assert len(scripts) == 1, names
        mode = z.getinfo(scripts[0]).external_attr >> 16
        assert mode & 0o111, oct(mode)
        assert z.getinfo(scripts[0]).file_size > 1_000_000
        for module in (
            "__init__.py",
            "emulator.py",
            "pytest_plugin.py",
            "_binary.py",
            "errors.py",
            "py.typed",
        ):
            assert f"slack_sessions/{module}" in names
        assert not [n for n in names if "__pycache__" in n or "/tests/" in n or n.startswith("tests/")]
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        entry_points = z.read(f"{dist_info}/entry_points.txt").decode()
        assert "[pytest11]" in entry_points
        assert re.search(r"slack_sessions\s*=\s*slack_sessions\.pytest_plugin", entry_points)
        tags = [
            line for line in z.read(f"{dist_info}/WHEEL").decode().splitlines() if line.startswith("Tag:")
        ]
        assert tags and not any(t.endswith("-any") for t in tags), tags  # a platform wheel
        metadata = z.read(f"{dist_info}/METADATA").decode()
        assert "Name: slack-sessions" in metadata
        requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
        assert all("extra ==" in line for line in requires), requires  # no runtime dependency


def test_installs_with_no_index_and_no_cargo(wheel: Path, tmp_path: Path) -> None:
    path = os.pathsep.join(
        d
        for d in os.environ.get("PATH", "").split(os.pathsep)
        if d and not any((Path(d) / tool).exists() for tool in ("cargo", "rustc", "rustup"))
    )
    assert shutil.which("cargo", path=path) is None
    env: dict[str, str] = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CARGO", "RUSTUP", "RUST", "PIP_", "SLACK_SESSIONS_", "VIRTUAL_ENV", "PYTHON"))
    }
    env["PATH"] = path
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=300)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bindir / ("python.exe" if os.name == "nt" else "python")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-index", "--no-cache-dir", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    binary = bindir / ("slack-sessions.exe" if os.name == "nt" else "slack-sessions")
    version = subprocess.run([str(binary), "--version"], env=env, capture_output=True, text=True, timeout=60)
    assert version.returncode == 0 and "slack-sessions" in version.stdout, version.stderr
    script = textwrap.dedent(
        f"""
        import json, urllib.request
        from slack_sessions import Emulator, find_binary
        assert find_binary() == {str(binary)!r}, find_binary()
        with Emulator() as emulator:
            request = urllib.request.Request(
                emulator.api_url + "auth.test",
                data=b"",
                headers={{"Authorization": "Bearer " + emulator.admin_token}},
            )
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({{}}))
            print(json.load(opener.open(request))["ok"])
        """
    )
    # Not activated: the venv's bin folder is not on PATH, the package finds its binary anyway.
    run = subprocess.run(
        [str(python), "-c", script], env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "True"


def test_the_wheel_is_manylinux_and_auditwheel_agrees(wheel: Path) -> None:
    """PyPI takes a Linux wheel only with a manylinux (or musllinux) tag, and that tag must be
    true: `auditwheel show` reads the glibc symbol versions the binary needs."""
    tags = re.findall(r"manylinux_2_(\d+)_x86_64", wheel.name)
    assert tags, f"{wheel.name} has no manylinux_2_N tag"
    claimed = max(int(t) for t in tags)
    assert claimed <= 28, f"manylinux_2_{claimed}: newer than the manylinux_2_28 this project aims for"
    auditwheel = os.environ.get("SLACK_SESSIONS_AUDITWHEEL")
    if not auditwheel:
        if os.environ.get("SLACK_SESSIONS_CI"):
            pytest.fail("SLACK_SESSIONS_AUDITWHEEL is not set")
        pytest.skip("SLACK_SESSIONS_AUDITWHEEL is not set (python/run sets it)")
    shown = subprocess.run([auditwheel, "show", str(wheel)], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stdout + shown.stderr
    text = " ".join(shown.stdout.split())
    verdict = re.search(r'consistent with the following platform tag: "manylinux_2_(\d+)_x86_64"', text)
    assert verdict, shown.stdout
    # The binary needs no newer glibc than the tag promises.
    assert int(verdict.group(1)) <= claimed, shown.stdout
