//! What a web page can make a browser send to the control plane, refused.
//!
//! The emulator listens on loopback, and every web page a developer opens can reach loopback:
//! - a page may send a "simple" cross-origin request, a POST whose body is `text/plain`, a form
//!   or multipart, without a CORS preflight (Fetch standard, "CORS-safelisted request-header");
//!   it cannot read the answer, but the request is made. The browser says where it comes from in
//!   `Origin`, which it sends with every cross-origin request and every POST;
//! - with DNS rebinding, a page on `evil.example` makes its own name resolve to 127.0.0.1: its
//!   requests to `evil.example:PORT` are then same-origin (no `Origin` for a GET, answers
//!   readable), so it could read `/_emulator/state`, tokens included. The browser still says
//!   which name it asked for, in `Host`.
//!
//! So a control request is refused when its `Host` is not this emulator's address (or a loopback
//! name with its port), when it carries an `Origin` other than the emulator's own, and when it
//! has a body that is not `application/json` (which no page can send cross-origin without a
//! preflight the emulator never answers). curl, SDKs and tests send no `Origin`, their own
//! `Host`, and JSON. A request without `Host` (HTTP/1.0, or in-process through
//! [`crate::Emulator::router`]) cannot come from a browser, which always sends one.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, StatusCode, header};

use crate::App;

/// The middleware: answers 403 or 415 in JSON, or passes the request on.
pub async fn refuse(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    match check(request.headers(), app.addr) {
        Ok(()) => next.run(request).await,
        Err((status, code, detail)) => crate::control::error(status, code, detail),
    }
}

type Refusal = (StatusCode, &'static str, String);

fn check(headers: &HeaderMap, addr: SocketAddr) -> Result<(), Refusal> {
    let text = |name| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if let Some(host) = text(header::HOST)
        && !names_us(host, addr)
    {
        return Err((
            StatusCode::FORBIDDEN,
            "forbidden_host",
            format!(
                "the control plane answers only requests addressed to {addr} (or localhost with \
                 its port), not to Host {host:?}: a web page can point its own name at this \
                 address (DNS rebinding)"
            ),
        ));
    }
    if let Some(origin) = text(header::ORIGIN)
        && !origin
            .strip_prefix("http://")
            .is_some_and(|host| names_us(host, addr))
    {
        return Err((
            StatusCode::FORBIDDEN,
            "forbidden_origin",
            format!(
                "the control plane does not answer requests from web pages of other origins \
                 (Origin {origin:?}); curl, SDKs and tests send no Origin"
            ),
        ));
    }
    let has_body = headers.contains_key(header::TRANSFER_ENCODING)
        || text(header::CONTENT_LENGTH).is_some_and(|n| n.trim() != "0");
    let content_type = text(header::CONTENT_TYPE);
    let json = content_type.is_some_and(|t| {
        t.split(';')
            .next()
            .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
    });
    if !json && (has_body || content_type.is_some()) {
        return Err((
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "control-plane bodies are JSON: send Content-Type: application/json (got {})",
                content_type.map_or("none".to_owned(), |t| format!("{t:?}"))
            ),
        ));
    }
    Ok(())
}

/// Whether `host` (a `Host` header, or the authority of an `Origin`) names this server: its
/// address, `localhost` or a loopback address, with its port (80 when none is given). On a
/// wildcard address (`0.0.0.0`, `::`, where a control token is required) any IP address with
/// the port names it, since the emulator cannot know all of its own; a DNS name still does not.
fn names_us(host: &str, addr: SocketAddr) -> bool {
    let Ok(authority) = host.parse::<http::uri::Authority>() else {
        return false;
    };
    if authority.as_str().contains('@') || authority.port_u16().unwrap_or(80) != addr.port() {
        return false;
    }
    let name = authority.host();
    if name.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let ip = name.trim_start_matches('[').trim_end_matches(']');
    ip.parse::<IpAddr>().is_ok_and(|ip| {
        let (ip, ours) = (ip.to_canonical(), addr.ip().to_canonical());
        ip == ours || ip.is_loopback() || ours.is_unspecified()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        let lo: SocketAddr = "127.0.0.1:8787".parse().unwrap();
        for ok in [
            "127.0.0.1:8787",
            "localhost:8787",
            "LOCALHOST:8787",
            "[::1]:8787",
            "127.0.0.2:8787",
            "[::ffff:127.0.0.1]:8787",
        ] {
            assert!(names_us(ok, lo), "{ok}");
        }
        for bad in [
            "evil.example:8787",
            "evil.example",
            "127.0.0.1",
            "127.0.0.1:8788",
            "localhost.evil.example:8787",
            "user@127.0.0.1:8787",
            "10.0.0.1:8787",
            "",
            "127.0.0.1:8787/x",
        ] {
            assert!(!names_us(bad, lo), "{bad}");
        }
        let port80: SocketAddr = "127.0.0.1:80".parse().unwrap();
        assert!(names_us("localhost", port80));
        let any: SocketAddr = "0.0.0.0:8787".parse().unwrap();
        assert!(names_us("192.0.2.7:8787", any));
        assert!(!names_us("devbox.example:8787", any));
        let lan: SocketAddr = "192.0.2.7:8787".parse().unwrap();
        assert!(names_us("192.0.2.7:8787", lan) && !names_us("192.0.2.8:8787", lan));
    }
}
