"""Rate limits, against the second emulator started with --rate-limits scale=N
($EMU_RL_URL): tier 2 allows 20*N calls per 60/N seconds per method x workspace x
token. Each SDK has its own token there, so the suites never share a budget.
Every loop is bounded in calls and time."""

import os
import time

import pytest

from support import (
    B_ADMIN, EMU_RL_URL, ApimaticDriver, SdkError, SlackSdkDriver,
)

RL_TOKEN = "xoxp-conf-a-rl-python"
RL_TOKEN_APIMATIC = "xoxp-conf-a-rl-apimatic"
MAX_CALLS = 5000
MAX_SECONDS = 60
TIER2_BUDGET = 20 * int(os.environ.get("CONF_RL_SCALE", "10"))


def exhaust(call):
    """Calls until the first 429 (bounded); returns (calls made, the SdkError)."""
    start = time.monotonic()
    for n in range(1, MAX_CALLS + 1):
        try:
            call()
        except SdkError as e:
            if e.status == 429:
                return n, e
            raise
        assert time.monotonic() - start < MAX_SECONDS, "no 429 within the time bound"
    raise AssertionError(f"no 429 after {MAX_CALLS} calls")


def retry_after_of(headers):
    for k, v in headers.items():
        if k.lower() == "retry-after":
            return v[0] if isinstance(v, list) else v
    return None


class SdkErrorWithHeaders(SdkError):
    def __init__(self, status, data, headers):
        super().__init__(status, data)
        self.headers = headers


def sdk_list_call(client):
    from slack_sdk.errors import SlackApiError

    def call():
        try:
            client.admin_users_session_list(limit=1)
        except SlackApiError as e:
            raise SdkErrorWithHeaders(e.response.status_code, e.response.data, e.response.headers) from None

    return call


@pytest.mark.no_reset
@pytest.mark.conf("slack_sdk", "list", "ratelimit_429")
def test_slack_sdk_sees_429_and_retry_after():
    client = SlackSdkDriver(EMU_RL_URL).client(RL_TOKEN, retry_handlers=[])
    n, e = exhaust(sdk_list_call(client))
    assert n > 20, f"429 after only {n} calls: budget not scaled?"
    assert e.data.get("ok") is False and e.data.get("error") == "ratelimited", e.data
    ra = retry_after_of(e.headers)
    assert ra is not None and str(ra).isdigit() and int(ra) >= 1, e.headers


class RecordingRateLimitHandler:
    """slack_sdk's own RateLimitErrorRetryHandler, recording the Retry-After values it obeys."""

    def __new__(cls, max_retry_count):
        from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

        class Recording(RateLimitErrorRetryHandler):
            def prepare_for_next_attempt(self, *, state, request, response=None, error=None):
                self.seen.append(retry_after_of(response.headers) if response is not None else None)
                return super().prepare_for_next_attempt(state=state, request=request, response=response, error=error)

        h = Recording(max_retry_count=max_retry_count)
        h.seen = []
        return h


@pytest.mark.no_reset
@pytest.mark.conf("slack_sdk", "list", "ratelimit_recover")
def test_slack_sdk_retry_handler_recovers():
    handler = RecordingRateLimitHandler(max_retry_count=5)
    client = SlackSdkDriver(EMU_RL_URL).client(RL_TOKEN, retry_handlers=[handler])
    start = time.monotonic()
    calls = 0
    # Every call must succeed; go on until the handler has recovered from 429 twice.
    while len(handler.seen) < 2:
        resp = client.admin_users_session_list(limit=1)
        assert resp.status_code == 200 and resp["ok"] is True
        calls += 1
        assert calls < MAX_CALLS and time.monotonic() - start < MAX_SECONDS, (calls, handler.seen)
    assert all(v is not None and str(v).isdigit() and int(v) >= 1 for v in handler.seen), handler.seen


@pytest.mark.no_reset
@pytest.mark.conf("slack_sdk", "list", "ratelimit_independent")
def test_budgets_are_independent():
    drv = SlackSdkDriver(EMU_RL_URL)
    client = drv.client(RL_TOKEN, retry_handlers=[])
    exhaust(sdk_list_call(client))
    # Same token, another method: fine.
    assert drv.call(RL_TOKEN, "getSettings", user_ids=["W0ATARGET"])["ok"] is True
    # Another workspace (org B's token), same method: fine.
    assert drv.call(B_ADMIN, "list", limit=1)["ok"] is True
    # The exhausted budget itself is still (nearly) exhausted: a fresh one would allow
    # 20*N calls, while only a few tokens can have refilled meanwhile.
    n, _ = exhaust(sdk_list_call(client))
    assert n < TIER2_BUDGET // 2, f"{n} calls passed: the budget looks reset"


@pytest.mark.no_reset
@pytest.mark.conf("apimatic", "reset", "ratelimit_429")
def test_apimatic_sees_429():
    from slackwebapi.exceptions.api_exception import ApiException

    drv = ApimaticDriver(EMU_RL_URL)
    ctl = drv.client(RL_TOKEN_APIMATIC).admin_users_session
    start = time.monotonic()
    for n in range(1, MAX_CALLS + 1):
        try:
            r = ctl.admin_users_session_reset(RL_TOKEN_APIMATIC, "W0ANOSESS")
            assert r.status_code == 200, r.status_code
        except ApiException as e:
            assert e.response_code == 429, (e.response_code, e.response.text)
            ra = e.response.headers.get("Retry-After")
            assert ra is not None and ra.isdigit() and int(ra) >= 1, dict(e.response.headers)
            assert '"ratelimited"' in e.response.text, e.response.text
            assert n > 20
            return
        assert time.monotonic() - start < MAX_SECONDS
    raise AssertionError("no 429")


@pytest.mark.no_reset
@pytest.mark.conf("apimatic", "reset", "ratelimit_recover")
def test_apimatic_retry_config_recovers():
    # The SDK's documented retry settings: retry POST on 429 (urllib3 honours Retry-After).
    retrying = ApimaticDriver(EMU_RL_URL, max_retries=5, retry_methods=["POST"], backoff_factor=0.1)
    ctl = retrying.client(RL_TOKEN_APIMATIC).admin_users_session
    # Call in a tight loop: the budget runs out, and every call must still succeed.
    # Stop once a call took >= 0.9 s: the SDK met a 429 and waited out Retry-After (>= 1 s).
    start = time.monotonic()
    for n in range(1, MAX_CALLS + 1):
        t0 = time.monotonic()
        r = ctl.admin_users_session_reset(RL_TOKEN_APIMATIC, "W0ANOSESS")
        waited = time.monotonic() - t0
        assert r.status_code == 200 and '"ok":true' in r.text.replace(" ", ""), (n, r.status_code, r.text)
        if waited >= 0.9:
            return
        assert time.monotonic() - start < MAX_SECONDS, f"{n} calls, none waited for Retry-After"
    raise AssertionError(f"{MAX_CALLS} calls, none waited for Retry-After")
