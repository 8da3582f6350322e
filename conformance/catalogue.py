"""The conformance catalogue: every (method, case) row and, per SDK, whether the
suite runs it or why the SDK cannot express it.

The suites tag each test with (sdk, method, case). matrix.py joins their results
with this catalogue: a cell that should have run but has no result is a failure,
so a test that silently disappears cannot turn the run green.
"""

SDKS = ["slack_sdk", "apimatic", "node"]
SDK_TITLES = {
    "slack_sdk": "Python slack_sdk",
    "apimatic": "Python APIMatic SDK",
    "node": "Node @slack/web-api",
    "raw": "raw HTTP (no SDK)",
}

METHODS = [
    "invalidate",
    "reset",
    "resetBulk",
    "list",
    "getSettings",
    "setSettings",
    "clearSettings",
]

APIMATIC_METHODS = {"invalidate", "reset"}

COMMON = [
    ("success", "succeeds through the SDK's own encoding"),
    ("state", "the change (or the seeded state) is seen through list / getSettings"),
    ("owner_allowed", "an org owner's token is allowed, like an admin's"),
    ("async_client", "succeeds through slack_sdk's AsyncWebClient"),
    ("not_authed", "no token: not_authed"),
    ("invalid_auth", "unknown token: invalid_auth"),
    ("token_revoked", "revoked token: token_revoked"),
    ("token_expired", "expired token: token_expired"),
    ("account_inactive", "token of a deleted user: account_inactive"),
    ("not_allowed_token_type", "bot token: not_allowed_token_type"),
    ("missing_scope", "token without the scope: missing_scope with needed and provided"),
    ("not_an_admin", "a member's token: not_an_admin"),
    ("feature_not_enabled", "standalone (non-Grid) workspace: feature_not_enabled"),
    ("invalid_arguments", "malformed or missing argument: invalid_arguments"),
    ("user_not_found", "unknown user: user_not_found"),
    ("tenant_isolation", "org A's token on org B's user: same answer as for an unknown user, org B unchanged"),
]

SPECIFIC = {
    "invalidate": [
        ("current_form", "current form user_id + session_id (generic call)"),
        ("session_not_found", "unknown session id: session_not_found"),
        ("cannot_invalidate_primary_owner", "an admin on the primary owner's session: cannot_invalidate_primary_owner"),
        ("primary_owner_self", "the primary owner may invalidate their own session"),
        ("simulated_login", "a session created by a simulated login can be invalidated"),
    ],
    "reset": [
        ("web_only", "web_only wipes web and desktop sessions, keeps mobile"),
        ("mobile_only", "mobile_only wipes mobile sessions only"),
        ("both_flags", "both flags wipe every kind"),
        ("cannot_reset_primary_owner", "an admin on the primary owner: cannot_reset_primary_owner"),
        ("cannot_reset_bot", "a bot user: cannot_reset_bot"),
        ("ratelimit_429", "over the tier-2 budget: HTTP 429, ratelimited, integer Retry-After"),
        ("ratelimit_recover", "the SDK's own retry configuration recovers from 429"),
    ],
    "resetBulk": [
        ("mobile_only", "mobile_only applies to every listed user"),
        ("too_many_users", "1,001 user ids: invalid_arguments"),
        ("cannot_reset_bot", "a bot among the users: cannot_reset_bot"),
        ("cannot_reset_primary_owner", "the primary owner among the users: cannot_reset_primary_owner"),
    ],
    "list": [
        ("by_user_and_team", "team_id + user_id: that user's sessions on that team only"),
        ("missing_team", "user_id without team_id: missing_team"),
        ("missing_user", "team_id without user_id: missing_user"),
        ("invalid_cursor", "a forged cursor: invalid_cursor"),
        ("pagination", "the SDK's pagination helper walks every session exactly once"),
        ("pagination_async", "AsyncWebClient's async iteration walks every session exactly once"),
        ("bots_not_listed", "bot sessions are not listed"),
        ("recent_omitted", "recent is present only when the session changed"),
        ("simulated_login", "a simulated login appears in list"),
        ("ratelimit_429", "over the tier-2 budget: HTTP 429, ratelimited, integer Retry-After"),
        ("ratelimit_recover", "the SDK recovers from 429 (retry handler / pause and retry)"),
        ("ratelimit_independent", "another method and another workspace are unaffected"),
    ],
    "getSettings": [
        ("no_settings_applied", "users without settings are listed in no_settings_applied"),
        ("bots_not_allowed", "a bot user: bots_not_allowed"),
        ("json_body", "a JSON body with a real array (Bearer header)"),
    ],
    "setSettings": [
        ("at_least_one_setting", "neither setting: at_least_one_session_setting_required"),
        ("duration_bounds", "duration below the minimum or above 315569520: invalid_arguments"),
        ("quit_only", "desktop_app_browser_quit alone leaves duration as it was"),
        ("bots_not_allowed", "a bot user: bots_not_allowed"),
    ],
    "clearSettings": [
        ("bots_not_allowed", "a bot user: bots_not_allowed"),
    ],
}

# Wire-level rows, with a raw-HTTP column beside the SDKs.
WIRE_COLUMNS = ["slack_sdk", "apimatic", "node", "raw"]
WIRE = [
    ("encoding", "the SDK's wire encoding, captured (lists, booleans, token placement)"),
    ("superfluous_charset", "a charset on a form body: superfluous_charset in warning and response_metadata.warnings"),
    ("json_without_charset", "a JSON body without charset is decoded (at most a missing_charset warning)"),
    ("token_in_form", "the token as a form field instead of the header"),
    ("json_needs_header", "a JSON body with the token only as an attribute: not_authed"),
    ("http_200_errors", "ok:false errors come with HTTP 200 and a JSON body"),
    ("unknown_method", "any other method: unknown_method"),
]

# The Audit Logs API (https://api.slack.com/audit/v1/): only slack_sdk has a client for it
# (AuditLogsClient, pointed at the emulator with base_url=".../audit/v1/").
AUDIT_COLUMNS = ["slack_sdk"]
AUDIT = [
    ("logs", "reads the org's entries, typed: sign-ins with the session id list shows, resets, sign-outs, anomalies; newest first, no ok on success"),
    ("cursor_walk", "walks response_metadata.next_cursor: every entry once, in order"),
    ("filter_action", "action, one name or a comma list"),
    ("filter_actor", "actor, alone and with action"),
    ("filter_entity", "entity, with action"),
    ("filter_range", "oldest and latest, inclusive"),
    ("actions", "actions(), no token needed"),
    ("schemas", "schemas(), no token needed"),
    ("async_client", "AsyncAuditLogsClient reads and pages"),
    ("authentication", "no token: 401 missing_authentication; unknown or scope-less owner token: 401 invalid_authentication; non-Grid: 403 feature_not_enabled"),
    ("invalid_arguments", "a forged cursor, or one of another filter: invalid_cursor; a future latest: invalid_range; an unknown action: invalid_action"),
    ("ratelimit_429", "over tier 3 for the org: HTTP 429, rate_limited, integer Retry-After"),
    ("ratelimit_recover", "the SDK's RateLimitErrorRetryHandler recovers from 429"),
]

NO_APIMATIC_METHOD = "APIMatic SDK has no such method (it offers only invalidate and reset)"


def not_offered(sdk, method, case):
    """None if the suite runs this cell, else the reason the SDK cannot express it."""
    if method == "(wire)":
        return WIRE_NOT_OFFERED.get((sdk, case))
    if method == "(audit)":
        return None
    if sdk == "apimatic":
        if method not in APIMATIC_METHODS:
            return NO_APIMATIC_METHOD
        reason = {
            "not_authed": "the SDK refuses to send a request without an OAuth token (AuthValidationException)",
            "async_client": "the SDK has no async client",
            "current_form": "its invalidate takes only team_id + session_id",
            "user_not_found": "its invalidate takes no user_id",
            "tenant_isolation": None,
        }
        if method == "reset" and case == "invalid_arguments":
            return ("the SDK refuses a missing user_id before sending (ValueError) and types the "
                    "flags as bool; reset has no other argument with a documented invalid value")
        if method == "invalidate" and case in ("current_form", "user_not_found"):
            return reason[case]
        if case in ("not_authed", "async_client"):
            return reason[case]
        return None
    if sdk == "node":
        if case == "async_client":
            return "Python-only client (every @slack/web-api call is async)"
        if case == "pagination_async":
            return "Python-only client (paginate() is already an async iterator)"
        if case == "json_body":
            return "@slack/web-api always sends form bodies"
    if case in ("ratelimit_429", "ratelimit_recover") and method == "reset" and sdk != "apimatic":
        return "covered under list for this SDK (reset is the APIMatic SDK's tier-2 method)"
    return None


WIRE_NOT_OFFERED = {
    ("raw", "encoding"): "not an SDK",
    ("slack_sdk", "superfluous_charset"): "slack_sdk sends forms without charset and does not log API warnings",
    ("apimatic", "superfluous_charset"): "the SDK sends forms without charset and has no warning hook",
    ("slack_sdk", "json_without_charset"): "slack_sdk sends charset=utf-8 on JSON (see getSettings json_body)",
    ("apimatic", "json_without_charset"): "the SDK sends only form bodies for these methods",
    ("node", "json_without_charset"): "@slack/web-api always sends form bodies",
    ("slack_sdk", "token_in_form"): "slack_sdk always moves the token to the Authorization header",
    ("apimatic", "token_in_form"): "the SDK sends the token in headers only",
    ("node", "token_in_form"): "@slack/web-api sends the token in the Authorization header",
    ("slack_sdk", "json_needs_header"): "slack_sdk always sends the Authorization header",
    ("apimatic", "json_needs_header"): "the SDK sends only form bodies for these methods",
    ("node", "json_needs_header"): "@slack/web-api always sends form bodies",
    ("slack_sdk", "http_200_errors"): "asserted in every slack_sdk error case",
    ("apimatic", "http_200_errors"): "asserted in every APIMatic error case",
    ("node", "http_200_errors"): "@slack/web-api does not expose the HTTP status of ok:false answers",
    ("apimatic", "unknown_method"): "the SDK has no generic call",
}


def rows():
    """Every (method, case, description) of the per-method tables, in order."""
    out = []
    for m in METHODS:
        for case, desc in COMMON:
            if m == "list" and case == "user_not_found":
                continue
            out.append((m, case, desc))
        for case, desc in SPECIFIC.get(m, []):
            out.append((m, case, desc))
    return out
