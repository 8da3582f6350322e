"""The `slack_emulator` fixture, used the way a slack_sdk developer would.

No conftest: the fixture and the marker come from the installed package's pytest11 entry point.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from slack_sessions import ControlError, Emulator

DEMO_ORG = "E0DEMO0001"
SEED_FILE = Path(__file__).parent / "data" / "seed.json"


def client_for(emulator: Emulator, **kwargs: Any) -> WebClient:
    return WebClient(token=emulator.admin_token, base_url=emulator.api_url, **kwargs)


def member_with_sessions(emulator: Emulator) -> tuple[str, str, int]:
    """A demo member (not an admin, not a bot) with sessions: (user id, a team, session count)."""
    org = next(o for o in emulator.state()["orgs"] if o["id"] == DEMO_ORG)
    members = {
        u["id"]: u
        for u in org["users"]
        if u.get("role", "member") == "member" and not u.get("is_bot") and not u.get("deleted")
    }
    counts: dict[str, int] = {}
    for s in org["sessions"]:
        if s["user_id"] in members:
            counts[s["user_id"]] = counts.get(s["user_id"], 0) + 1
    user = min(counts)
    return user, members[user]["teams"][0], counts[user]


def sessions_of(client: WebClient, user_id: str) -> list[dict[str, Any]]:
    answer = client.admin_users_session_list(user_id=user_id, team_id=DEMO_ORG)
    return list(answer["active_sessions"])


def test_web_client_against_the_fixture(slack_emulator: Emulator) -> None:
    assert slack_emulator.api_url.endswith("/api/")
    assert slack_emulator.control_url.endswith("/_emulator/")
    assert slack_emulator.admin_token == "xoxp-demo-admin"
    client = client_for(slack_emulator)
    assert client.auth_test()["ok"] is True
    page = client.admin_users_session_list(limit=10)
    assert len(page["active_sessions"]) == 10
    assert page["response_metadata"]["next_cursor"]


def test_async_web_client_against_the_fixture(slack_emulator: Emulator) -> None:
    async def walk() -> int:
        client = AsyncWebClient(token=slack_emulator.admin_token, base_url=slack_emulator.api_url)
        total, cursor = 0, None
        while True:
            page = await client.admin_users_session_list(limit=100, cursor=cursor)
            total += len(page["active_sessions"])
            cursor = page["response_metadata"]["next_cursor"]
            if not cursor:
                return total

    expected = slack_emulator.health()["sessions"]
    walked = asyncio.run(walk())
    # Bot sessions are never listed.
    assert 0 < walked <= expected


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_each_test_starts_from_the_seed(slack_emulator: Emulator, round_: int) -> None:
    """Each round finds the seed's state untouched, then wrecks it (state, faults, journal)."""
    assert slack_emulator.requests() == []
    assert slack_emulator.faults() == []
    assert slack_emulator.audit() == []
    client = client_for(slack_emulator)
    user, _team, count = member_with_sessions(slack_emulator)
    assert len(sessions_of(client, user)) == count
    client.admin_users_session_reset(user_id=user)
    assert sessions_of(client, user) == []
    slack_emulator.add_fault("admin.users.session.getSettings", {"error": "internal_error"})
    assert [a["method"] for a in slack_emulator.audit()] == ["admin.users.session.reset"]


def test_rate_limit_fault_with_the_sdk_retry_handler(slack_emulator: Emulator) -> None:
    slack_emulator.add_fault("admin.users.session.list", {"rate_limited": 1}, times=1)
    client = client_for(slack_emulator, retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    assert client.admin_users_session_list(limit=1)["ok"] is True
    calls = slack_emulator.requests("admin.users.session.list")
    assert [c["status"] for c in calls] == [429, 200]
    assert calls[0]["fault"] and calls[1]["fault"] is None
    assert slack_emulator.faults() == []  # times=1: used up


def test_rate_limit_fault_without_retry_reaches_the_caller(slack_emulator: Emulator) -> None:
    slack_emulator.add_fault(effect={"rate_limited": 7}, method="admin.users.session.list")
    with pytest.raises(SlackApiError) as raised:
        client_for(slack_emulator).admin_users_session_list(limit=1)
    assert raised.value.response.status_code == 429
    assert raised.value.response.headers["Retry-After"] == "7"


def test_error_fault_and_its_filters(slack_emulator: Emulator) -> None:
    rule = slack_emulator.add_fault(
        "admin.users.session.getSettings", {"error": "internal_error"}, times=2, token="xoxp-demo-admin"
    )
    assert rule["times"] == 2 and rule["effect"] == {"error": "internal_error"}
    client = client_for(slack_emulator)
    user, _team, _count = member_with_sessions(slack_emulator)
    with pytest.raises(SlackApiError) as raised:
        client.admin_users_session_getSettings(user_ids=[user])
    assert raised.value.response["error"] == "internal_error"
    assert slack_emulator.faults()[0]["times"] == 1
    slack_emulator.clear_faults()
    assert client.admin_users_session_getSettings(user_ids=[user])["ok"] is True


def test_fault_arguments_are_checked(slack_emulator: Emulator) -> None:
    with pytest.raises(ValueError, match="times"):
        slack_emulator.add_fault(effect="empty_body", times=0)
    with pytest.raises(ValueError, match="unknown effect"):
        slack_emulator.add_fault(effect="explode")
    with pytest.raises(TypeError):
        slack_emulator.add_fault("auth.test")
    with pytest.raises(ControlError) as raised:
        slack_emulator.add_fault(effect={"http_status": 404})
    assert raised.value.status == 400 and raised.value.code == "invalid_fault"
    assert "5xx" in raised.value.detail


def test_the_journal_records_each_call(slack_emulator: Emulator) -> None:
    client = client_for(slack_emulator)
    user, team, _count = member_with_sessions(slack_emulator)
    client.admin_users_session_list(user_id=user, team_id=team, limit=5)
    with pytest.raises(SlackApiError):
        WebClient(token="xoxp-demo-member", base_url=slack_emulator.api_url).admin_users_session_reset(
            user_id=user
        )
    everything = slack_emulator.requests()
    assert [e["method"] for e in everything] == ["admin.users.session.list", "admin.users.session.reset"]
    listed = slack_emulator.requests("admin.users.session.list")
    assert len(listed) == 1
    entry = listed[0]
    assert entry["status"] == 200 and entry["error"] is None
    assert entry["user_id"] == "W0DEMO0002" and entry["org_id"] == DEMO_ORG
    assert entry["args"]["user_id"] == user and str(entry["args"]["limit"]) == "5"
    assert "token" not in entry["args"]
    assert "xoxp-" not in json.dumps(everything)
    refused = slack_emulator.requests("admin.users.session.reset")[0]
    assert refused["error"] == "not_an_admin"
    # `after` skips what was already seen.
    assert slack_emulator.requests(after=everything[0]["id"]) == everything[1:]


def test_sign_in_then_invalidate(slack_emulator: Emulator) -> None:
    client = client_for(slack_emulator)
    user, team, count = member_with_sessions(slack_emulator)
    session_id = slack_emulator.sign_in(
        user,
        team,
        client="mobile",
        device_hardware="Pixel 8",
        os="Android",
        os_version="15",
        ip="198.51.100.9",
    )
    mine = [s for s in sessions_of(client, user) if s["session_id"] == session_id]
    assert len(mine) == 1
    assert mine[0]["created"]["os"] == "Android" and mine[0]["team_id"] == team
    assert client.admin_users_session_invalidate(session_id=str(session_id), team_id=team)["ok"] is True
    remaining = sessions_of(client, user)
    assert session_id not in [s["session_id"] for s in remaining]
    assert len(remaining) == count
    assert [(a["method"], a["sessions"]) for a in slack_emulator.audit()] == [
        ("_emulator/sessions", [session_id]),
        ("admin.users.session.invalidate", [session_id]),
    ]


def test_sign_in_errors_name_the_cause(slack_emulator: Emulator) -> None:
    with pytest.raises(ControlError) as raised:
        slack_emulator.sign_in("W0NOSUCHUSER", "T0DEMOENG1")
    assert raised.value.code == "user_not_found"
    with pytest.raises(TypeError, match="unknown fields"):
        slack_emulator.sign_in("W0DEMO0005", "T0DEMOENG1", operating_system="iOS")


def test_state_round_trip(slack_emulator: Emulator) -> None:
    state = slack_emulator.state()
    demo = next(o for o in state["orgs"] if o["id"] == DEMO_ORG)
    demo["sessions"] = []
    slack_emulator.load_state(state)
    client = client_for(slack_emulator)
    assert client.admin_users_session_list()["active_sessions"] == []
    slack_emulator.reset()
    assert client.admin_users_session_list(limit=1)["active_sessions"]


@pytest.mark.slack_seed(
    {
        "orgs": [
            {
                "id": "E0DICT0001",
                "teams": [{"id": "T0DICT0001"}],
                "users": [
                    {"id": "W0DICTMEMB", "teams": ["T0DICT0001"]},
                    {"id": "W0DICTOWNR", "role": "owner", "teams": ["T0DICT0001"]},
                    {"id": "W0DICTBOT1", "role": "admin", "is_bot": True, "teams": ["T0DICT0001"]},
                ],
                "tokens": [
                    {"token": "xoxb-dict-bot", "user_id": "W0DICTBOT1", "scopes": ["admin.users:write"]},
                    {"token": "xoxp-dict-owner", "user_id": "W0DICTOWNR", "scopes": ["admin.users:read"]},
                ],
                "sessions": [{"session_id": 42, "user_id": "W0DICTMEMB", "team_id": "T0DICT0001"}],
            }
        ]
    }
)
def test_custom_seed_from_a_dict(slack_emulator: Emulator) -> None:
    assert slack_emulator.admin_token == "xoxp-dict-owner"  # read-only: the only admin token
    client = client_for(slack_emulator)
    assert client.auth_test()["user_id"] == "W0DICTOWNR"
    sessions = client.admin_users_session_list()["active_sessions"]
    assert [s["session_id"] for s in sessions] == [42]


@pytest.mark.slack_seed("data/seed.json")
def test_custom_seed_from_a_file(slack_emulator: Emulator) -> None:
    assert slack_emulator.admin_token == "xoxp-example-admin"
    client = client_for(slack_emulator)
    assert client.auth_test()["user_id"] == "W023B4DEF"
    sessions = client.admin_users_session_list(user_id="W034C5EFG", team_id="E012AB3CD")["active_sessions"]
    assert sorted(s["session_id"] for s in sessions) == [1112275520242, 1112275520243]
    client.admin_users_session_reset(user_id="W034C5EFG")
    assert client.admin_users_session_list()["active_sessions"] == []


@pytest.mark.slack_seed(SEED_FILE)
def test_the_same_seed_file_is_reset_between_tests(slack_emulator: Emulator) -> None:
    client = client_for(slack_emulator)
    assert len(client.admin_users_session_list()["active_sessions"]) == 2


@pytest.mark.slack_seed(SEED_FILE)
class TestMarkerOnAClass:
    def test_uses_the_class_seed(self, slack_emulator: Emulator) -> None:
        assert slack_emulator.admin_token == "xoxp-example-admin"

    @pytest.mark.slack_seed(None)
    def test_closest_marker_wins(self, slack_emulator: Emulator) -> None:
        assert slack_emulator.admin_token == "xoxp-demo-admin"


def test_the_journal_is_read_whole_past_one_page(slack_emulator: Emulator) -> None:
    """More calls than the control plane's page of the journal (1,000): `requests()` pages."""
    host, port = urllib.parse.urlsplit(slack_emulator.api_url).netloc.split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    headers = {"Authorization": f"Bearer {slack_emulator.admin_token}"}
    try:
        for _ in range(1_201):
            connection.request("POST", "/api/auth.test", body=b"", headers=headers)
            assert json.loads(connection.getresponse().read())["ok"] is True
    finally:
        connection.close()
    entries = slack_emulator.requests("auth.test")
    assert len(entries) == 1_201
    ids = [e["id"] for e in entries]
    assert ids == sorted(set(ids))
