//! Full OAuth flows over a real socket, driven by the `oauth2` client crate
//! and `reqwest`: registration, login and consent, code exchange with and
//! without PKCE, OOB, refresh rotation and reuse detection, client
//! credentials, revocation, introspection, metadata, and the documented
//! errors.

mod common;

use common::{PASSWORD, REDIRECT, USER, query_param};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge, RedirectUrl,
    Scope as OScope, TokenResponse, TokenUrl,
};
use serde_json::Value;

fn oauth_client(
    pod_base: &str,
    app: &common::App,
    redirect: &str,
) -> oauth2::Client<
    oauth2::basic::BasicErrorResponse,
    oauth2::basic::BasicTokenResponse,
    oauth2::basic::BasicTokenIntrospectionResponse,
    oauth2::StandardRevocableToken,
    oauth2::basic::BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
> {
    BasicClient::new(ClientId::new(app.client_id.clone()))
        .set_client_secret(ClientSecret::new(app.client_secret.clone()))
        .set_auth_uri(AuthUrl::new(format!("{pod_base}/oauth/authorize")).expect("url"))
        .set_token_uri(TokenUrl::new(format!("{pod_base}/oauth/token")).expect("url"))
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).expect("url"))
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test]
async fn authorization_code_with_pkce_refresh_and_revoke() {
    let pod = common::start().await;
    let app = pod.register("read write follow", REDIRECT).await;
    let client = oauth_client(&pod.base, &app, REDIRECT);
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, state) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(OScope::new("read".into()))
        .add_scope(OScope::new("write:statuses".into()))
        .set_pkce_challenge(challenge)
        .url();

    let location = pod.consent(url.as_str()).await;
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(
        query_param(&location, "state").as_deref(),
        Some(state.secret().as_str())
    );
    let code = query_param(&location, "code").expect("code");

    let http = http_client();
    let token = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("token");
    assert_eq!(
        token
            .scopes()
            .map(|s| s.iter().map(|x| x.to_string()).collect::<Vec<_>>()),
        Some(vec!["read".to_owned(), "write:statuses".to_owned()])
    );
    assert_eq!(token.expires_in().map(|d| d.as_secs()), Some(36_000));
    let refresh = token.refresh_token().expect("refresh token").clone();

    // The code is single use; replaying it revokes what it issued.
    let replay = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(oauth2::PkceCodeVerifier::new("x".repeat(43)))
        .request_async(&http)
        .await;
    assert!(replay.is_err());
    let intro = introspect(&pod, &app, token.access_token().secret()).await;
    assert_eq!(intro["active"], false, "replay revoked the first token");

    // The refresh token still rotates? No: the family was revoked too.
    assert!(
        client
            .exchange_refresh_token(&refresh)
            .request_async(&http)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn refresh_rotation_narrowing_and_reuse_detection() {
    let pod = common::start().await;
    let app = pod.register("read write", REDIRECT).await;
    let client = oauth_client(&pod.base, &app, REDIRECT);
    let (url, _) = client
        .authorize_url(CsrfToken::new_random)
        .add_scope(OScope::new("read write".into()))
        .url();
    let code = query_param(&pod.consent(url.as_str()).await, "code").expect("code");
    let http = http_client();
    let first = client
        .exchange_code(AuthorizationCode::new(code))
        .request_async(&http)
        .await
        .expect("token");
    let r1 = first.refresh_token().expect("refresh").clone();

    // Rotation: a new pair; the old access token stops working.
    let second = client
        .exchange_refresh_token(&r1)
        .add_scope(OScope::new("read".into()))
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(
        second.access_token().secret(),
        first.access_token().secret()
    );
    let r2 = second.refresh_token().expect("new refresh").clone();
    assert_ne!(r2.secret(), r1.secret());
    assert_eq!(
        introspect(&pod, &app, first.access_token().secret()).await["active"],
        false
    );
    let intro = introspect(&pod, &app, second.access_token().secret()).await;
    assert_eq!(intro["active"], true);
    assert_eq!(intro["scope"], "read", "narrowed");
    assert_eq!(intro["username"], USER);

    // Widening on refresh is refused.
    let wide = client
        .exchange_refresh_token(&r2)
        .add_scope(OScope::new("write".into()))
        .request_async(&http)
        .await;
    assert!(wide.is_err());

    // Reusing r1 (already rotated) revokes the whole family, r2 included.
    assert!(
        client
            .exchange_refresh_token(&r1)
            .request_async(&http)
            .await
            .is_err()
    );
    assert_eq!(
        introspect(&pod, &app, second.access_token().secret()).await["active"],
        false
    );
    assert!(
        client
            .exchange_refresh_token(&r2)
            .request_async(&http)
            .await
            .is_err()
    );
}

async fn introspect<St: oauth_server::primitives::Store>(
    pod: &common::Pod<St>,
    app: &common::App,
    token: &str,
) -> Value {
    let r = pod
        .http
        .post(pod.url("/oauth/introspect"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[("token", token)])
        .send()
        .await
        .expect("introspect");
    assert_eq!(r.status(), 200);
    r.json().await.expect("json")
}

#[tokio::test]
async fn client_credentials_and_verify_credentials() {
    let pod = common::start().await;
    let app = pod.register("read write", REDIRECT).await;
    let r = pod
        .http
        .post(pod.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("scope", "read"),
            ("unknown_parameter", "ignored"),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let t: Value = r.json().await.expect("json");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "read");
    assert!(t.get("refresh_token").is_none());
    assert!(t["created_at"].as_i64().is_some());
    let access = t["access_token"].as_str().expect("token");

    let v: Value = pod
        .http
        .get(pod.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(access)
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(v["name"], "test app");
    assert!(v.get("client_secret").is_none());

    let intro = introspect(&pod, &app, access).await;
    assert_eq!(intro["active"], true);
    assert!(intro.get("username").is_none(), "app token has no user");

    // Scopes the app was not registered for.
    let r = pod
        .http
        .post(pod.url("/oauth/token"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "push")])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "invalid_scope"
    );
}

#[tokio::test]
async fn out_of_band_shows_the_code() {
    let pod = common::start().await;
    let oob = "urn:ietf:wg:oauth:2.0:oob";
    let app = pod.register("read", oob).await;
    let url = format!(
        "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={oob}&scope=read",
        pod.base, app.client_id
    );
    let (_, html, cookie) = pod.open(&url, None).await;
    let r = pod
        .submit(
            &html,
            &cookie.expect("cookie"),
            &[
                ("username", USER),
                ("password", PASSWORD),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.expect("html");
    let code = page
        .split("id=\"code\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("code on the page")
        .to_owned();
    let t = pod
        .http
        .post(pod.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("redirect_uri", oob),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(t.status(), 200);
}

#[tokio::test]
async fn revocation_is_idempotent_and_owned() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let other = pod.register("read", REDIRECT).await;
    let token = |app: &common::App| {
        let pod = &pod;
        let (id, secret) = (app.client_id.clone(), app.client_secret.clone());
        async move {
            let t: Value = pod
                .http
                .post(pod.url("/oauth/token"))
                .basic_auth(id, Some(secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("token")
                .json()
                .await
                .expect("json");
            t["access_token"].as_str().expect("token").to_owned()
        }
    };
    let mine = token(&app).await;
    let revoke = |app: &common::App, token: String| {
        let pod = &pod;
        let (id, secret) = (app.client_id.clone(), app.client_secret.clone());
        async move {
            pod.http
                .post(pod.url("/oauth/revoke"))
                .form(&[
                    ("client_id", id.as_str()),
                    ("client_secret", secret.as_str()),
                    ("token", token.as_str()),
                ])
                .send()
                .await
                .expect("revoke")
        }
    };
    // Another client may not revoke it.
    let r = revoke(&other, mine.clone()).await;
    assert_eq!(r.status(), 403);
    assert_eq!(
        r.json::<Value>().await.expect("json")["error"],
        "unauthorized_client"
    );
    assert_eq!(introspect(&pod, &app, &mine).await["active"], true);
    // The owner may, twice.
    for _ in 0..2 {
        let r = revoke(&app, mine.clone()).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.text().await.expect("body"), "{}");
    }
    assert_eq!(introspect(&pod, &app, &mine).await["active"], false);
    // Unknown tokens are fine too.
    assert_eq!(revoke(&app, "no-such-token".into()).await.status(), 200);
}

#[tokio::test]
async fn metadata_lists_the_endpoints() {
    let pod = common::start().await;
    let m: Value = pod
        .http
        .get(pod.url("/.well-known/oauth-authorization-server"))
        .send()
        .await
        .expect("metadata")
        .json()
        .await
        .expect("json");
    assert_eq!(m["issuer"], pod.base);
    assert_eq!(m["token_endpoint"], format!("{}/oauth/token", pod.base));
    assert_eq!(
        m["app_registration_endpoint"],
        format!("{}/api/v1/apps", pod.base)
    );
    assert_eq!(
        m["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    let scopes = m["scopes_supported"].as_array().expect("scopes");
    assert!(scopes.contains(&Value::from("read:statuses")));
    assert!(
        !scopes.contains(&Value::from("follow")),
        "deprecated scopes are not advertised"
    );
}

/// A `POST /oauth/token` with `form` by `app`: (status, body).
async fn token_request<St: oauth_server::primitives::Store>(
    pod: &common::Pod<St>,
    app: &common::App,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = pod
        .http
        .post(pod.url("/oauth/token"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

/// While its user is disabled, a grant is worth nothing: the access token
/// is inactive, and the refresh token and a code approved before are
/// refused with `invalid_grant`. Enabled again, the unexpired access token
/// and the refresh token (not rotated while refused) work again.
#[tokio::test]
async fn a_disabled_users_grants_are_refused() {
    use oauth_server::primitives::Store as _;
    let pod = common::start().await;
    let app = pod.register("read write", REDIRECT).await;
    let client = oauth_client(&pod.base, &app, REDIRECT);
    let authorize = || {
        client
            .authorize_url(CsrfToken::new_random)
            .add_scope(OScope::new("read".into()))
            .url()
            .0
    };
    let code = query_param(&pod.consent(authorize().as_str()).await, "code").expect("code");
    let (status, token) = token_request(
        &pod,
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(status, 200, "{token}");
    let access = token["access_token"].as_str().expect("access").to_owned();
    let refresh = token["refresh_token"].as_str().expect("refresh").to_owned();
    // A code approved before the user is disabled, exchanged after.
    let later = query_param(&pod.consent(authorize().as_str()).await, "code").expect("code");

    let user = pod
        .server
        .store()
        .user_by_name(USER)
        .await
        .expect("q")
        .expect("user")
        .id;
    assert!(pod.server.set_disabled(user, true).await.expect("disable"));
    assert!(!pod.server.set_disabled(9999, true).await.expect("nobody"));

    assert_eq!(introspect(&pod, &app, &access).await["active"], false);
    let (status, body) = token_request(
        &pod,
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (status, body) = token_request(
        &pod,
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("code", &later),
            ("redirect_uri", REDIRECT),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );

    assert!(pod.server.set_disabled(user, false).await.expect("enable"));
    let intro = introspect(&pod, &app, &access).await;
    assert_eq!(intro["active"], true, "enabled again: {intro}");
    assert_eq!(intro["username"], USER);
    let (status, body) = token_request(
        &pod,
        &app,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, 200, "the refresh token was not spent: {body}");
}

/// `AuthServer::set_disabled` runs the revocation hook with the user, as
/// `set_admin` does, so a pod empties its validation cache.
#[tokio::test]
async fn disabling_a_user_runs_the_revocation_hook() {
    use oauth_server::flows::Revocation;
    use oauth_server::primitives::Store as _;
    use std::sync::{Arc, Mutex};
    let pod = common::start().await;
    let seen: Arc<Mutex<Vec<i64>>> = Arc::default();
    let log = Arc::clone(&seen);
    let server = pod.server.clone().on_revoke(Arc::new(move |what| {
        if let Revocation::User(id) = what {
            log.lock().expect("log").push(id);
        }
    }));
    let user = server
        .store()
        .user_by_name(USER)
        .await
        .expect("q")
        .expect("user")
        .id;
    assert!(server.set_disabled(user, true).await.expect("disable"));
    assert!(!server.set_disabled(9999, true).await.expect("nobody"));
    assert!(server.set_disabled(user, false).await.expect("enable"));
    assert_eq!(*seen.lock().expect("log"), [user, user]);
}
