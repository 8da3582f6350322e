"""Wire-level checks. "encoding" captures what each SDK really sends (a loopback
capture server answering {"ok":true}), so the matrix's claim "through the SDK's own
encoding" is itself tested; the raw-HTTP rows check envelope rules no SDK can reach."""

import http.server
import json
import threading
from urllib.parse import parse_qs

import pytest

from support import ADMIN, ApimaticDriver, SlackSdkDriver, api_url, raw, raw_api


class Capture:
    def __init__(self):
        self.requests = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(n).decode()
                outer.requests.append(
                    {
                        "path": self.path,
                        "content_type": self.headers.get("content-type"),
                        "authorization": self.headers.get("authorization"),
                        "token_header": self.headers.get("token"),
                        "body": body,
                        "form": {k: v[0] for k, v in parse_qs(body).items()},
                    }
                )
                out = b'{"ok":true}'
                self.send_response(200)
                self.send_header("content-type", "application/json; charset=utf-8")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def capture():
    c = Capture()
    yield c
    c.close()


@pytest.mark.no_reset
@pytest.mark.conf("slack_sdk", "(wire)", "encoding")
def test_slack_sdk_encoding(capture):
    drv = SlackSdkDriver(capture.url)
    drv.call("xoxp-wire", "invalidate", session_id="1112275520243", team_id="T0CONFA01")
    drv.call("xoxp-wire", "reset", user_id="W0ATARGET", mobile_only=True, web_only=False)
    drv.call("xoxp-wire", "resetBulk", user_ids=["W0ATARGET", "W0ATARGET2"])
    drv.call("xoxp-wire", "setSettings", user_ids=["W0ATARGET"], duration=86400, desktop_app_browser_quit=True)
    inv, reset, bulk, sets = capture.requests
    for r in capture.requests:
        assert r["content_type"] == "application/x-www-form-urlencoded", r
        assert r["authorization"] == "Bearer xoxp-wire" and "token" not in r["form"], r
    assert inv["form"] == {"session_id": "1112275520243", "team_id": "T0CONFA01"}
    assert reset["form"] == {"user_id": "W0ATARGET", "mobile_only": "1", "web_only": "0"}
    assert bulk["form"] == {"user_ids": "W0ATARGET,W0ATARGET2"}
    assert sets["form"] == {"user_ids": "W0ATARGET", "duration": "86400", "desktop_app_browser_quit": "1"}


@pytest.mark.no_reset
@pytest.mark.conf("apimatic", "(wire)", "encoding")
def test_apimatic_encoding(capture):
    drv = ApimaticDriver(capture.url)
    drv.call("xoxp-wire", "invalidate", session_id="1112275520243", team_id="T0CONFA01")
    drv.call("xoxp-wire", "reset", user_id="W0ATARGET", mobile_only=True, web_only=False)
    inv, reset = capture.requests
    for r in capture.requests:
        assert r["content_type"] == "application/x-www-form-urlencoded", r
        assert r["token_header"] == "xoxp-wire", r
        assert r["authorization"] == "Bearer xoxp-wire", r
    assert inv["path"] == "/api/admin.users.session.invalidate"
    assert inv["form"] == {"team_id": "T0CONFA01", "session_id": "1112275520243"}
    assert reset["form"] == {"user_id": "W0ATARGET", "mobile_only": "true", "web_only": "false"}


def check_warning(body, code):
    assert body["ok"] is True, body
    assert code in body.get("warning", "").split(","), body
    assert code in body.get("response_metadata", {}).get("warnings", []), body


@pytest.mark.conf("raw", "(wire)", "superfluous_charset")
def test_raw_superfluous_charset():
    r = raw(
        api_url() + "admin.users.session.getSettings",
        b"user_ids=W0ATARGET",
        "application/x-www-form-urlencoded; charset=utf-8",
        {"Authorization": f"Bearer {ADMIN}"},
    )
    assert r.status == 200
    check_warning(r.json, "superfluous_charset")
    assert [s["user_id"] for s in r.json["session_settings"]] == ["W0ATARGET"]


@pytest.mark.conf("raw", "(wire)", "json_without_charset")
def test_raw_json_without_charset():
    r = raw(
        api_url() + "admin.users.session.getSettings",
        json.dumps({"user_ids": ["W0ATARGET"]}).encode(),
        "application/json",
        {"Authorization": f"Bearer {ADMIN}"},
    )
    assert r.status == 200 and r.json["ok"] is True, r
    assert [s["user_id"] for s in r.json["session_settings"]] == ["W0ATARGET"]
    warnings = r.json.get("response_metadata", {}).get("warnings", [])
    assert set(warnings) <= {"missing_charset"}, r.json
    if "warning" in r.json:
        assert r.json["warning"] == "missing_charset" and warnings == ["missing_charset"], r.json


@pytest.mark.conf("raw", "(wire)", "token_in_form")
def test_raw_token_in_form():
    r = raw(
        api_url() + "admin.users.session.getSettings",
        f"token={ADMIN}&user_ids=W0ATARGET".encode(),
        "application/x-www-form-urlencoded",
    )
    assert r.status == 200 and r.json["ok"] is True, r


@pytest.mark.conf("raw", "(wire)", "json_needs_header")
def test_raw_json_needs_header():
    r = raw(
        api_url() + "admin.users.session.getSettings",
        json.dumps({"token": ADMIN, "user_ids": ["W0ATARGET"]}).encode(),
        "application/json; charset=utf-8",
    )
    assert r.status == 200 and r.json["ok"] is False and r.json["error"] == "not_authed", r


@pytest.mark.conf("raw", "(wire)", "http_200_errors")
def test_raw_http_200_errors():
    cases = [
        ({}, None, "not_authed"),
        ({"user_ids": "W0ATARGET"}, "xoxp-conf-no-such-token", "invalid_auth"),
        ({"user_ids": "W0NOSUCHUSER"}, ADMIN, "user_not_found"),
        ({"user_ids": "W0ATARGET"}, "xoxp-conf-a-member", "not_an_admin"),
    ]
    for params, token, code in cases:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        from urllib.parse import urlencode

        r = raw(api_url() + "admin.users.session.getSettings", urlencode(params).encode(),
                "application/x-www-form-urlencoded", headers)
        assert r.status == 200, (code, r)
        assert r.headers.get("content-type", "").startswith("application/json"), (code, r.headers)
        assert r.json == {**r.json, "ok": False, "error": code}, (code, r)


@pytest.mark.conf("raw", "(wire)", "unknown_method")
def test_raw_unknown_method():
    r = raw_api("admin.users.session.nope", {"user_id": "W0ATARGET"})
    assert r.status == 200 and r.json["ok"] is False and r.json["error"] == "unknown_method", r


@pytest.mark.conf("slack_sdk", "(wire)", "unknown_method")
def test_slack_sdk_unknown_method():
    from slack_sdk.errors import SlackApiError

    with pytest.raises(SlackApiError) as ei:
        SlackSdkDriver().client(ADMIN).api_call("admin.users.session.nope", params={"user_id": "W0ATARGET"})
    assert ei.value.response["error"] == "unknown_method"
    assert ei.value.response.status_code == 200
