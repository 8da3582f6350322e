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
        LookupByEmailResponse::new(user),
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
