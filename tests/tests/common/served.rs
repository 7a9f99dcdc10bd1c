//! Serving on loopback sockets, and app registrations, for the tests that
//! run a real `oauth-server` (`introspection.rs`, `jwt.rs`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use oauth_server::flows::AppRegistration;
use tokio::task::JoinHandle;

/// The redirect URI of the test apps.
pub const REDIRECT: &str = "https://app.example/callback";

/// A task serving an app on a loopback socket until dropped.
pub struct Served {
    pub base: String,
    pub task: JoinHandle<()>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `app` on a free loopback port.
pub async fn serve(app: axum::Router) -> Served {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Served { base, task }
}

/// `router`, counting the requests for `path` in the returned counter.
#[allow(dead_code)] // Not every test binary counts.
pub fn counting(router: axum::Router, path: &'static str) -> (axum::Router, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&count);
    let router = router.layer(tower::util::MapRequestLayer::new(
        move |request: axum::extract::Request| {
            if request.uri().path() == path {
                counter.fetch_add(1, Ordering::SeqCst);
            }
            request
        },
    ));
    (router, count)
}

/// An app `name` allowed `scopes`, redirecting to [`REDIRECT`].
pub fn registration(name: &str, scopes: &str) -> AppRegistration {
    AppRegistration {
        client_name: name.into(),
        redirect_uris: vec![REDIRECT.into()],
        scopes: Some(scopes.into()),
        website: None,
    }
}
