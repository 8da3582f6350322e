//! A closed-loop HTTP load generator: N connections, each sending its next request when the
//! previous answer is read, for a fixed time and at most a fixed count.

use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};

/// One request shape, sent again and again.
#[derive(Clone, Debug)]
pub struct Shape {
    /// Full URL.
    pub url: String,
    /// `None`: GET; `Some(form)`: POST with this form body, `{user}` replaced by the next of
    /// `users` in turn.
    pub form: Option<String>,
    /// Bearer token, if any.
    pub token: Option<String>,
    /// Users that `{user}` rotates through.
    pub users: Vec<String>,
}

/// What a run measured.
#[derive(Clone, Copy, Debug, Default)]
pub struct Figures {
    pub requests: u64,
    pub per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub errors: u64,
}

/// Runs `shape` on `connections` concurrent connections for `duration` (at most `max` requests).
pub async fn run(shape: &Shape, connections: usize, duration: Duration, max: u64) -> Figures {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()
        .expect("client builds");
    let started = Instant::now();
    let per_task = max / connections as u64 + 1;
    let tasks: Vec<_> = (0..connections)
        .map(|c| {
            let (http, shape) = (http.clone(), shape.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(4096);
                let mut errors = 0u64;
                let mut i = c as u64;
                while started.elapsed() < duration && (latencies.len() as u64) < per_task {
                    let mut req = match &shape.form {
                        None => http.get(&shape.url),
                        Some(form) => http
                            .post(&shape.url)
                            .header(
                                CONTENT_TYPE,
                                HeaderValue::from_static("application/x-www-form-urlencoded"),
                            )
                            .body(match shape.users.is_empty() {
                                true => form.clone(),
                                false => form.replace(
                                    "{user}",
                                    &shape.users[i as usize % shape.users.len()],
                                ),
                            }),
                    };
                    if let Some(token) = &shape.token {
                        req = req.header(AUTHORIZATION, format!("Bearer {token}"));
                    }
                    let t = Instant::now();
                    match req.send().await {
                        Ok(resp) if resp.status().is_success() => {
                            let ok = resp.bytes().await.is_ok();
                            latencies.push(t.elapsed().as_micros() as u32);
                            errors += u64::from(!ok);
                        }
                        _ => errors += 1,
                    }
                    i += connections as u64;
                }
                (latencies, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("load task");
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    Figures {
        requests: all.len() as u64,
        per_sec: all.len() as f64 / elapsed,
        p50_us: u64::from(at(0.50)),
        p99_us: u64::from(at(0.99)),
        errors,
    }
}
