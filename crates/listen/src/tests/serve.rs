//! Serving over real sockets: HTTP and HTTPS on 127.0.0.1 port 0, and a graceful stop.

use http::StatusCode;
use reqwest::Method;

use super::*;
use crate::server::Server;
use crate::transmit::{Set, SubjectId, send};

const CA: &str = include_str!("tls-test-ca.pem");

async fn serve(
    config: &Config,
    inbox: MemoryInbox,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Result<()>>,
) {
    let server = Server::bind(config, inbox, Some("127.0.0.1:0".parse().unwrap()))
        .await
        .unwrap();
    assert_ne!(server.local_addr().port(), 0);
    let url = server.url();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(server.run(async move {
        let _ = stopped.await;
    }));
    (url, stop, task)
}

#[tokio::test]
async fn serves_http_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let config = load(dir.path(), "addr = \"127.0.0.1:1\"\n").unwrap();
    let (url, stop, task) = serve(&config, MemoryInbox::new()).await;
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let client = reqwest::Client::new();
    let r = send(
        &client,
        Method::GET,
        &format!("{url}/healthz"),
        &[],
        Vec::new(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.content_type.as_deref(), Some("application/json"));
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
    assert!(
        send(
            &client,
            Method::GET,
            &format!("{url}/healthz"),
            &[],
            Vec::new()
        )
        .await
        .is_err(),
        "stopped"
    );
}

#[tokio::test]
async fn serves_https_with_the_configured_certificate() {
    let f = Fixture::new(ALL);
    let dir = f.dir.path();
    std::fs::write(dir.join("cert.pem"), include_str!("tls-test-cert.pem")).unwrap();
    std::fs::write(dir.join("key.pem"), include_str!("tls-test-key.pem")).unwrap();
    let config = load(
        dir,
        &format!("tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n{ALL}"),
    )
    .unwrap();
    let (url, stop, task) = serve(&config, f.inbox.clone()).await;
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(CA.as_bytes()).unwrap())
        .build()
        .unwrap();
    let set = Set::new(
        ISSUER,
        SSF_AUD,
        "session-revoked",
        SubjectId::Email("ada@x.example".into()),
    );
    let r = send(
        &client,
        Method::POST,
        &format!("{url}/ssf/events"),
        &[("content-type", "application/secevent+jwt")],
        f.es.set(&set).unwrap().into_bytes(),
    )
    .await
    .unwrap();
    assert_eq!(r.status, StatusCode::ACCEPTED.as_u16(), "{}", r.body);
    assert_eq!(f.inbox.signals().len(), 1);
    // Plain HTTP on the TLS port is not served.
    let plain = url.replace("https://", "http://");
    let r = send(
        &reqwest::Client::new(),
        Method::GET,
        &format!("{plain}/healthz"),
        &[],
        Vec::new(),
    )
    .await;
    assert!(r.is_err() || r.unwrap().status != 200);
    stop.send(()).unwrap();
    task.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_certificate_that_does_not_load_is_refused_at_bind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cert.pem"), "not a certificate").unwrap();
    std::fs::write(dir.path().join("key.pem"), include_str!("tls-test-key.pem")).unwrap();
    let config = load(
        dir.path(),
        "tls_cert = \"cert.pem\"\ntls_key = \"key.pem\"\n",
    )
    .unwrap();
    let e = Server::bind(
        &config,
        MemoryInbox::new(),
        Some("127.0.0.1:0".parse().unwrap()),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("cert.pem"), "{e}");
}
