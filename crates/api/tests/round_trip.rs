//! Encode → decode round trips for every method of the catalogue, both encodings, both sides.

use std::collections::BTreeSet;

use slack_sessions_api::envelope::{decode, encode};
use slack_sessions_api::methods::*;
use slack_sessions_api::wire::{args_from_map, decode_body, to_form, to_json};
use slack_sessions_api::{CATALOGUE, Method, SessionId, Status, TeamId, UserId, WarningCode};

fn round_trip<M: Method>(
    tested: &mut BTreeSet<&'static str>,
    args: M::Args,
    response: M::Response,
) {
    // Form, as the client sends it by default.
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(to_form(&args))
        .finish();
    let raw = decode_body(
        Some("application/x-www-form-urlencoded"),
        None,
        body.as_bytes(),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", M::NAME));
    assert_eq!(
        args_from_map::<M::Args>(raw.args).unwrap(),
        args,
        "{} form",
        M::NAME
    );

    // JSON, on request.
    let raw = decode_body(
        Some("application/json; charset=utf-8"),
        None,
        &to_json(&args),
    )
    .unwrap();
    assert_eq!(
        args_from_map::<M::Args>(raw.args).unwrap(),
        args,
        "{} json",
        M::NAME
    );

    // The answer, as the emulator encodes it and the client decodes it.
    let status = Status::success(&[WarningCode::SuperfluousCharset]);
    let bytes = encode(&status, Some(&response));
    let (back_status, body) = decode::<M::Response>(&bytes).unwrap();
    assert_eq!(back_status, status, "{} status", M::NAME);
    assert_eq!(body, Some(response), "{} response", M::NAME);

    tested.insert(M::NAME);
}

fn device(os: &str) -> DeviceRecord {
    DeviceRecord::new("Intel", os, "10.15.7", "4.41.105", "203.0.113.7")
}

#[test]
fn every_method_round_trips() {
    let mut tested = BTreeSet::new();
    let users = ["W0000000001", "W0000000002"];

    round_trip::<Invalidate>(
        &mut tested,
        InvalidateArgs::new(1112275520242u64, "W1"),
        Empty {},
    );
    round_trip::<Invalidate>(
        &mut tested,
        InvalidateArgs::on_team(u64::MAX, "T1"),
        Empty {},
    );
    round_trip::<Reset>(
        &mut tested,
        ResetArgs::new("W1").mobile_only(true).web_only(false),
        Empty {},
    );
    round_trip::<Reset>(&mut tested, ResetArgs::new("W1"), Empty {});
    round_trip::<ResetBulk>(
        &mut tested,
        ResetBulkArgs::new(users).web_only(true),
        Empty {},
    );
    round_trip::<List>(
        &mut tested,
        ListArgs::for_user("T1", "W1")
            .limit(100)
            .cursor("c2Vzc2lvbjox"),
        ListResponse::new(vec![
            ActiveSession::new(
                UserId::new("W1"),
                TeamId::new("E1"),
                SessionId(1112275520242),
                device("OS X"),
                Some(device("iOS")),
            ),
            ActiveSession::new(
                UserId::new("W2"),
                TeamId::new("T1"),
                SessionId(7),
                DeviceRecord::default(),
                None,
            ),
        ]),
    );
    round_trip::<List>(&mut tested, ListArgs::new(), ListResponse::default());
    round_trip::<GetSettings>(
        &mut tested,
        GetSettingsArgs::new(users),
        GetSettingsResponse::new(
            vec![
                SessionSetting::new(UserId::new("W1"), Some(true), Some(86_400)),
                SessionSetting::new(UserId::new("W3"), None, None),
            ],
            vec![UserId::new("W2")],
        ),
    );
    round_trip::<SetSettings>(
        &mut tested,
        SetSettingsArgs::new(users)
            .duration(28_800)
            .desktop_app_browser_quit(false),
        Empty {},
    );
    round_trip::<ClearSettings>(&mut tested, ClearSettingsArgs::new(users), Empty {});
    let mut who = AuthTestResponse::new(TeamId::new("E1"), UserId::new("W1"));
    who.enterprise_id = Some(TeamId::new("E1"));
    who.is_enterprise_install = true;
    round_trip::<AuthTest>(&mut tested, AuthTestArgs {}, who);
    let mut user = User::new(UserId::new("W1"), "ada");
    user.profile.email = Some("ada@example.com".into());
    user.is_admin = true;
    round_trip::<LookupByEmail>(
        &mut tested,
        LookupByEmailArgs::new("ada@example.com"),
        LookupByEmailResponse::new(user.clone()),
    );
    let mut full = user.clone();
    full.tz = Some("Europe/London".into());
    full.tz_offset = Some(0);
    full.updated = 1_700_000_000;
    let mut e = EnterpriseUser::default();
    e.id = UserId::new("W1");
    e.enterprise_id = TeamId::new("E1");
    e.teams = vec![TeamId::new("T1")];
    full.enterprise_user = Some(e);
    round_trip::<UsersInfo>(
        &mut tested,
        UsersInfoArgs::new("W1"),
        UsersInfoResponse::new(full.clone()),
    );
    round_trip::<UsersList>(
        &mut tested,
        UsersListArgs::new("T1").limit(200).cursor("dXNlcjpXMQ=="),
        UsersListResponse::new(vec![user, full], 1_700_000_000),
    );

    let catalogue: BTreeSet<_> = CATALOGUE.iter().map(|m| m.name).collect();
    assert_eq!(
        tested, catalogue,
        "every catalogued method has a round trip"
    );
}

/// The spellings the official SDKs send decode to the same arguments (contract §1.8).
#[test]
fn sdk_spellings_decode_alike() {
    let want = ResetBulkArgs::new(["W1", "W2"]).mobile_only(true);
    let forms = [
        "user_ids=W1%2CW2&mobile_only=1", // Python, Java
        "user_ids=%5B%22W1%22%2C%22W2%22%5D&mobile_only=true", // Node
        "user_ids=%5B%27W1%27%2C+%27W2%27%5D&mobile_only=1", // Slack's own examples
    ];
    for body in forms {
        let raw = decode_body(
            Some("application/x-www-form-urlencoded"),
            None,
            body.as_bytes(),
        )
        .unwrap();
        assert_eq!(
            args_from_map::<ResetBulkArgs>(raw.args).unwrap(),
            want,
            "{body}"
        );
    }
    let raw = decode_body(
        Some("application/json"),
        None,
        br#"{"user_ids":["W1","W2"],"mobile_only":true,"web_only":null}"#,
    )
    .unwrap();
    assert_eq!(args_from_map::<ResetBulkArgs>(raw.args).unwrap(), want);

    // Integers as strings, session ids as strings (every SDK types them as strings).
    let raw = decode_body(None, Some("session_id=1112275520242&team_id=T1"), b"").unwrap();
    let args: InvalidateArgs = args_from_map(raw.args).unwrap();
    assert_eq!(args, InvalidateArgs::on_team(1112275520242u64, "T1"));
    let raw = decode_body(Some("application/json"), None, br#"{"limit":"10"}"#).unwrap();
    assert_eq!(
        args_from_map::<ListArgs>(raw.args).unwrap(),
        ListArgs::new().limit(10)
    );
}

/// A user object with every field of Slack's docs example and recorded SDK samples decodes, and
/// a partial one (what older servers send) still decodes.
#[test]
fn user_objects_decode_in_full_and_in_part() {
    let full = serde_json::json!({
        "id": "W012A3CDE", "team_id": "T012AB3CD", "name": "spengler", "deleted": false,
        "color": "9f69e7", "real_name": "Egon Spengler", "tz": "America/Los_Angeles",
        "tz_label": "Pacific Standard Time", "tz_offset": -28800,
        "profile": {
            "title": "", "phone": "", "skype": "", "real_name": "Egon Spengler",
            "real_name_normalized": "Egon Spengler", "display_name": "spengler",
            "display_name_normalized": "spengler", "status_text": "", "status_emoji": "",
            "status_expiration": 0, "avatar_hash": "ge3b51ca72de", "email": "spengler@ghostbusters.example.com",
            "first_name": "Egon", "last_name": "Spengler", "image_24": "https://example.com/24.png",
            "image_512": "https://example.com/512.png", "team": "T012AB3CD",
            "status_emoji_url": ""
        },
        "is_admin": true, "is_owner": false, "is_primary_owner": false, "is_restricted": false,
        "is_ultra_restricted": false, "is_bot": false, "is_app_user": false, "updated": 1502138686,
        "has_2fa": false, "is_email_confirmed": true, "who_can_share_contact_card": "EVERYONE",
        "enterprise_user": {"id": "W012A3CDE", "enterprise_id": "E012AB3CD",
            "enterprise_name": "Example", "is_admin": true, "is_owner": false,
            "is_primary_owner": false, "teams": ["T012AB3CD"]}
    });
    let user: User = serde_json::from_value(full).unwrap();
    assert_eq!(
        user.profile.email.as_deref(),
        Some("spengler@ghostbusters.example.com")
    );
    assert_eq!(user.tz_offset, Some(-28800));
    assert_eq!(
        user.enterprise_user.unwrap().enterprise_id,
        TeamId::new("E012AB3CD")
    );
    let partial: User = serde_json::from_value(serde_json::json!({"id": "W1"})).unwrap();
    assert_eq!(partial.id, UserId::new("W1"));
}

/// The Audit Logs API: the filter as a query string (how the client sends it and the emulator
/// reads it), and every answer as the emulator encodes and the client decodes it.
#[test]
fn audit_logs_round_trip() {
    use slack_sessions_api::audit_logs::*;

    for args in [
        AuditLogsArgs::new(),
        AuditLogsArgs::new()
            .latest(1_700_000_100)
            .oldest(1_700_000_000)
            .limit(9_999)
            .actions([action::USER_LOGIN, action::ANOMALY])
            .actor("W1")
            .entity("E1")
            .cursor("YXVkaXQ6MTox+/="),
    ] {
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(args.to_query())
            .finish();
        let raw = decode_body(None, Some(&query), b"").unwrap();
        assert_eq!(
            args_from_map::<AuditLogsArgs>(raw.args).unwrap(),
            args,
            "{query}"
        );
    }

    let user = EntryUser::new("W1")
        .name("Ada Lovelace")
        .email("ada@example.com")
        .team("E1");
    let org = OrgRef::new("E1", "Acme", "acme");
    let mut context = Context::at(Location::new("workspace", "T1", "Acme Eng", "acme-eng"));
    context.ua = Some("com.tinyspeck.chatlyio/24.11.10 (iPhone; iOS 18.1; Scale/3.00)".into());
    context.ip_address = Some("203.0.113.7".into());
    context.session_id = Some(SessionId(1112275520242).into());
    let login = Entry::new(
        "0123a45b-6c7d-4900-a12f-3456789abcde",
        1_700_000_000,
        action::USER_LOGIN,
        Actor::user(user.clone()),
        Entity::user(user.clone()),
        context,
    );
    let mut details = Details::default();
    details.succeeded_users = Some(vec![UserId::new("W1"), UserId::new("W2")]);
    details.failed_users = Some(vec![]);
    let mut app_context = Context::at(Location::new("enterprise", "E1", "Acme", "acme"));
    app_context.session_id = Some(ContextSessionId::Null);
    let bulk = Entry::new(
        "0123a45b-6c7d-4900-a12f-3456789abcdf",
        1_700_000_001,
        action::BULK_SESSION_RESET_BY_ADMIN,
        Actor::user(user),
        Entity::enterprise(org),
        app_context,
    )
    .with_details(details);
    let page = AuditLogsResponse::new(vec![bulk, login], "YXVkaXQ6MTox");
    let bytes = serde_json::to_vec(&page).unwrap();
    assert!(
        !String::from_utf8_lossy(&bytes).contains("\"ok\""),
        "no ok on success"
    );
    let back: AuditLogsResponse = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(back, page);
    assert_eq!(back.next_cursor(), Some("YXVkaXQ6MTox"));
    assert_eq!(back.entries[1].session_id(), Some(SessionId(1112275520242)));
    assert_eq!(back.entries[1].context.client_kind(), ClientKind::Mobile);
    assert_eq!(back.entries[0].entity.id(), Some("E1"));
    let last = AuditLogsResponse::new(vec![], "");
    let back: AuditLogsResponse =
        serde_json::from_slice(&serde_json::to_vec(&last).unwrap()).unwrap();
    assert_eq!(back.next_cursor(), None);

    for (json, name) in [(ACTIONS_JSON, "actions"), (SCHEMAS_JSON, "schemas")] {
        let value: serde_json::Value = serde_json::from_str(json).unwrap();
        let again = if name == "actions" {
            serde_json::to_value(serde_json::from_str::<AuditActionsResponse>(json).unwrap())
        } else {
            serde_json::to_value(serde_json::from_str::<AuditSchemasResponse>(json).unwrap())
        }
        .unwrap();
        assert_eq!(again, value, "{name}");
    }
}
