#!/usr/bin/env python3
"""Writes conformance/seed.json, the conformance suite's own emulator seed.

The seed is committed; this script documents how it was made and regenerates it
byte for byte (`python3 conformance/gen_seed.py`). The suites read seed.json to
know what to expect (e.g. the full set of listable sessions for pagination).

Shape (issue 2): {"orgs":[{"id","name","grid","teams","users","tokens",
"sessions","session_settings"}]}.
"""

import json
import os

ALL = ["admin.users:read", "admin.users:write", "users:read", "users:read.email"]


def device(hw, os_name, os_version, client_version, ip):
    return {
        "device_hardware": hw,
        "os": os_name,
        "os_version": os_version,
        "slack_client_version": client_version,
        "ip": ip,
    }


MAC = device("Intel", "OS X", "10.15.7", "91.0.4472.77", "24.6.145.138")
MAC_NEW = device("Apple M2", "OS X", "14.4.1", "4.38.125", "24.6.145.139")
WIN = device("x86_64", "Windows", "11", "4.36.140", "198.51.100.7")
IPHONE = device("iPhone14,2", "iOS", "17.4", "24.03.10", "203.0.113.42")
ANDROID = device("Pixel 8", "Android", "14", "24.03.10.0", "203.0.113.43")

KIND_DEVICE = {"web": MAC, "desktop": WIN, "mobile": IPHONE}


def session(sid, user, team, client, recent=None, created=None):
    s = {
        "session_id": sid,
        "user_id": user,
        "team_id": team,
        "client": client,
        "created": created or KIND_DEVICE[client],
    }
    if recent is not None:
        s["recent"] = recent
    return s


def user(uid, name, role="member", teams=(), is_bot=False, deleted=False, domain="a"):
    return {
        "id": uid,
        "name": name,
        "email": f"{name}@{domain}.conformance.example",
        "role": role,
        "is_bot": is_bot,
        "deleted": deleted,
        "teams": list(teams),
    }


def token(tok, uid, scopes=ALL, kind="user", state="active", app=None):
    t = {"token": tok, "user_id": uid, "type": kind, "scopes": list(scopes), "state": state}
    if app:
        t["app_id"] = app
    return t


def org_a():
    E, T1, T2 = "E0CONFA01", "T0CONFA01", "T0CONFA02"
    both = [T1, T2]
    users = [
        user("W0APRIMARY", "primary", "primary_owner", both),
        user("W0AOWNER", "owner", "owner", both),
        user("W0AADMIN", "admin", "admin", both),
        user("W0AMEMBER", "member", "member", both),
        user("W0ATARGET", "target", "member", both),
        user("W0ATARGET2", "target2", "member", [T1]),
        user("W0ATARGET3", "target3", "member", [T2]),
        user("W0ANOSESS", "nosessions", "member", [T1]),
        user("W0ABOT", "botuser", "member", [T1], is_bot=True),
        user("W0ADELETED", "deleted", "admin", [T1], deleted=True),
    ]
    sessions = [
        # W0ATARGET: every client kind, both teams and an org-level sign-in.
        session(1112275520242, "W0ATARGET", T1, "web", recent=MAC_NEW, created=MAC),
        session(1112275520243, "W0ATARGET", T1, "desktop"),
        session(1112275520244, "W0ATARGET", T1, "mobile"),
        session(1112275520245, "W0ATARGET", T2, "web"),
        session(1112275520246, "W0ATARGET", E, "mobile", created=ANDROID),
        session(1112275520250, "W0ATARGET2", T1, "web"),
        session(1112275520251, "W0ATARGET2", T1, "mobile"),
        session(1112275520260, "W0ATARGET3", T2, "desktop"),
        session(1112275520261, "W0ATARGET3", T2, "mobile"),
        session(1112275520270, "W0APRIMARY", T1, "web"),
        # A bot's session: never listed.
        session(1112275520299, "W0ABOT", T1, "web"),
    ]
    # Pagination: 50 users x 9 sessions = 450 more sessions.
    kinds = ["web", "desktop", "mobile"]
    sid = 2000000000000
    for i in range(50):
        uid = f"W0APAGE{i:03d}"
        team = T1 if i % 2 == 0 else T2
        users.append(user(uid, f"page{i:03d}", "member", [team]))
        for j in range(9):
            sid += 1
            sessions.append(session(sid, uid, team, kinds[j % 3]))
    return {
        "id": E,
        "name": "Conformance Grid A",
        "grid": True,
        "teams": [{"id": T1, "name": "alpha"}, {"id": T2, "name": "beta"}],
        "users": users,
        "tokens": [
            token("xoxp-conf-a-admin", "W0AADMIN"),
            token("xoxp-conf-a-owner", "W0AOWNER"),
            token("xoxp-conf-a-primary", "W0APRIMARY"),
            token("xoxp-conf-a-member", "W0AMEMBER"),
            token("xoxp-conf-a-readonly", "W0AADMIN", ["admin.users:read"]),
            token("xoxp-conf-a-writeonly", "W0AADMIN", ["admin.users:write"]),
            token("xoxb-conf-a-bot", "W0ABOT", ["admin.users:read", "admin.users:write"], kind="bot"),
            token("xoxp-conf-a-revoked", "W0AADMIN", state="revoked"),
            token("xoxp-conf-a-expired", "W0AADMIN", state="expired"),
            token("xoxp-conf-a-deleted", "W0ADELETED"),
            # Rate-limit tests: one token, and one app, per suite so their budgets never mix
            # (Slack counts a method's budget per workspace and app: two tokens of one app share it).
            token("xoxp-conf-a-rl-python", "W0AADMIN", app="A0CONFRLPY"),
            token("xoxp-conf-a-rl-node", "W0AADMIN", app="A0CONFRLNODE"),
            token("xoxp-conf-a-rl-apimatic", "W0AADMIN", app="A0CONFRLAPIM"),
            # The Audit Logs API: an org owner's token with auditlogs:read, of an app of its own.
            token("xoxp-conf-a-audit", "W0AOWNER", ALL + ["auditlogs:read"], app="A0CONFAUDIT"),
        ],
        "sessions": sessions,
        "session_settings": [
            {"user_id": "W0ATARGET", "duration": 86400, "desktop_app_browser_quit": True},
            {"user_id": "W0ATARGET2", "duration": 28800, "desktop_app_browser_quit": False},
        ],
    }


def org_b():
    E, T = "E0CONFB01", "T0CONFB01"
    return {
        "id": E,
        "name": "Conformance Grid B",
        "grid": True,
        "teams": [{"id": T, "name": "gamma"}],
        "users": [
            user("W0BADMIN", "admin", "admin", [T], domain="b"),
            user("W0BUSER", "user", "member", [T], domain="b"),
        ],
        "tokens": [token("xoxp-conf-b-admin", "W0BADMIN")],
        "sessions": [
            session(1112275530001, "W0BUSER", T, "web"),
            session(1112275530002, "W0BUSER", T, "mobile", created=ANDROID),
        ],
        "session_settings": [
            {"user_id": "W0BUSER", "duration": 43200, "desktop_app_browser_quit": True},
        ],
    }


def org_c():
    T = "T0CONFC01"
    return {
        "id": T,
        "name": "Conformance standalone workspace",
        "grid": False,
        "teams": [],
        "users": [
            user("U0CADMIN", "admin", "admin", [T], domain="c"),
            user("U0CUSER", "user", "member", [T], domain="c"),
        ],
        "tokens": [token("xoxp-conf-c-admin", "U0CADMIN")],
        "sessions": [session(1112275540001, "U0CUSER", T, "web")],
        "session_settings": [],
    }


def main():
    seed = {"orgs": [org_a(), org_b(), org_c()]}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "seed.json")
    with open(path, "w") as f:
        json.dump(seed, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
