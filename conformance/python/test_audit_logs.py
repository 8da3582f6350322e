"""The Audit Logs API: slack_sdk's AuditLogsClient (and AsyncAuditLogsClient), unchanged,
pointed at the emulator with base_url=".../audit/v1/". Entries come from the emulator's own
events (simulated sign-ins and sign-outs, an admin's reset through the Web API) and from the
control plane (an anomaly). Rate limits run against the scaled emulator ($EMU_RL_URL): tier 3
is 50 calls per 60/N seconds for the whole org."""

import asyncio
import time

import pytest

from support import (
    C_ADMIN, EMU_RL_URL, EMU_URL, OWNER, T_A1, UNKNOWN_TOKEN, control, raw_api, reset_emulator,
)

AUDIT = "xoxp-conf-a-audit"
E_A = "E0CONFA01"
TARGET = "W0ATARGET2"
MAX_CALLS = 2000
MAX_SECONDS = 60


def audit_url(base=None):
    return (base or EMU_URL) + "/audit/v1/"


def client(token=AUDIT, base=None, **kw):
    from slack_sdk.audit_logs import AuditLogsClient

    return AuditLogsClient(token=token, base_url=audit_url(base), **kw)


def cell(case):
    return pytest.mark.conf("slack_sdk", "(audit)", case)


def history():
    """Writes a known history: 25 sign-ins of TARGET, one sign-out, a reset of TARGET by the
    owner, an anomaly. Returns the sign-ins' session ids."""
    ids = [
        control("/_emulator/sessions", {"user_id": TARGET, "team_id": T_A1,
                                        "client": ["web", "desktop", "mobile"][i % 3],
                                        "ip": f"203.0.113.{i + 1}"})["session_id"]
        for i in range(25)
    ]
    out = control(f"/_emulator/sessions/{ids[0]}", method="DELETE")
    assert out["ok"], out
    r = raw_api("admin.users.session.reset", {"user_id": TARGET}, token=OWNER)
    assert r.json["ok"], r
    control("/_emulator/audit-logs", {"action": "anomaly", "actor": "W0ATARGET3",
                                      "details": {"reason": ["tor"]}})
    return ids


def ok(resp):
    assert resp.status_code == 200, (resp.status_code, resp.raw_body)
    assert "ok" not in resp.body, "a success has no ok"
    return resp.typed_body


def walk(c, **filters):
    """Every entry of a filter, through the SDK, following response_metadata.next_cursor."""
    out, cursor, seen = [], None, set()
    for _ in range(1000):
        page = ok(c.logs(cursor=cursor, **filters))
        out.extend(page.entries)
        cursor = page.response_metadata.next_cursor
        if not cursor:
            return out
        assert cursor not in seen, "a cursor came back"
        seen.add(cursor)
    raise AssertionError("the walk did not end")


@cell("logs")
def test_logs_are_read_and_typed():
    ids = history()
    page = ok(client().logs(limit=100))
    logins = [e for e in page.entries if e.action == "user_login"]
    assert len(logins) == 25
    newest = logins[0]
    assert newest.actor.user.id == TARGET and newest.entity.user.id == TARGET
    assert newest.context.session_id == ids[-1], "the session id list shows"
    assert newest.context.ip_address == "203.0.113.25" and newest.context.ua
    assert newest.context.location.id == T_A1
    dates = [e.date_create for e in page.entries]
    assert dates == sorted(dates, reverse=True), "newest first"
    reset = next(e for e in page.entries if e.action == "user_session_reset_by_admin")
    assert reset.actor.user.id == "W0AOWNER" and reset.entity.user.id == TARGET
    assert reset.details.mobile_only is False and reset.details.web_only is False
    logout = next(e for e in page.entries if e.action == "user_logout")
    assert logout.context.session_id == ids[0]
    anomaly = next(e for e in page.entries if e.action == "anomaly")
    assert anomaly.details.reason == ["tor"]


@cell("cursor_walk")
def test_cursors_walk_every_entry_once():
    history()
    everything = ok(client().logs(limit=9999)).entries
    walked = walk(client(), limit=4)
    assert [e.id for e in walked] == [e.id for e in everything]
    assert len({e.id for e in walked}) == len(walked) >= 28


@cell("filter_action")
def test_filter_by_action():
    history()
    logins = walk(client(), action="user_login", limit=10)
    assert len(logins) == 25 and all(e.action == "user_login" for e in logins)
    two = walk(client(), action="user_logout,anomaly", limit=1)
    assert sorted(e.action for e in two) == ["anomaly", "user_logout"]


@cell("filter_actor")
def test_filter_by_actor():
    history()
    mine = walk(client(), actor="W0AOWNER")
    assert [e.action for e in mine] == ["user_session_reset_by_admin"]
    theirs = walk(client(), actor=TARGET, action="user_login,user_logout", limit=7)
    assert len(theirs) == 26 and all(e.actor.user.id == TARGET for e in theirs)


@cell("filter_entity")
def test_filter_by_entity():
    history()
    about = walk(client(), entity=TARGET, action="user_session_reset_by_admin")
    assert len(about) == 1 and about[0].entity.user.id == TARGET
    assert walk(client(), entity="W0ANOSESS") == []


@cell("filter_range")
def test_latest_and_oldest_are_inclusive():
    history()
    entries = ok(client().logs(limit=9999)).entries
    newest = entries[0].date_create
    ranged = walk(client(), oldest=newest, latest=newest)
    assert ranged and all(e.date_create == newest for e in ranged)
    assert len(ranged) == sum(1 for e in entries if e.date_create == newest)


@cell("actions")
def test_actions_need_no_token():
    resp = client(token="").actions()
    assert resp.status_code == 200
    assert "user_login" in resp.body["actions"]["user"]
    assert "anomaly" in resp.body["actions"]["anomaly"]


@cell("schemas")
def test_schemas_need_no_token():
    resp = client(token="").schemas()
    assert resp.status_code == 200
    kinds = {s["type"] for s in resp.body["schemas"]}
    assert {"user", "workspace", "enterprise", "channel", "file"} <= kinds


@cell("async_client")
def test_async_client_reads_logs():
    from slack_sdk.audit_logs.async_client import AsyncAuditLogsClient

    history()

    async def run():
        c = AsyncAuditLogsClient(token=AUDIT, base_url=audit_url())
        page = await c.logs(action="user_login", limit=5)
        assert page.status_code == 200, page.raw_body
        cursor = page.typed_body.response_metadata.next_cursor
        more = await c.logs(action="user_login", limit=5, cursor=cursor)
        return page.typed_body.entries + more.typed_body.entries

    entries = asyncio.run(run())
    assert len({e.id for e in entries}) == 10


def error_of(resp):
    # typed_body cannot be built from an error body (the SDK iterates `entries`): read body.
    return resp.status_code, resp.body and resp.body.get("error")


@cell("authentication")
def test_authentication_errors():
    assert error_of(client(token="").logs()) == (401, "missing_authentication")
    assert error_of(client(token=UNKNOWN_TOKEN).logs()) == (401, "invalid_authentication")
    # An owner's token without auditlogs:read.
    assert error_of(client(token=OWNER).logs()) == (401, "invalid_authentication")
    # A workspace outside Enterprise Grid.
    assert error_of(client(token=C_ADMIN).logs()) == (403, "feature_not_enabled")


@cell("invalid_arguments")
def test_invalid_cursor_range_and_action():
    history()
    assert error_of(client().logs(cursor="bm90IGEgY3Vyc29y")) == (400, "invalid_cursor")
    cursor = ok(client().logs(limit=1)).response_metadata.next_cursor
    assert error_of(client().logs(cursor=cursor, action="user_login")) == (400, "invalid_cursor")
    assert error_of(client().logs(latest=int(time.time()) + 3600)) == (400, "invalid_range")
    assert error_of(client().logs(action="user_teleported")) == (400, "invalid_action")


def exhaust(c):
    start = time.monotonic()
    for n in range(1, MAX_CALLS + 1):
        resp = c.logs(limit=1)
        if resp.status_code == 429:
            return n, resp
        assert resp.status_code == 200, resp.raw_body
        assert time.monotonic() - start < MAX_SECONDS, "no 429 within the time bound"
    raise AssertionError(f"no 429 after {MAX_CALLS} calls")


@cell("ratelimit_429")
@pytest.mark.no_reset
def test_tier3_rate_limit_answers_429_with_retry_after():
    reset_emulator(EMU_RL_URL)
    n, resp = exhaust(client(base=EMU_RL_URL))
    assert n > 50, n
    assert resp.body == {"ok": False, "error": "rate_limited"}
    retry_after = resp.headers.get("Retry-After") or resp.headers.get("retry-after")
    assert int(retry_after) >= 1


@cell("ratelimit_recover")
@pytest.mark.no_reset
def test_the_sdks_retry_handler_recovers():
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    reset_emulator(EMU_RL_URL)
    exhaust(client(base=EMU_RL_URL))
    c = client(base=EMU_RL_URL, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=3)])
    resp = c.logs(limit=1)
    assert resp.status_code == 200, resp.raw_body
