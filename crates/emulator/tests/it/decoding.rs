//! Request decoding over HTTP, and a property test of the whole request path.

use http::Method;
use proptest::prelude::*;

use crate::bench::*;

#[tokio::test]
async fn malformed_requests_get_slack_errors() {
    let b = Bench::demo().await;
    let post = |ct: Option<&'static str>, body: &'static [u8]| {
        let mut req = b
            .http
            .post(b.url("admin.users.session.list"))
            .bearer_auth(ADMIN_TOKEN)
            .body(body);
        if let Some(ct) = ct {
            req = req.header("content-type", ct);
        }
        b.send(req)
    };
    post(Some("image/png"), b"x")
        .await
        .assert_error("invalid_post_type");
    post(None, b"limit=1")
        .await
        .assert_error("missing_post_type");
    post(Some("application/x-www-form-urlencoded"), b"limit=%ff")
        .await
        .assert_error("invalid_form_data");
    post(
        Some("application/x-www-form-urlencoded; charset=ebcdic"),
        b"limit=1",
    )
    .await
    .assert_error("invalid_charset");
    post(Some("application/json"), b"{\"limit\":")
        .await
        .assert_error("invalid_json");
    post(Some("application/json"), b"[1,2]")
        .await
        .assert_error("json_not_object");
    post(Some("application/x-www-form-urlencoded"), b"li-mit=1")
        .await
        .assert_error("invalid_arg_name");
    post(Some("application/x-www-form-urlencoded"), b"user_ids[]=W1")
        .await
        .assert_error("invalid_array_arg");
    let r = post(Some("application/x-www-form-urlencoded"), b"user_ids[0]=W1").await;
    r.assert_error("invalid_array_arg");
    assert!(
        r.json["response_metadata"]["messages"][0]
            .as_str()
            .unwrap()
            .starts_with("[ERROR]")
    );

    let r = b
        .form("admin.users.session.frobnicate", ADMIN_TOKEN, &[])
        .await;
    r.assert_error("unknown_method");
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn charset_warnings_in_both_fields() {
    let b = Bench::demo().await;
    let r = b
        .send(
            b.http
                .post(b.url("admin.users.session.list"))
                .bearer_auth(ADMIN_TOKEN)
                .header(
                    "content-type",
                    "application/x-www-form-urlencoded; charset=utf-8",
                )
                .body("limit=1"),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.json["warning"], "superfluous_charset");
    assert_eq!(
        r.json["response_metadata"]["warnings"],
        serde_json::json!(["superfluous_charset"])
    );
    assert!(
        !r.json["response_metadata"]["next_cursor"]
            .as_str()
            .unwrap()
            .is_empty()
    );
    // multipart/form-data works too.
    let form = "--b0\r\nContent-Disposition: form-data; name=\"limit\"\r\n\r\n2\r\n--b0--\r\n";
    let r = b
        .send(
            b.http
                .post(b.url("admin.users.session.list"))
                .bearer_auth(ADMIN_TOKEN)
                .header("content-type", "multipart/form-data; boundary=b0")
                .body(form),
        )
        .await;
    r.assert_ok();
    assert_eq!(r.json["active_sessions"].as_array().unwrap().len(), 2);
}

fn content_types() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/x-www-form-urlencoded".to_owned())),
        Just(Some("application/json".to_owned())),
        Just(Some("application/json; charset=utf-8".to_owned())),
        Just(Some("text/plain; charset=iso-8859-1".to_owned())),
        Just(Some("multipart/form-data; boundary=xx".to_owned())),
        "[a-z/;=\\- ]{0,40}".prop_map(Some),
    ]
}

fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let names = prop_oneof![
        Just("user_ids".to_owned()),
        Just("user_id".to_owned()),
        Just("session_id".to_owned()),
        Just("limit".to_owned()),
        Just("cursor".to_owned()),
        Just("token".to_owned()),
        Just("user_ids[0]".to_owned()),
        ".{0,80}",
    ];
    let values = prop_oneof![
        Just("W0DEMO0005".to_owned()),
        Just("1".to_owned()),
        Just("[\"W1\"]".to_owned()),
        ".{0,40}"
    ];
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..300),
        proptest::collection::vec((names, values), 0..6).prop_map(|pairs| {
            form_urlencoded::Serializer::new(String::new())
                .extend_pairs(pairs)
                .finish()
                .into_bytes()
        }),
        any::<String>().prop_map(|s| serde_json::json!({ s: [1, {"a": null}] })
            .to_string()
            .into_bytes()),
    ]
}

#[test]
fn any_request_gets_a_json_envelope() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let b = rt.block_on(Bench::demo());
    let methods: Vec<&str> = slack_sessions_api::CATALOGUE
        .iter()
        .map(|m| m.name)
        .chain(["nope", ""])
        .collect();
    proptest!(ProptestConfig::with_cases(2000), |(
        m in proptest::sample::select(methods.clone()),
        ct in content_types(),
        body in bodies(),
        query in proptest::option::of(".{0,60}"),
        token in proptest::option::of(prop_oneof![Just(ADMIN_TOKEN.to_owned()), ".{0,20}"]),
        get in any::<bool>(),
    )| {
        let verb = if get { Method::GET } else { Method::POST };
        let path: String = m.bytes().map(|c| {
            if c.is_ascii_alphanumeric() || c == b'.' { (c as char).to_string() } else { format!("%{c:02X}") }
        }).collect();
        // The query keeps its structure (names, `=`, `&`); anything a URI cannot carry is escaped.
        let query: Option<String> = query.map(|q| q.bytes().map(|c| {
            if c.is_ascii_alphanumeric() || b"=&_-.[]".contains(&c) { (c as char).to_string() } else { format!("%{c:02X}") }
        }).collect());
        let uri = match &query {
            Some(q) => format!("/api/{path}?{q}"),
            None => format!("/api/{path}"),
        };
        let mut request = http::Request::builder().method(verb).uri(uri);
        if let Some(ct) = ct.as_deref().filter(|c| http::HeaderValue::from_str(c).is_ok()) {
            request = request.header("content-type", ct);
        }
        if let Some(t) = token.as_deref().filter(|t| http::HeaderValue::from_str(&format!("Bearer {t}")).is_ok()) {
            request = request.header("authorization", format!("Bearer {t}"));
        }
        let request = request.body(axum::body::Body::from(body)).unwrap();
        let (_, answer) = rt.block_on(b.oneshot(request));
        let json: serde_json::Value = serde_json::from_slice(&answer).expect("always JSON");
        prop_assert!(json.is_object());
        prop_assert!(json["ok"].is_boolean());
        if json["ok"] == false {
            prop_assert!(json["error"].as_str().is_some_and(|e| !e.is_empty()));
        }
    });
}
