//! Token issuance under load, in one run: 32 concurrent HTTP clients
//! against the token endpoint on SQLite (every token durable before its
//! response), first exchanging authorization codes, then asking for
//! client-credentials tokens. Prints tokens/s and errors for each.
//!
//! `cargo bench -p oauth-server --bench issuance [-- CODES]`
//! (`bench/token-load.sh` drives the client-credentials grant with wrk.)

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use oauth_server::config::Config;
use oauth_server::flows::{AppRegistration, AuthServer, AuthorizeRequest};
use oauth_server::primitives::Store;
use oauth_server::secret;
use oauth_server::store::SqliteStore;
use scope_hierarchies::MastodonScope;
use tokio::sync::Mutex;

const CLIENTS: usize = 32;
const REDIRECT: &str = "https://bench.example/cb";

struct Outcome {
    ok: usize,
    errors: usize,
    elapsed: Duration,
}

async fn drive(
    url: String,
    forms: Vec<Vec<(&'static str, String)>>,
    auth: (String, String),
) -> Outcome {
    let queue = Arc::new(Mutex::new(forms));
    let ok = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (queue, ok, errors, url, auth) = (
                queue.clone(),
                ok.clone(),
                errors.clone(),
                url.clone(),
                auth.clone(),
            );
            tokio::spawn(async move {
                let http = reqwest::Client::new();
                loop {
                    let Some(form) = queue.lock().await.pop() else {
                        break;
                    };
                    let r = http
                        .post(&url)
                        .basic_auth(&auth.0, Some(&auth.1))
                        .form(&form)
                        .send()
                        .await;
                    match r {
                        Ok(r) if r.status().is_success() => ok.fetch_add(1, Ordering::Relaxed),
                        _ => errors.fetch_add(1, Ordering::Relaxed),
                    };
                }
            })
        })
        .collect();
    for t in tasks {
        let _ = t.await;
    }
    Outcome {
        ok: ok.load(Ordering::Relaxed),
        errors: errors.load(Ordering::Relaxed),
        elapsed: started.elapsed(),
    }
}

fn report(name: &str, o: &Outcome) {
    println!(
        "{name:<22} {:>8} tokens in {:>6.2}s = {:>8.0} tokens/s, {} errors",
        o.ok,
        o.elapsed.as_secs_f64(),
        o.ok as f64 / o.elapsed.as_secs_f64(),
        o.errors
    );
}

#[tokio::main]
async fn main() {
    let codes: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::connect(&format!(
        "sqlite://{}",
        dir.path().join("bench.db").display()
    ))
    .await
    .expect("sqlite");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = AuthServer::<MastodonScope, _>::new(store, Config::new(base.clone()));
    let hash = secret::hash_password("bench password").expect("hash");
    let user = server
        .store()
        .create_user("bench", &hash, false)
        .await
        .expect("user");
    let app = server
        .register_app(
            AppRegistration {
                client_name: "bench".into(),
                redirect_uris: vec![REDIRECT.into()],
                scopes: Some("read write".into()),
                website: None,
            },
            None,
        )
        .await
        .expect("app");
    let app_router: axum::Router = oauth_server::http::router(server.clone());
    tokio::spawn(async move { axum::serve(listener, app_router).await });

    // Codes are issued through the flow, as after a consent.
    let auth = server
        .check_authorize(&AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: Some(app.record.client_id.clone()),
            redirect_uri: Some(REDIRECT.into()),
            scope: Some("read".into()),
            ..AuthorizeRequest::default()
        })
        .await
        .expect("authorization");
    let mut forms = Vec::with_capacity(codes);
    for _ in 0..codes {
        let code = server.issue_code(&auth, user.id).await.expect("code");
        forms.push(vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code),
            ("redirect_uri", REDIRECT.to_owned()),
        ]);
    }
    let credentials = (app.record.client_id.clone(), app.client_secret.clone());
    let url = format!("{base}/oauth/token");
    println!("{CLIENTS} concurrent clients, SQLite (WAL, synchronous=FULL), loopback, one run:");
    let exchange = drive(url.clone(), forms, credentials.clone()).await;
    report("authorization_code", &exchange);
    let cc = (0..codes)
        .map(|_| {
            vec![
                ("grant_type", "client_credentials".to_owned()),
                ("scope", "read".to_owned()),
            ]
        })
        .collect();
    let client_credentials = drive(url, cc, credentials).await;
    report("client_credentials", &client_credentials);
}
