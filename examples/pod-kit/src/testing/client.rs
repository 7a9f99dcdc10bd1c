//! [`TestClient`]: the app a pod's binary serves, driven in this process.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use oauth_server::flows::{AppRegistration, AuthServer, OOB, TokenRequest};
use oauth_server::primitives::Store;
use tower::ServiceExt;

use super::{PASSWORD, Reply, TestApp};
use crate::{App, Database, Pod, PodStore, Settings};

/// The address requests of a [`TestClient`] come from, as `ConnectInfo`
/// (what the binary's `into_make_service_with_connect_info` adds).
pub const CLIENT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 40_000);

/// Pod `P` as its binary serves it: the [`App`] of [`crate::app`] (the API
/// table behind the pod's enforcer, error style, rate limiter, trailing
/// slash handling, the OAuth endpoints, the token cache and its revocation
/// wiring), driven in this process with `tower::ServiceExt::oneshot`.
///
/// Tokens are real: [`TestClient::user_token`] and
/// [`TestClient::app_token`] mint them with the OAuth server's flows over
/// the pod's store (a personal application, as Funkwhale's
/// `/settings/applications/new` issues, and a client-credentials grant),
/// under the pod's OAuth configuration: the scope policy applies, they are
/// stored hashed, and the pod validates them as any other. Minting does not
/// go through HTTP, so the OAuth endpoints' rate limits are not spent.
pub struct TestClient<P: Pod> {
    /// What the binary serves; `app.anonymous` is the switch of
    /// `token = setting` routes ("API authentication required").
    pub app: App,
    /// The database (the OAuth store and the pool of the pod's tables).
    pub database: Database,
    oauth: AuthServer<P::Scope, PodStore>,
}

/// A token and the application it was issued to (whose credentials can
/// revoke it).
#[derive(Debug, Clone)]
pub struct Grant {
    /// The access token.
    pub token: String,
    /// Its application.
    pub app: TestApp,
}

impl<P: Pod> TestClient<P> {
    /// The app [`crate::app`] assembles over `database` with `settings`.
    /// Call it inside a Tokio runtime.
    pub fn new(database: Database, settings: &Settings) -> Self {
        let oauth = AuthServer::new(database.store.clone(), crate::oauth_config::<P>(settings));
        let app = crate::app::<P>(database.clone(), settings);
        Self {
            app,
            database,
            oauth,
        }
    }

    /// Creates user `name` (password [`PASSWORD`], not an administrator);
    /// returns its id.
    pub async fn create_user(&self, name: &str) -> i64 {
        let hash = oauth_server::secret::hash_password(PASSWORD).expect("hash");
        self.database
            .store
            .create_user(name, &hash, false)
            .await
            .expect("create user")
            .id
    }

    /// A token of `user` with `scopes`, from a personal application of the
    /// user's registered for exactly those scopes.
    pub async fn user_grant(&self, user: i64, scopes: &str) -> Grant {
        let (app, issued) = self
            .oauth
            .personal_token(user, registration(scopes))
            .await
            .expect("personal token");
        Grant {
            token: issued.access_token,
            app: TestApp {
                client_id: app.record.client_id,
                client_secret: app.client_secret,
            },
        }
    }

    /// A token of `user` with `scopes` (see [`TestClient::user_grant`]).
    pub async fn user_token(&self, user: i64, scopes: &str) -> String {
        self.user_grant(user, scopes).await.token
    }

    /// A client-credentials token with `scopes` (no user), from an
    /// application registered for them.
    pub async fn app_grant(&self, scopes: &str) -> Grant {
        let app = self
            .oauth
            .register_app(registration(scopes), None)
            .await
            .expect("register app");
        let request = TokenRequest {
            grant_type: Some("client_credentials".into()),
            scope: Some(scopes.to_owned()),
            ..TokenRequest::default()
        };
        let issued = self
            .oauth
            .token(&app.record, &request)
            .await
            .expect("client credentials");
        Grant {
            token: issued.access_token,
            app: TestApp {
                client_id: app.record.client_id,
                client_secret: app.client_secret,
            },
        }
    }

    /// A client-credentials token with `scopes` (see
    /// [`TestClient::app_grant`]).
    pub async fn app_token(&self, scopes: &str) -> String {
        self.app_grant(scopes).await.token
    }

    /// Revokes `grant` through the pod's `POST /oauth/revoke` (RFC 7009),
    /// so the pod's revocation wiring runs as in production.
    pub async fn revoke(&self, grant: &Grant) {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("token", &grant.token)
            .append_pair("client_id", &grant.app.client_id)
            .append_pair("client_secret", &grant.app.client_secret)
            .finish();
        let request = Request::post("/oauth/revoke")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        let reply = self.read(request).await;
        assert_eq!(reply.status, 200, "revoke: {}", reply.text);
    }

    /// Sends `request` to the app, from [`CLIENT_ADDR`] unless the request
    /// carries a `ConnectInfo` already.
    pub async fn oneshot(&self, mut request: Request<Body>) -> Response<Body> {
        if request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none()
        {
            request.extensions_mut().insert(ConnectInfo(CLIENT_ADDR));
        }
        self.app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible")
    }

    /// Sends `request` and reads the response whole.
    pub async fn read(&self, request: Request<Body>) -> Reply {
        let response = self.oneshot(request).await;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        Reply::new(
            status,
            headers,
            String::from_utf8_lossy(&bytes).into_owned(),
        )
    }

    /// Sends `method path` with `token` (if any) and a JSON `body` (if any).
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> Reply {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.read(request.body(body).expect("request")).await
    }
}

/// A registration for `scopes` (out-of-band redirect).
fn registration(scopes: &str) -> AppRegistration {
    AppRegistration {
        client_name: "test".into(),
        redirect_uris: vec![OOB.into()],
        scopes: Some(scopes.to_owned()),
        website: None,
    }
}
