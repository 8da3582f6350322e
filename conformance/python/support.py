"""Shared helpers for the Python conformance suites: the emulator's control plane,
raw HTTP, the seed, and one driver per SDK that turns "call method M with these
arguments and this token" into the SDK's own call.

Only the SDKs' public configuration is used: slack_sdk's base_url, and the APIMatic
SDK's Configuration.environments map (its one place for server URLs). No SDK file
is changed.
"""

import json
import os
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SEED_PATH = os.path.join(os.path.dirname(HERE), "seed.json")

EMU_URL = os.environ.get("EMU_URL", "").rstrip("/")
EMU_RL_URL = os.environ.get("EMU_RL_URL", "").rstrip("/")


def api_url(base=None):
    """The Web API root the SDKs are pointed at (trailing slash, as slack_sdk wants)."""
    return (base or EMU_URL) + "/api/"


with open(SEED_PATH) as _f:
    SEED = json.load(_f)

ORG_A, ORG_B, ORG_C = SEED["orgs"]

# Tokens (see gen_seed.py).
ADMIN = "xoxp-conf-a-admin"
OWNER = "xoxp-conf-a-owner"
PRIMARY = "xoxp-conf-a-primary"
MEMBER = "xoxp-conf-a-member"
READONLY = "xoxp-conf-a-readonly"
WRITEONLY = "xoxp-conf-a-writeonly"
BOT = "xoxb-conf-a-bot"
REVOKED = "xoxp-conf-a-revoked"
EXPIRED = "xoxp-conf-a-expired"
DELETED = "xoxp-conf-a-deleted"
UNKNOWN_TOKEN = "xoxp-conf-no-such-token"
B_ADMIN = "xoxp-conf-b-admin"
C_ADMIN = "xoxp-conf-c-admin"

T_A1, T_A2, E_A = "T0CONFA01", "T0CONFA02", "E0CONFA01"
T_B = "T0CONFB01"
UNKNOWN_USER = "W0NOSUCHUSER"
UNKNOWN_SESSION = 1112275599999

READ_METHODS = {"list", "getSettings"}


def scope_of(method):
    return "admin.users:read" if method in READ_METHODS else "admin.users:write"


def seed_sessions(org=ORG_A, listable=True):
    bots = {u["id"] for u in org["users"] if u["is_bot"]}
    return [s for s in org["sessions"] if not (listable and s["user_id"] in bots)]


def seed_session_ids_of(user, org=ORG_A):
    return sorted(s["session_id"] for s in org["sessions"] if s["user_id"] == user)


def seed_session(sid):
    for org in SEED["orgs"]:
        for s in org["sessions"]:
            if s["session_id"] == sid:
                return s
    raise KeyError(sid)


# ---------------------------------------------------------------- raw HTTP / control plane


class Raw:
    """A plain urllib answer: status, headers (lower-cased), parsed JSON body (or None)."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.text = body.decode("utf-8", "replace")
        try:
            self.json = json.loads(self.text)
        except ValueError:
            self.json = None

    def __repr__(self):
        return f"Raw({self.status}, {self.text[:300]!r})"


def raw(url, body=b"", content_type=None, headers=None, method="POST", timeout=10):
    req = urllib.request.Request(url, data=body if method != "GET" else None, method=method)
    if content_type:
        req.add_header("Content-Type", content_type)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Raw(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Raw(e.code, dict(e.headers), e.read())


def control(path, payload=None, base=None, method="POST"):
    body = json.dumps(payload if payload is not None else {}).encode()
    r = raw((base or EMU_URL) + path, body, "application/json", method=method)
    assert r.status == 200 and r.json is not None and r.json.get("ok", True), f"control {path}: {r!r}"
    return r.json


def reset_emulator(base=None):
    control("/_emulator/reset", {}, base)


def simulate_login(user_id, team_id, client="web", base=None):
    out = control("/_emulator/sessions", {"user_id": user_id, "team_id": team_id, "client": client}, base)
    sid = out["session_id"]
    assert isinstance(sid, int), out
    return sid


def raw_api(method, params, token=ADMIN, base=None):
    """A form POST with a Bearer header, for checks independent of any SDK."""
    from urllib.parse import urlencode

    return raw(
        api_url(base) + method,
        urlencode(params).encode(),
        "application/x-www-form-urlencoded",
        {"Authorization": f"Bearer {token}"},
    )


def raw_list_all(token=ADMIN, base=None):
    """Every session the token's org lists, following cursors (raw HTTP)."""
    out, cursor = [], None
    for _ in range(100):
        params = {"limit": 1000}
        if cursor:
            params["cursor"] = cursor
        r = raw_api("admin.users.session.list", params, token, base)
        assert r.json and r.json.get("ok"), r
        out.extend(r.json["active_sessions"])
        cursor = r.json.get("response_metadata", {}).get("next_cursor")
        if not cursor:
            return out
    raise AssertionError("list did not end in 100 pages")


def raw_sessions_of(user, token=ADMIN):
    return sorted(s["session_id"] for s in raw_list_all(token) if s["user_id"] == user)


def wait_until(pred, timeout=3.0, step=0.05):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


# ---------------------------------------------------------------- SDK drivers


class SdkError(Exception):
    """An ok:false answer, as the SDK surfaced it."""

    def __init__(self, status, data):
        super().__init__(f"HTTP {status}: {data}")
        self.status = status
        self.data = data or {}
        self.code = self.data.get("error")


class SlackSdkDriver:
    name = "slack_sdk"

    def __init__(self, base=None):
        self.url = api_url(base)

    def client(self, token, **kw):
        from slack_sdk import WebClient

        return WebClient(token=token, base_url=self.url, **kw)

    def call(self, token, method, **args):
        from slack_sdk.errors import SlackApiError

        fn = getattr(self.client(token), "admin_users_session_" + method)
        try:
            resp = fn(**args)
        except SlackApiError as e:
            raise SdkError(e.response.status_code, e.response.data) from None
        assert resp.status_code == 200 and resp["ok"] is True, resp.data
        return resp.data

    def generic(self, token, method, params):
        from slack_sdk.errors import SlackApiError

        try:
            return self.client(token).api_call(method, params=params).data
        except SlackApiError as e:
            raise SdkError(e.response.status_code, e.response.data) from None

    def list_user(self, token, user):
        """The user's session ids, through this SDK's list (whole org, following cursors)."""
        ids = []
        for page in self.client(token).admin_users_session_list(limit=1000):
            ids.extend(s["session_id"] for s in page["active_sessions"] if s["user_id"] == user)
        return sorted(ids)

    def settings(self, token, users):
        return self.call(token, "getSettings", user_ids=users)


class ApimaticDriver:
    """slack-api-sdk-apimatic: only invalidate and reset. Its controllers take the
    token as an argument and send it in a `token` header; the client also needs an
    OAuth 2 token, which it sends as `Authorization: Bearer`. Both carry the same
    token here, as a user of the SDK would configure it."""

    name = "apimatic"

    def __init__(self, base=None, **config):
        self.base = (base or EMU_URL).rstrip("/")
        self.config = config

    def client(self, token):
        from slackwebapi.configuration import Environment, Server
        from slackwebapi.http.auth.oauth_2 import AuthorizationCodeAuthCredentials
        from slackwebapi.models.oauth_token import OauthToken
        from slackwebapi.slackwebapi_client import SlackwebapiClient

        client = SlackwebapiClient(
            authorization_code_auth_credentials=AuthorizationCodeAuthCredentials(
                oauth_client_id="conformance",
                oauth_client_secret="conformance",
                oauth_redirect_uri="http://127.0.0.1/callback",
                oauth_token=OauthToken(access_token=token, token_type="Bearer"),
            ),
            **self.config,
        )
        # The SDK's one place for server URLs (it ships only Environment.PRODUCTION).
        client.config.environments = {
            Environment.PRODUCTION: {
                Server.DEFAULT: self.base + "/api",
                Server.AUTH_SERVER: self.base + "/oauth",
            }
        }
        return client

    def call(self, token, method, **args):
        from slackwebapi.exceptions.api_exception import ApiException

        ctl = self.client(token).admin_users_session
        try:
            if method == "invalidate":
                r = ctl.admin_users_session_invalidate(token, args["team_id"], int_or_str(args["session_id"]))
            elif method == "reset":
                r = ctl.admin_users_session_reset(
                    token, args.get("user_id"), args.get("mobile_only"), args.get("web_only")
                )
            else:
                raise NotImplementedError(method)
        except ApiException as e:
            try:
                data = json.loads(e.response.text)
            except ValueError:
                data = {"error": f"non-JSON body: {e.response.text[:200]!r}"}
            raise SdkError(e.response_code, data) from None
        data = json.loads(r.text)
        # The SDK's model: DefaultSuccessTemplate.ok is the constant "True" whatever the
        # body says, and every other field (error, needed, ...) lands in
        # additional_properties. Check that the SDK surfaced the error code.
        assert r.body is not None, r.text
        if not data.get("ok"):
            assert r.body.additional_properties.get("error") == data.get("error"), (r.body, data)
            raise SdkError(r.status_code, data)
        assert r.status_code == 200, r.status_code
        return data

    # State is read with raw HTTP: the SDK has no list or getSettings.
    def list_user(self, token, user):
        return raw_sessions_of(user, token)

    def settings(self, token, users):
        r = raw_api("admin.users.session.getSettings", {"user_ids": ",".join(users)}, token)
        assert r.json and r.json["ok"], r
        return r.json


def int_or_str(v):
    try:
        return int(v)
    except (TypeError, ValueError):
        return v


def driver(name, base=None):
    return {"slack_sdk": SlackSdkDriver, "apimatic": ApimaticDriver}[name](base)
