"""pytest wiring: every test carries @pytest.mark.conf(sdk, method, case); its
outcome (all phases) is written as one JSON line to $CONF_RESULTS for matrix.py.
Each test starts from the seed: POST /_emulator/reset."""

import json
import os

import pytest

import support

_outcomes = {}


def pytest_configure(config):
    config.addinivalue_line("markers", "conf(sdk, method, case): matrix cell of this test")
    config.addinivalue_line("markers", "no_reset: do not restore the seed before this test")


@pytest.fixture(autouse=True)
def fresh_state(request):
    if request.node.get_closest_marker("no_reset") is None:
        support.reset_emulator()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    marker = item.get_closest_marker("conf")
    if marker is None:
        return
    key = item.nodeid
    sdk, method, case = marker.args
    entry = _outcomes.setdefault(
        key, {"sdk": sdk, "method": method, "case": case, "test": key, "outcome": "pass", "detail": ""}
    )
    if report.failed:
        entry["outcome"] = "fail"
        entry["detail"] = (entry["detail"] + f"[{report.when}] " + _short(report))[:2000]
    elif report.skipped:
        entry["outcome"] = "fail"
        entry["detail"] = "skipped (a skipped case counts as a failure)"
    if report.when == "teardown":
        path = os.environ.get("CONF_RESULTS")
        if path:
            with open(path, "a") as f:
                f.write(json.dumps(entry) + "\n")


def _short(report):
    text = report.longreprtext or ""
    lines = [ln for ln in text.splitlines() if ln.startswith("E ")]
    return " | ".join(ln[1:].strip() for ln in lines[:6]) or text[-600:]
