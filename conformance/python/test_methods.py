"""The seven methods through slack_sdk's WebClient and the APIMatic SDK: success,
state change, and every error path, each in the SDK's own encoding.

Cells an SDK cannot express (catalogue.not_offered) are not generated here; the
matrix reports them as "not offered" with the reason."""

import json
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import catalogue  # noqa: E402
from support import (  # noqa: E402
    ADMIN, B_ADMIN, BOT, C_ADMIN, DELETED, E_A, EXPIRED, MEMBER, OWNER, PRIMARY,
    READONLY, REVOKED, T_A1, T_A2, T_B, UNKNOWN_SESSION, UNKNOWN_TOKEN, UNKNOWN_USER,
    WRITEONLY, SdkError, driver, raw_list_all, raw_sessions_of, scope_of,
    seed_session_ids_of, simulate_login, wait_until,
)

PY_SDKS = ["slack_sdk", "apimatic"]


def cells(case, methods=catalogue.METHODS, sdks=PY_SDKS):
    return [
        pytest.param(sdk, m, id=f"{sdk}-{m}", marks=pytest.mark.conf(sdk, m, case))
        for sdk in sdks
        for m in methods
        if catalogue.not_offered(sdk, m, case) is None
    ]


# Arguments of a call that succeeds for org A's admin, per target kind.
def args(method, who="a"):
    user = {
        "a": "W0ATARGET", "c": "U0CUSER", "unknown": UNKNOWN_USER, "foreign": "W0BUSER",
        "bot": "W0ABOT", "primary": "W0APRIMARY",
    }[who]
    if method == "invalidate":
        return {
            "a": dict(session_id="1112275520243", team_id=T_A1),
            "c": dict(session_id="1112275540001", team_id="T0CONFC01"),
            "unknown": dict(session_id=str(UNKNOWN_SESSION), team_id=T_A1),
            "foreign": dict(session_id="1112275530001", team_id=T_A1),
            "primary": dict(session_id="1112275520270", team_id=T_A1),
        }[who]
    if method == "reset":
        return dict(user_id=user)
    if method == "resetBulk":
        return dict(user_ids=[user, "W0ATARGET2"] if who == "a" else [user])
    if method == "list":
        return {}
    if method == "getSettings":
        return dict(user_ids=[user, "W0ATARGET2"] if who == "a" else [user])
    if method == "setSettings":
        return dict(user_ids=[user if who != "a" else "W0ATARGET3"], duration=2592000, desktop_app_browser_quit=True)
    if method == "clearSettings":
        return dict(user_ids=[user])
    raise KeyError(method)


def expect_error(drv, token, method, code, **kw):
    with pytest.raises(SdkError) as ei:
        drv.call(token, method, **kw)
    e = ei.value
    assert e.code == code, f"expected {code}, got HTTP {e.status} {e.data}"
    assert e.status == 200, f"ok:false must come with HTTP 200, got {e.status}"
    assert e.data.get("ok") is False
    return e.data


# ------------------------------------------------------------------ common cases


@pytest.mark.parametrize("sdk,method", cells("success"))
def test_success(sdk, method):
    data = driver(sdk).call(ADMIN, method, **args(method))
    assert data["ok"] is True
    if method == "list":
        assert isinstance(data["active_sessions"], list) and data["active_sessions"]
        assert data["response_metadata"]["next_cursor"] == ""
    if method == "getSettings":
        assert isinstance(data["session_settings"], list)
        assert isinstance(data["no_settings_applied"], list)


@pytest.mark.parametrize("sdk,method", cells("owner_allowed"))
def test_owner_allowed(sdk, method):
    assert driver(sdk).call(OWNER, method, **args(method))["ok"] is True


@pytest.mark.parametrize("sdk,method", cells("state"))
def test_state(sdk, method):
    drv = driver(sdk)
    if method == "invalidate":
        before = drv.list_user(ADMIN, "W0ATARGET")
        assert 1112275520243 in before
        drv.call(ADMIN, method, **args(method))
        after = drv.list_user(ADMIN, "W0ATARGET")
        assert after == sorted(set(before) - {1112275520243})
    elif method == "reset":
        assert drv.list_user(ADMIN, "W0ATARGET")
        drv.call(ADMIN, method, user_id="W0ATARGET")
        assert drv.list_user(ADMIN, "W0ATARGET") == []
        assert drv.list_user(ADMIN, "W0ATARGET2") == seed_session_ids_of("W0ATARGET2")
    elif method == "resetBulk":
        drv.call(ADMIN, method, user_ids=["W0ATARGET", "W0ATARGET2"])
        gone = wait_until(
            lambda: not drv.list_user(ADMIN, "W0ATARGET") and not drv.list_user(ADMIN, "W0ATARGET2"), 3.0
        )
        assert gone, "resetBulk's sessions still listed 3 s after ok"
        assert drv.list_user(ADMIN, "W0ATARGET3") == seed_session_ids_of("W0ATARGET3")
    elif method == "list":
        data = drv.call(ADMIN, method, team_id=T_A1, user_id="W0ATARGET")
        got = {s["session_id"]: s for s in data["active_sessions"]}
        assert sorted(got) == [1112275520242, 1112275520243, 1112275520244]
        s = got[1112275520242]
        assert s["user_id"] == "W0ATARGET" and s["team_id"] == T_A1
        assert s["created"]["os"] == "OS X" and s["created"]["ip"] == "24.6.145.138"
        assert s["recent"]["device_hardware"] == "Apple M2"
    elif method == "getSettings":
        data = drv.call(ADMIN, method, user_ids=["W0ATARGET", "W0ATARGET2", "W0ANOSESS"])
        got = {s["user_id"]: s for s in data["session_settings"]}
        assert got["W0ATARGET"]["duration"] == 86400
        assert got["W0ATARGET"]["desktop_app_browser_quit"] is True
        assert got["W0ATARGET2"]["duration"] == 28800
        assert got["W0ATARGET2"]["desktop_app_browser_quit"] is False
        assert data["no_settings_applied"] == ["W0ANOSESS"]
    elif method == "setSettings":
        drv.call(ADMIN, method, user_ids=["W0ATARGET3", "W0ANOSESS"], duration=2592000, desktop_app_browser_quit=True)
        data = drv.settings(ADMIN, ["W0ATARGET3", "W0ANOSESS"])
        got = {s["user_id"]: s for s in data["session_settings"]}
        for u in ("W0ATARGET3", "W0ANOSESS"):
            assert got[u]["duration"] == 2592000 and got[u]["desktop_app_browser_quit"] is True
        assert data["no_settings_applied"] == []
    elif method == "clearSettings":
        drv.call(ADMIN, method, user_ids=["W0ATARGET"])
        data = drv.settings(ADMIN, ["W0ATARGET", "W0ATARGET2"])
        assert data["no_settings_applied"] == ["W0ATARGET"]
        assert [s["user_id"] for s in data["session_settings"]] == ["W0ATARGET2"]


@pytest.mark.parametrize("sdk,method", cells("async_client", sdks=["slack_sdk"]))
def test_async_client(sdk, method):
    import asyncio

    from slack_sdk.web.async_client import AsyncWebClient

    from support import api_url

    async def go():
        client = AsyncWebClient(token=ADMIN, base_url=api_url())
        resp = await getattr(client, "admin_users_session_" + method)(**args(method))
        return resp.status_code, resp.data

    status, data = asyncio.run(go())
    assert status == 200 and data["ok"] is True, data


@pytest.mark.parametrize("sdk,method", cells("not_authed", sdks=["slack_sdk"]))
def test_not_authed(sdk, method):
    expect_error(driver(sdk), None, method, "not_authed", **args(method))


TOKEN_CASES = [
    ("invalid_auth", UNKNOWN_TOKEN),
    ("token_revoked", REVOKED),
    ("token_expired", EXPIRED),
    ("account_inactive", DELETED),
    ("not_allowed_token_type", BOT),
    ("not_an_admin", MEMBER),
]


@pytest.mark.parametrize(
    "sdk,method,case,token",
    [
        pytest.param(sdk, m, case, tok, id=f"{sdk}-{m}-{case}", marks=pytest.mark.conf(sdk, m, case))
        for case, tok in TOKEN_CASES
        for sdk in PY_SDKS
        for m in catalogue.METHODS
        if catalogue.not_offered(sdk, m, case) is None
    ],
)
def test_token_errors(sdk, method, case, token):
    expect_error(driver(sdk), token, method, case, **args(method))


@pytest.mark.parametrize("sdk,method", cells("missing_scope"))
def test_missing_scope(sdk, method):
    needed = scope_of(method)
    token = WRITEONLY if needed == "admin.users:read" else READONLY
    data = expect_error(driver(sdk), token, method, "missing_scope", **args(method))
    assert data.get("needed") == needed, data
    provided = data.get("provided")
    assert isinstance(provided, str), data
    assert provided.split(",") == ["admin.users:write" if needed == "admin.users:read" else "admin.users:read"]


@pytest.mark.parametrize("sdk,method", cells("feature_not_enabled"))
def test_feature_not_enabled(sdk, method):
    expect_error(driver(sdk), C_ADMIN, method, "feature_not_enabled", **args(method, "c"))


def bad_args(sdk, method):
    return {
        "invalidate": dict(session_id="not-a-number", team_id=T_A1),
        "reset": dict(user_id=None),
        "resetBulk": dict(user_ids=[]),
        "list": dict(limit="many"),
        "getSettings": dict(user_ids=[]),
        "setSettings": dict(user_ids=[], duration=86400),
        "clearSettings": dict(user_ids=[]),
    }[method]


@pytest.mark.parametrize("sdk,method", cells("invalid_arguments"))
def test_invalid_arguments(sdk, method):
    data = expect_error(driver(sdk), ADMIN, method, "invalid_arguments", **bad_args(sdk, method))
    msgs = data.get("response_metadata", {}).get("messages", [])
    assert msgs and all(m.startswith("[ERROR]") for m in msgs), data


@pytest.mark.parametrize("sdk,method", cells("user_not_found", methods=[m for m in catalogue.METHODS if m != "list"]))
def test_user_not_found(sdk, method):
    drv = driver(sdk)
    if method == "invalidate":
        # Only the current form names a user (slack_sdk's generic api_call).
        with pytest.raises(SdkError) as ei:
            drv.generic(ADMIN, "admin.users.session.invalidate",
                        {"user_id": UNKNOWN_USER, "session_id": "1112275520243"})
        assert ei.value.code == "user_not_found", ei.value.data
        assert ei.value.status == 200
        return
    expect_error(drv, ADMIN, method, "user_not_found", **args(method, "unknown"))


def normalise(answer, foreign, unknown):
    text = json.dumps(answer, sort_keys=True)
    for f, u in zip(foreign, unknown):
        text = text.replace(f, u)
    return json.loads(text)


def answer(drv, token, method, **kw):
    try:
        return drv.call(token, method, **kw)
    except SdkError as e:
        return {"status": e.status, **e.data}


@pytest.mark.parametrize("sdk,method", cells("tenant_isolation"))
def test_tenant_isolation(sdk, method):
    drv = driver(sdk)
    b_before = sorted(s["session_id"] for s in raw_list_all(B_ADMIN))
    if method == "list":
        foreign = answer(drv, ADMIN, method, team_id=T_B, user_id="W0BUSER")
        unknown = answer(drv, ADMIN, method, team_id="T0NOSUCHTEAM", user_id=UNKNOWN_USER)
        assert normalise(foreign, [T_B, "W0BUSER"], ["T0NOSUCHTEAM", UNKNOWN_USER]) == unknown, (foreign, unknown)
        whole = drv.call(ADMIN, method)
        assert not [s for s in whole["active_sessions"] if s["user_id"] == "W0BUSER" or s["team_id"] == T_B]
    elif method == "invalidate":
        foreign = answer(drv, ADMIN, method, **args(method, "foreign"))
        unknown = answer(drv, ADMIN, method, **args(method, "unknown"))
        assert foreign.get("error") == "session_not_found", foreign
        assert normalise(foreign, ["1112275530001"], [str(UNKNOWN_SESSION)]) == unknown, (foreign, unknown)
    else:
        foreign = answer(drv, ADMIN, method, **args(method, "foreign"))
        unknown = answer(drv, ADMIN, method, **args(method, "unknown"))
        assert normalise(foreign, ["W0BUSER"], [UNKNOWN_USER]) == unknown, (foreign, unknown)
        assert foreign.get("ok") is not True, foreign
    # Org B is untouched.
    assert sorted(s["session_id"] for s in raw_list_all(B_ADMIN)) == b_before
    b = driver("slack_sdk").call(B_ADMIN, "getSettings", user_ids=["W0BUSER"])
    assert b["session_settings"] == [{"user_id": "W0BUSER", "duration": 43200, "desktop_app_browser_quit": True}], b


# ------------------------------------------------------------------ invalidate


@pytest.mark.conf("slack_sdk", "invalidate", "current_form")
def test_invalidate_current_form():
    drv = driver("slack_sdk")
    data = drv.generic(ADMIN, "admin.users.session.invalidate", {"user_id": "W0ATARGET", "session_id": "1112275520244"})
    assert data["ok"] is True
    assert 1112275520244 not in drv.list_user(ADMIN, "W0ATARGET")
    assert 1112275520243 in drv.list_user(ADMIN, "W0ATARGET")


@pytest.mark.parametrize("sdk,method", cells("session_not_found", methods=["invalidate"]))
def test_session_not_found(sdk, method):
    expect_error(driver(sdk), ADMIN, method, "session_not_found", **args(method, "unknown"))


@pytest.mark.parametrize("sdk,method", cells("cannot_invalidate_primary_owner", methods=["invalidate"]))
def test_cannot_invalidate_primary_owner(sdk, method):
    drv = driver(sdk)
    expect_error(drv, ADMIN, method, "cannot_invalidate_primary_owner", **args(method, "primary"))
    assert 1112275520270 in drv.list_user(ADMIN, "W0APRIMARY")


@pytest.mark.parametrize("sdk,method", cells("primary_owner_self", methods=["invalidate"]))
def test_primary_owner_self(sdk, method):
    drv = driver(sdk)
    assert drv.call(PRIMARY, method, **args(method, "primary"))["ok"] is True
    assert 1112275520270 not in drv.list_user(ADMIN, "W0APRIMARY")


@pytest.mark.parametrize("sdk,method", cells("simulated_login", methods=["invalidate"]))
def test_invalidate_simulated_login(sdk, method):
    drv = driver(sdk)
    sid = simulate_login("W0ANOSESS", T_A2, "desktop")
    assert drv.list_user(ADMIN, "W0ANOSESS") == [sid]
    assert drv.call(ADMIN, method, session_id=str(sid), team_id=T_A2)["ok"] is True
    assert drv.list_user(ADMIN, "W0ANOSESS") == []


# ------------------------------------------------------------------ reset / resetBulk

KIND = {1112275520242: "web", 1112275520243: "desktop", 1112275520244: "mobile",
        1112275520245: "web", 1112275520246: "mobile"}


def remaining_kinds(drv):
    return sorted(KIND[s] for s in drv.list_user(ADMIN, "W0ATARGET"))


@pytest.mark.parametrize("sdk,method", cells("web_only", methods=["reset"]))
def test_reset_web_only(sdk, method):
    drv = driver(sdk)
    drv.call(ADMIN, method, user_id="W0ATARGET", web_only=True)
    assert remaining_kinds(drv) == ["mobile", "mobile"]


@pytest.mark.parametrize("sdk,method", cells("mobile_only", methods=["reset"]))
def test_reset_mobile_only(sdk, method):
    drv = driver(sdk)
    drv.call(ADMIN, method, user_id="W0ATARGET", mobile_only=True)
    assert remaining_kinds(drv) == ["desktop", "web", "web"]


@pytest.mark.parametrize("sdk,method", cells("both_flags", methods=["reset"]))
def test_reset_both_flags(sdk, method):
    drv = driver(sdk)
    drv.call(ADMIN, method, user_id="W0ATARGET", mobile_only=True, web_only=True)
    assert remaining_kinds(drv) == []


@pytest.mark.parametrize("sdk,method", cells("cannot_reset_primary_owner", methods=["reset", "resetBulk"]))
def test_cannot_reset_primary_owner(sdk, method):
    drv = driver(sdk)
    kw = dict(user_id="W0APRIMARY") if method == "reset" else dict(user_ids=["W0ATARGET3", "W0APRIMARY"])
    expect_error(drv, ADMIN, method, "cannot_reset_primary_owner", **kw)
    assert drv.list_user(ADMIN, "W0APRIMARY") == [1112275520270]


@pytest.mark.parametrize("sdk,method", cells("cannot_reset_bot", methods=["reset", "resetBulk"]))
def test_cannot_reset_bot(sdk, method):
    kw = dict(user_id="W0ABOT") if method == "reset" else dict(user_ids=["W0ATARGET3", "W0ABOT"])
    expect_error(driver(sdk), ADMIN, method, "cannot_reset_bot", **kw)


@pytest.mark.conf("slack_sdk", "resetBulk", "mobile_only")
def test_reset_bulk_mobile_only():
    drv = driver("slack_sdk")
    drv.call(ADMIN, "resetBulk", user_ids=["W0ATARGET", "W0ATARGET3"], mobile_only=True)
    assert wait_until(lambda: remaining_kinds(drv) == ["desktop", "web", "web"], 3.0), remaining_kinds(drv)
    assert wait_until(lambda: drv.list_user(ADMIN, "W0ATARGET3") == [1112275520260], 3.0)


@pytest.mark.conf("slack_sdk", "resetBulk", "too_many_users")
def test_reset_bulk_too_many():
    users = [f"W0APAGE{i % 50:03d}" for i in range(1001)]
    expect_error(driver("slack_sdk"), ADMIN, "resetBulk", "invalid_arguments", user_ids=users)


# ------------------------------------------------------------------ list


@pytest.mark.conf("slack_sdk", "list", "by_user_and_team")
def test_list_by_user_and_team():
    drv = driver("slack_sdk")
    data = drv.call(ADMIN, "list", team_id=T_A2, user_id="W0ATARGET")
    assert [(s["session_id"], s["team_id"]) for s in data["active_sessions"]] == [(1112275520245, T_A2)]
    assert data["response_metadata"]["next_cursor"] == ""


@pytest.mark.conf("slack_sdk", "list", "missing_team")
def test_list_missing_team():
    expect_error(driver("slack_sdk"), ADMIN, "list", "missing_team", user_id="W0ATARGET")


@pytest.mark.conf("slack_sdk", "list", "missing_user")
def test_list_missing_user():
    expect_error(driver("slack_sdk"), ADMIN, "list", "missing_user", team_id=T_A1)


@pytest.mark.conf("slack_sdk", "list", "invalid_cursor")
def test_list_invalid_cursor():
    expect_error(driver("slack_sdk"), ADMIN, "list", "invalid_cursor", cursor="bm90LWEtY3Vyc29y!!", limit=10)


def expected_listable():
    from support import seed_sessions

    return sorted(s["session_id"] for s in seed_sessions())


@pytest.mark.conf("slack_sdk", "list", "pagination")
def test_list_pagination():
    client = driver("slack_sdk").client(ADMIN)
    ids, pages = [], 0
    for page in client.admin_users_session_list(limit=50):
        pages += 1
        assert len(page["active_sessions"]) <= 50
        ids.extend(s["session_id"] for s in page["active_sessions"])
        assert pages < 100
    assert len(ids) == len(set(ids)), "a session came back twice"
    assert sorted(ids) == expected_listable()
    assert pages >= 10, pages


@pytest.mark.conf("slack_sdk", "list", "pagination_async")
def test_list_pagination_async():
    import asyncio

    from slack_sdk.web.async_client import AsyncWebClient

    from support import api_url

    async def go():
        client = AsyncWebClient(token=ADMIN, base_url=api_url())
        ids, pages = [], 0
        async for page in await client.admin_users_session_list(limit=100):
            pages += 1
            ids.extend(s["session_id"] for s in page["active_sessions"])
            assert pages < 100
        return ids, pages

    ids, pages = asyncio.run(go())
    assert len(ids) == len(set(ids))
    assert sorted(ids) == expected_listable()
    assert pages >= 5


@pytest.mark.conf("slack_sdk", "list", "bots_not_listed")
def test_list_bots_not_listed():
    ids = {s["session_id"] for s in driver("slack_sdk").call(ADMIN, "list")["active_sessions"]}
    assert 1112275520299 not in ids
    assert 1112275520242 in ids


@pytest.mark.conf("slack_sdk", "list", "recent_omitted")
def test_list_recent_omitted():
    sessions = {s["session_id"]: s for s in driver("slack_sdk").call(ADMIN, "list")["active_sessions"]}
    assert "recent" in sessions[1112275520242]
    assert "recent" not in sessions[1112275520243], sessions[1112275520243]
    assert set(sessions[1112275520243]["created"]) >= {"device_hardware", "os", "os_version", "slack_client_version", "ip"}


@pytest.mark.conf("slack_sdk", "list", "simulated_login")
def test_list_simulated_login():
    drv = driver("slack_sdk")
    sid = simulate_login("W0ATARGET3", T_A2, "mobile")
    data = drv.call(ADMIN, "list", team_id=T_A2, user_id="W0ATARGET3")
    got = {s["session_id"]: s for s in data["active_sessions"]}
    assert sorted(got) == sorted([1112275520260, 1112275520261, sid])
    assert got[sid]["team_id"] == T_A2 and "created" in got[sid]


# ------------------------------------------------------------------ settings


@pytest.mark.conf("slack_sdk", "getSettings", "no_settings_applied")
def test_get_settings_no_settings_applied():
    data = driver("slack_sdk").call(ADMIN, "getSettings", user_ids=["W0ATARGET3", "W0ANOSESS"])
    assert data["session_settings"] == []
    assert sorted(data["no_settings_applied"]) == ["W0ANOSESS", "W0ATARGET3"]


@pytest.mark.parametrize(
    "method",
    [pytest.param(m, marks=pytest.mark.conf("slack_sdk", m, "bots_not_allowed"))
     for m in ["getSettings", "setSettings", "clearSettings"]],
)
def test_bots_not_allowed(method):
    kw = dict(user_ids=["W0ABOT"])
    if method == "setSettings":
        kw["duration"] = 86400
    expect_error(driver("slack_sdk"), ADMIN, method, "bots_not_allowed", **kw)


@pytest.mark.conf("slack_sdk", "getSettings", "json_body")
def test_get_settings_json_body():
    client = driver("slack_sdk").client(ADMIN)
    resp = client.api_call("admin.users.session.getSettings", json={"user_ids": ["W0ATARGET", "W0ANOSESS"]})
    assert resp["ok"] is True
    assert [s["user_id"] for s in resp["session_settings"]] == ["W0ATARGET"]
    assert resp["no_settings_applied"] == ["W0ANOSESS"]


@pytest.mark.conf("slack_sdk", "setSettings", "at_least_one_setting")
def test_set_settings_needs_one():
    expect_error(driver("slack_sdk"), ADMIN, "setSettings", "at_least_one_session_setting_required",
                 user_ids=["W0ATARGET3"])


@pytest.mark.conf("slack_sdk", "setSettings", "duration_bounds")
def test_set_settings_duration_bounds():
    drv = driver("slack_sdk")
    for bad in (100, 315569521):
        expect_error(drv, ADMIN, "setSettings", "invalid_arguments", user_ids=["W0ATARGET3"], duration=bad)
    assert drv.call(ADMIN, "setSettings", user_ids=["W0ATARGET3"], duration=315569520)["ok"] is True
    got = drv.settings(ADMIN, ["W0ATARGET3"])["session_settings"]
    assert got[0]["duration"] == 315569520


@pytest.mark.conf("slack_sdk", "setSettings", "quit_only")
def test_set_settings_quit_only():
    drv = driver("slack_sdk")
    drv.call(ADMIN, "setSettings", user_ids=["W0ATARGET"], desktop_app_browser_quit=False)
    got = drv.settings(ADMIN, ["W0ATARGET"])["session_settings"]
    assert got == [{"user_id": "W0ATARGET", "duration": 86400, "desktop_app_browser_quit": False}]
