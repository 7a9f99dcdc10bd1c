//! RFC 9700 (OAuth 2.0 Security Best Current Practice), item by item where
//! it applies to this server, plus the robustness rules of the issue: every
//! bad input gets a documented error, never a 500.

mod common;

use oauth_server::primitives::Store;
use scope_runtime::Scope as _;
use scope_runtime::token::BearerToken;

use common::{PASSWORD, REDIRECT, USER, query_param};
use serde_json::Value;

/// A Mastodon scope by name (the hierarchy's compile-time names are for
/// its own crate).
fn scope(name: &str) -> scope_hierarchies::MastodonScope {
    scope_hierarchies::MastodonScope::from_name(name).expect("a Mastodon scope")
}

fn fw_scope(name: &str) -> scope_hierarchies::FunkwhaleScope {
    scope_hierarchies::FunkwhaleScope::from_name(name).expect("a Funkwhale scope")
}

fn authorize_url(base: &str, client_id: &str, redirect: &str, extra: &str) -> String {
    format!(
        "{base}/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=read{extra}",
        form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    )
}

/// An authorization request refused on the server's page: 400, no
/// redirect (RFC 9700 §4.11.2); the page's HTML.
async fn refused_on_page<St: oauth_server::primitives::Store>(
    pod: &common::Pod<St>,
    url: impl reqwest::IntoUrl,
) -> String {
    let r = pod.http.get(url).send().await.expect("authorize");
    assert_eq!(r.status(), 400);
    assert!(r.headers().get("location").is_none());
    r.text().await.expect("page")
}

async fn token_form<St: oauth_server::primitives::Store>(
    pod: &common::Pod<St>,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let r = pod
        .http
        .post(pod.url("/oauth/token"))
        .form(form)
        .send()
        .await
        .expect("token");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// §4.1: redirect URIs are compared exactly; an unregistered one never gets
/// a redirect (no open redirector, §4.11).
#[tokio::test]
async fn redirect_uris_match_exactly_and_never_open_redirect() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    for evil in [
        "https://app.example/callback/../evil",
        "https://app.example/callback?x=1",
        "https://app.example.evil.com/callback",
        "https://APP.example/callback",
        "https://evil.example/",
    ] {
        let (status, html, _) = pod
            .open(&authorize_url(&pod.base, &app.client_id, evil, ""), None)
            .await;
        assert_eq!(status, 400, "{evil}");
        assert!(html.contains("redirect_uri is not registered"), "{evil}");
    }
    // An unknown client: an error page, no redirect even to a valid-looking URI.
    let (status, _, _) = pod
        .open(&authorize_url(&pod.base, "nope", REDIRECT, ""), None)
        .await;
    assert_eq!(status, 401);
    // Errors found before the user did anything are shown on our page,
    // never redirected, even to a registered URI: anyone can register a
    // client with any redirect URI (RFC 9700 §4.11.2, open redirector).
    for (what, url) in [
        (
            "scope",
            authorize_url(&pod.base, &app.client_id, REDIRECT, "&state=xyz")
                .replace("scope=read", "scope=write"),
        ),
        (
            "response_type",
            authorize_url(&pod.base, &app.client_id, REDIRECT, "&state=xyz")
                .replace("response_type=code", "response_type=token"),
        ),
        (
            "PKCE method",
            authorize_url(
                &pod.base,
                &app.client_id,
                REDIRECT,
                "&code_challenge=abc&code_challenge_method=MD5",
            ),
        ),
    ] {
        let r = pod.http.get(url).send().await.expect("authorize");
        assert_eq!(r.status(), 400, "{what}");
        assert!(r.headers().get("location").is_none(), "{what}");
        let html = r.text().await.expect("page");
        assert!(html.contains("Authorization error"), "{what}: {html}");
    }
}

/// §4.2.4 / RFC 6749 §4.1.2: a code is single use; a replay revokes the
/// tokens issued from it.
#[tokio::test]
async fn code_replay_revokes_the_issued_tokens() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let location = pod
        .consent(&authorize_url(&pod.base, &app.client_id, REDIRECT, ""))
        .await;
    let code = query_param(&location, "code").expect("code");
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", app.client_id.as_str()),
        ("client_secret", app.client_secret.as_str()),
    ];
    let (status, first) = token_form(&pod, &form).await;
    assert_eq!(status, 200);
    let (status, second) = token_form(&pod, &form).await;
    assert_eq!(status, 400);
    assert_eq!(second["error"], "invalid_grant");
    let access = first["access_token"].as_str().expect("token");
    let v = pod
        .http
        .get(pod.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(access)
        .send()
        .await
        .expect("verify");
    assert_eq!(v.status(), 401, "the replay revoked the first token");
}

/// §2.1.1: PKCE downgrade. A verifier for a code issued without a
/// challenge, a missing verifier, a wrong verifier, and `plain` when not
/// allowed are all refused.
#[tokio::test]
async fn pkce_cannot_be_downgraded_or_skipped() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let verifier = "a".repeat(50);
    let challenge = {
        use base64::Engine as _;
        use sha2::Digest as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(sha2::Sha256::digest(verifier.as_bytes()))
    };
    let exchange = |code: String, verifier: Option<String>| {
        let pod = &pod;
        let app = &app;
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("redirect_uri", REDIRECT.to_owned()),
                ("client_id", app.client_id.clone()),
                ("client_secret", app.client_secret.clone()),
            ];
            if let Some(v) = verifier {
                form.push(("code_verifier", v));
            }
            let r = pod
                .http
                .post(pod.url("/oauth/token"))
                .form(&form)
                .send()
                .await
                .expect("token");
            r.status().as_u16()
        }
    };
    let with_challenge = format!("&code_challenge={challenge}&code_challenge_method=S256");

    // No challenge at authorization, verifier at the token endpoint: refused.
    let code = query_param(
        &pod.consent(&authorize_url(&pod.base, &app.client_id, REDIRECT, ""))
            .await,
        "code",
    );
    assert_eq!(
        exchange(code.expect("code"), Some(verifier.clone())).await,
        400
    );
    // Challenge sent, verifier missing or wrong: refused.
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, &with_challenge);
    let code = query_param(&pod.consent(&url).await, "code").expect("code");
    assert_eq!(exchange(code, None).await, 400);
    let code = query_param(&pod.consent(&url).await, "code").expect("code");
    assert_eq!(exchange(code, Some("b".repeat(50))).await, 400);
    // And the right one works.
    let code = query_param(&pod.consent(&url).await, "code").expect("code");
    assert_eq!(exchange(code, Some(verifier.clone())).await, 200);
    // `plain` is refused unless configured.
    let html = refused_on_page(
        &pod,
        authorize_url(
            &pod.base,
            &app.client_id,
            REDIRECT,
            &format!("&code_challenge={verifier}&code_challenge_method=plain"),
        ),
    )
    .await;
    assert!(html.contains("invalid_request"), "{html}");
}

/// PKCE can be required for every client by configuration.
#[tokio::test]
async fn pkce_can_be_required() {
    let pod = common::start_with(oauth_server::store::MemoryStore::new(), |c| {
        c.require_pkce(true)
    })
    .await;
    let app = pod.register("read", REDIRECT).await;
    let html = refused_on_page(&pod, authorize_url(&pod.base, &app.client_id, REDIRECT, "")).await;
    assert!(html.contains("invalid_request"), "{html}");
}

/// §4.4 / RFC 6749 §10.12: the consent form is protected against CSRF; a
/// post without the session's token is refused.
#[tokio::test]
async fn consent_needs_the_session_and_its_csrf_token() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, "");
    let (_, html, cookie) = pod.open(&url, None).await;
    let cookie = cookie.expect("cookie");
    let login = [
        ("username", USER),
        ("password", PASSWORD),
        ("decision", "approve"),
    ];
    // Wrong token.
    let r = pod
        .submit(
            &html,
            &cookie,
            &[login[0], login[1], login[2], ("csrf_token", "forged")],
        )
        .await;
    assert_eq!(r.status(), 403);
    // No session cookie (a cross-site post from the attacker's page).
    let r = pod.submit(&html, "oauth_session=unknown", &login).await;
    assert_eq!(r.status(), 403);
    // The genuine form works.
    assert_eq!(pod.submit(&html, &cookie, &login).await.status(), 303);
}

/// The page cannot be framed (clickjacking, §4.16), its cookie is HttpOnly
/// and SameSite, and it is not cached.
#[tokio::test]
async fn the_page_forbids_framing_and_protects_its_cookie() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let r = pod
        .http
        .get(authorize_url(&pod.base, &app.client_id, REDIRECT, ""))
        .send()
        .await
        .expect("page");
    let h = r.headers();
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("frame-ancestors 'none'")
    );
    assert_eq!(h["cache-control"], "no-store");
    let cookie = h["set-cookie"].to_str().expect("cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
}

/// Deny redirects with `access_denied` and the state.
#[tokio::test]
async fn deny_redirects_with_access_denied() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let (_, html, cookie) = pod
        .open(
            &authorize_url(&pod.base, &app.client_id, REDIRECT, "&state=s1"),
            None,
        )
        .await;
    let r = pod
        .submit(&html, &cookie.expect("cookie"), &[("decision", "deny")])
        .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().expect("location");
    assert_eq!(
        query_param(location, "error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(query_param(location, "state").as_deref(), Some("s1"));
}

/// Failed logins are rate-limited per account.
#[tokio::test]
async fn failed_logins_are_rate_limited() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let (_, html, cookie) = pod
        .open(
            &authorize_url(&pod.base, &app.client_id, REDIRECT, ""),
            None,
        )
        .await;
    let cookie = cookie.expect("cookie");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        let r = pod
            .submit(
                &html,
                &cookie,
                &[
                    ("username", USER),
                    ("password", "wrong"),
                    ("decision", "approve"),
                ],
            )
            .await;
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // Even the right password waits now.
    let r = pod
        .submit(
            &html,
            &cookie,
            &[
                ("username", USER),
                ("password", PASSWORD),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), 429);
}

/// Scopes the app did not register are refused at authorization and on
/// refresh (escalation, §4.13 of RFC 9700's spirit).
#[tokio::test]
async fn scopes_cannot_escalate() {
    let pod = common::start().await;
    let app = pod.register("read:statuses", REDIRECT).await;
    let html = refused_on_page(&pod, authorize_url(&pod.base, &app.client_id, REDIRECT, "")).await;
    assert!(
        html.contains("invalid_scope"),
        "read is wider than read:statuses: {html}"
    );
}

/// Secrets are hashed at rest: after a whole flow on SQLite, neither the
/// client secret, nor the code, nor the access or refresh token is in the
/// database file, nor even the random part of any of them (only the
/// time-stamp selector at the start of each is stored in clear).
#[tokio::test]
async fn no_secret_is_stored_in_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = common::start_sqlite(&dir).await;
    let app = pod.register("read write", REDIRECT).await;
    let location = pod
        .consent(&authorize_url(&pod.base, &app.client_id, REDIRECT, ""))
        .await;
    let code = query_param(&location, "code").expect("code");
    let (status, token) = token_form(
        &pod,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let secrets = [
        app.client_secret.clone(),
        code,
        token["access_token"].as_str().expect("access").to_owned(),
        token["refresh_token"].as_str().expect("refresh").to_owned(),
        PASSWORD.to_owned(),
    ];
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).expect("dir") {
        bytes.extend(std::fs::read(entry.expect("entry").path()).expect("file"));
    }
    assert!(bytes.len() > 4096, "the database was written");
    for s in &secrets {
        assert!(
            !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
            "a secret is in the file in clear"
        );
    }
    for s in &secrets[..4] {
        assert_eq!(s.len(), oauth_server::secret::SECRET_LEN);
        let random = &s[oauth_server::secret::SELECTOR_LEN..];
        assert!(
            !bytes.windows(random.len()).any(|w| w == random.as_bytes()),
            "the random part of a secret is in the file in clear"
        );
    }
}

/// Bad input of every kind: a documented error with a JSON body, never a 500.
#[tokio::test]
async fn bad_input_gets_json_errors_never_500() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let post = |path: &'static str, content_type: &'static str, body: Vec<u8>| {
        let pod = &pod;
        async move {
            let r = pod
                .http
                .post(pod.url(path))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .expect("post");
            let status = r.status().as_u16();
            let body: Value = r.json().await.unwrap_or(Value::Null);
            (status, body)
        }
    };
    let form = "application/x-www-form-urlencoded";
    let creds = format!(
        "client_id={}&client_secret={}",
        app.client_id, app.client_secret
    );
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        ("/oauth/token", form, b"".to_vec(), 401, "invalid_client"),
        (
            "/oauth/token",
            form,
            creds.clone().into_bytes(),
            400,
            "invalid_request",
        ),
        (
            "/oauth/token",
            form,
            format!("{creds}&grant_type=password").into_bytes(),
            400,
            "unsupported_grant_type",
        ),
        (
            "/oauth/token",
            form,
            format!("{creds}&grant_type=authorization_code").into_bytes(),
            400,
            "invalid_request",
        ),
        (
            "/oauth/token",
            form,
            format!("{creds}&grant_type=authorization_code&code=nope").into_bytes(),
            400,
            "invalid_grant",
        ),
        (
            "/oauth/token",
            form,
            format!("{creds}&grant_type=refresh_token&refresh_token=nope").into_bytes(),
            400,
            "invalid_grant",
        ),
        (
            "/oauth/token",
            form,
            format!("{creds}&grant_type=client_credentials&grant_type=client_credentials")
                .into_bytes(),
            400,
            "invalid_request",
        ),
        (
            "/oauth/token",
            form,
            format!(
                "client_id={}&client_secret=wrong&grant_type=client_credentials",
                app.client_id
            )
            .into_bytes(),
            401,
            "invalid_client",
        ),
        (
            "/oauth/token",
            "application/json",
            b"{not json".to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/oauth/token",
            "application/json",
            b"[1,2]".to_vec(),
            400,
            "invalid_request",
        ),
        (
            "/oauth/token",
            form,
            b"client_id=\xff\xfe&grant_type=\xc3".to_vec(),
            401,
            "invalid_client",
        ),
        (
            "/oauth/token",
            "text/plain",
            b"\x00\x01\x02".to_vec(),
            401,
            "invalid_client",
        ),
        (
            "/oauth/token",
            form,
            vec![b'a'; 100 * 1024],
            413,
            "invalid_request",
        ),
        (
            "/oauth/revoke",
            form,
            creds.clone().into_bytes(),
            403,
            "unauthorized_client",
        ),
        (
            "/oauth/introspect",
            form,
            creds.clone().into_bytes(),
            400,
            "invalid_request",
        ),
        (
            "/oauth/introspect",
            form,
            b"token=x".to_vec(),
            401,
            "invalid_client",
        ),
    ];
    for (path, ct, body, status, error) in cases {
        let (got, json) = post(path, ct, body.clone()).await;
        assert_eq!(
            (got, json["error"].as_str()),
            (status, Some(error)),
            "{path} {:?}",
            String::from_utf8_lossy(&body[..body.len().min(80)])
        );
    }
    // App registration: the documented 422s.
    for (body, message) in [
        (
            "client_name=x&redirect_uris=/relative",
            "Validation failed: Redirect URI must be an absolute URI.",
        ),
        (
            "client_name=x&redirect_uris=https://a.example/cb&scopes=read%20bogus",
            "Validation failed: Scopes are invalid",
        ),
        (
            "redirect_uris=https://a.example/cb",
            "Validation failed: Name can't be blank",
        ),
        (
            "client_name=x",
            "Validation failed: Redirect URI can't be blank",
        ),
    ] {
        let (status, json) = post("/api/v1/apps", form, body.as_bytes().to_vec()).await;
        assert_eq!(status, 422, "{body}");
        assert!(
            json["error"].as_str().expect("error").starts_with(message),
            "{json}"
        );
    }
    // JSON registration with an array of redirect URIs works.
    let (status, json) = post(
        "/api/v1/apps",
        "application/json",
        br#"{"client_name":"j","redirect_uris":["https://a.example/1","https://a.example/2"],"scopes":"read write"}"#.to_vec(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        json["redirect_uris"],
        serde_json::json!(["https://a.example/1", "https://a.example/2"])
    );
    assert_eq!(json["scopes"], serde_json::json!(["read", "write"]));
}

/// Funkwhale's paths reach the same server.
#[tokio::test]
async fn funkwhale_paths() {
    let pod = common::start().await;
    let r = pod
        .http
        .post(pod.url("/api/v1/oauth/apps/"))
        .form(&[
            ("name", "fw app"),
            ("redirect_uris", REDIRECT),
            ("scopes", "read write"),
        ])
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 200);
    let app: Value = r.json().await.expect("json");
    let (id, secret) = (
        app["client_id"].as_str().expect("id").to_owned(),
        app["client_secret"].as_str().expect("secret").to_owned(),
    );
    let url = format!(
        "{}/authorize?response_type=code&client_id={id}&redirect_uri={}&scope=read",
        pod.base,
        form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>()
    );
    let code = query_param(&pod.consent(&url).await, "code").expect("code");
    let r = pod
        .http
        .post(pod.url("/api/v1/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
}

/// Concurrent replays of one code: at most one exchange succeeds, and since
/// the code was replayed, what it issued ends up revoked.
#[tokio::test]
async fn concurrent_code_replays_leave_no_live_token() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = common::start_sqlite(&dir).await;
    let app = pod.register("read", REDIRECT).await;
    let location = pod
        .consent(&authorize_url(&pod.base, &app.client_id, REDIRECT, ""))
        .await;
    let code = query_param(&location, "code").expect("code");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (http, url, code, id, secret) = (
                pod.http.clone(),
                pod.url("/oauth/token"),
                code.clone(),
                app.client_id.clone(),
                app.client_secret.clone(),
            );
            tokio::spawn(async move {
                let r = http
                    .post(url)
                    .basic_auth(id, Some(secret))
                    .form(&[
                        ("grant_type", "authorization_code"),
                        ("code", code.as_str()),
                        ("redirect_uri", REDIRECT),
                    ])
                    .send()
                    .await
                    .expect("token");
                let ok = r.status() == 200;
                let v: Value = r.json().await.expect("json");
                ok.then(|| v["access_token"].as_str().expect("token").to_owned())
            })
        })
        .collect();
    let mut issued = Vec::new();
    for t in tasks {
        if let Some(token) = t.await.expect("join") {
            issued.push(token);
        }
    }
    assert!(
        issued.len() <= 1,
        "{} exchanges of one code succeeded",
        issued.len()
    );
    for token in issued {
        let r = pod
            .http
            .get(pod.url("/api/v1/apps/verify_credentials"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("verify");
        assert_eq!(r.status(), 401, "a token of a replayed code is alive");
    }
}

/// Another client cannot burn someone else's code.
#[tokio::test]
async fn a_foreign_client_cannot_spend_a_code() {
    let pod = common::start().await;
    let victim = pod.register("read", REDIRECT).await;
    let attacker = pod.register("read", REDIRECT).await;
    let location = pod
        .consent(&authorize_url(&pod.base, &victim.client_id, REDIRECT, ""))
        .await;
    let code = query_param(&location, "code").expect("code");
    let exchange = |app: &common::App| {
        let pod = &pod;
        let (id, secret, code) = (
            app.client_id.clone(),
            app.client_secret.clone(),
            code.clone(),
        );
        async move {
            pod.http
                .post(pod.url("/oauth/token"))
                .basic_auth(id, Some(secret))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", REDIRECT),
                ])
                .send()
                .await
                .expect("token")
                .status()
                .as_u16()
        }
    };
    assert_eq!(exchange(&attacker).await, 400);
    assert_eq!(
        exchange(&victim).await,
        200,
        "the victim's code still works"
    );
}

/// Scopes reserved to administrators are never granted to other users.
#[tokio::test]
async fn non_admin_users_get_no_admin_scopes() {
    let pod = common::start().await;
    let app = pod.register("read admin:read", REDIRECT).await;
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, "")
        .replace("scope=read", "scope=read%20admin%3Aread");
    let code = query_param(&pod.consent(&url).await, "code").expect("code");
    let (status, token) = token_form(
        &pod,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(token["scope"], "read");
}

/// `force_login` is honoured on the form post too.
#[tokio::test]
async fn force_login_requires_the_password_again() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, "");
    // Log in once: the session now has a user.
    let location = pod.consent(&url).await;
    assert!(location.contains("code="));
    let (_, html, cookie) = pod.open(&url, None).await;
    let cookie = cookie.expect("cookie");
    let r = pod
        .submit(
            &html,
            &cookie,
            &[
                ("username", USER),
                ("password", PASSWORD),
                ("decision", "approve"),
            ],
        )
        .await;
    let session = common::set_cookie(&r).expect("new session at login");
    // With the logged-in session and force_login, approving without the
    // password shows the login form again.
    let (_, html, _) = pod
        .open(&format!("{url}&force_login=true"), Some(&session))
        .await;
    assert!(html.contains("id=\"password\""), "the login form is shown");
    let r = pod
        .submit(&html, &session, &[("decision", "approve")])
        .await;
    assert_eq!(r.status(), 200, "no code without the password");
    assert!(r.text().await.expect("html").contains("Log in again"));
}

/// Repeated parameters and dangerous schemes are refused cleanly.
#[tokio::test]
async fn repeated_authorize_parameters_and_script_uris_are_refused() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let url = format!(
        "{}&client_id=other",
        authorize_url(&pod.base, &app.client_id, REDIRECT, "")
    );
    let r = pod.http.get(url).send().await.expect("authorize");
    assert_eq!(r.status(), 400);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("ct")
            .starts_with("text/html")
    );
    let r = pod
        .http
        .post(pod.url("/api/v1/apps"))
        .form(&[
            ("client_name", "x"),
            ("redirect_uris", "javascript:alert(1)"),
        ])
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 422);
}

/// RFC 6749 §3.2: parameters the server does not read are ignored, even
/// repeated (Mastodon.py sends `oauth_info` many times); a repeated one it
/// reads is refused.
#[tokio::test]
async fn unknown_repeated_parameters_are_ignored_known_ones_refused() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let send = |extra: &'static str| {
        let pod = &pod;
        let body = format!(
            "grant_type=client_credentials&scope=read&{extra}&client_id={}&client_secret={}",
            app.client_id, app.client_secret
        );
        async move {
            pod.http
                .post(pod.url("/oauth/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
                .expect("token")
        }
    };
    let r = send("oauth_info=issuer&oauth_info=token_endpoint").await;
    assert_eq!(r.status(), 200);
    let r = send("scope=write").await;
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["error"], "invalid_request");
}

/// A client may introspect its own tokens only (RFC 7662 §4).
#[tokio::test]
async fn introspection_does_not_leak_across_clients() {
    let pod = common::start().await;
    let owner = pod.register("read", REDIRECT).await;
    let other = pod.register("read", REDIRECT).await;
    let t: Value = pod
        .http
        .post(pod.url("/oauth/token"))
        .basic_auth(&owner.client_id, Some(&owner.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let token = t["access_token"].as_str().expect("token");
    let ask = |app: &common::App| {
        let pod = &pod;
        let (id, secret) = (app.client_id.clone(), app.client_secret.clone());
        async move {
            let v: Value = pod
                .http
                .post(pod.url("/oauth/introspect"))
                .basic_auth(id, Some(secret))
                .form(&[("token", token)])
                .send()
                .await
                .expect("introspect")
                .json()
                .await
                .expect("json");
            v["active"].as_bool()
        }
    };
    assert_eq!(ask(&owner).await, Some(true));
    assert_eq!(ask(&other).await, Some(false));
}

/// One path: the server's own bearer endpoint is declared with
/// `#[requires_scope(authenticated)]` and served behind the enforcement
/// layer, so it reads `Authorization` with the one bearer parser of the
/// workspace: no credentials get RFC 6750 §3.1's bare challenge, and two
/// `Authorization` headers are refused even when one holds a valid token.
#[tokio::test]
async fn verify_credentials_goes_through_the_enforcement_layer() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let (status, body) = token_form(
        &pod,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("scope", "read"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().expect("token").to_owned();
    let url = pod.url("/api/v1/apps/verify_credentials");

    let r = pod.http.get(&url).send().await.expect("verify");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers()["www-authenticate"], "Bearer");

    let r = pod
        .http
        .get(&url)
        .bearer_auth(&token)
        .send()
        .await
        .expect("verify");
    assert_eq!(r.status(), 200);
    let json: Value = r.json().await.expect("json");
    assert_eq!(json["scopes"], serde_json::json!(["read"]));

    let r = pod
        .http
        .get(&url)
        .header("authorization", format!("Bearer {token}"))
        .header("authorization", "Bearer someone-elses")
        .send()
        .await
        .expect("verify");
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().expect("ascii");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    let r = pod
        .http
        .get(&url)
        .bearer_auth("unknown")
        .send()
        .await
        .expect("verify");
    assert_eq!(r.status(), 401);
}

/// Admin scopes reach admins only, on every path (effective scopes = token
/// ∩ app ∩ what the user may have): not through client credentials (an app
/// token has no user), not through the authorization code, and not on the
/// tokens of an admin who was demoted since (validation and introspection
/// decide again, and the demotion empties the caches).
#[tokio::test]
async fn admin_scopes_reach_admins_only_on_every_path() {
    let pod = common::start().await;
    let app = pod.register("read admin:read admin:write", REDIRECT).await;
    let cc = |scope: &'static str| {
        let app = &app;
        let pod = &pod;
        async move {
            token_form(
                pod,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &app.client_id),
                    ("client_secret", &app.client_secret),
                    ("scope", scope),
                ],
            )
            .await
        }
    };
    let (status, token) = cc("read admin:read").await;
    assert_eq!(status, 200, "{token}");
    assert_eq!(token["scope"], "read");
    let (status, body) = cc("admin:read admin:write").await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "invalid_scope");

    // An admin's grant carries them, until the admin is demoted.
    let hash = oauth_server::secret::hash_password(PASSWORD).expect("hash");
    let boss = pod
        .server
        .store()
        .create_user("boss", &hash, true)
        .await
        .expect("boss")
        .id;
    let (_, issued) = pod
        .server
        .personal_token(
            boss,
            oauth_server::flows::AppRegistration {
                client_name: "boss tool".into(),
                redirect_uris: vec![oauth_server::flows::OOB.into()],
                scopes: Some("read admin:read".into()),
                website: None,
            },
        )
        .await
        .expect("personal token");
    assert_eq!(issued.scope, "read admin:read");
    let admin_read = scope("admin:read:accounts");
    let validator = pod.server.validator();
    let cache = scope_runtime::cache::CachedValidator::new(
        validator.clone(),
        std::time::Duration::from_secs(3600),
        100,
    );
    use scope_runtime::token::TokenValidator;
    let principal: scope_runtime::Principal<scope_hierarchies::MastodonScope> = cache
        .validate(&BearerToken::new(&issued.access_token))
        .await
        .expect("valid");
    assert!(principal.scopes().grants(admin_read));

    // The pods empty their caches on the server's hook; wire it the same.
    let evict = cache.clone();
    let server = pod
        .server
        .clone()
        .on_revoke(std::sync::Arc::new(move |_| evict.clear()));
    assert!(server.set_admin(boss, false).await.expect("demote"));
    let principal: scope_runtime::Principal<scope_hierarchies::MastodonScope> = cache
        .validate(&BearerToken::new(&issued.access_token))
        .await
        .expect("still valid");
    assert!(
        !principal.scopes().grants(admin_read),
        "demoted: {}",
        principal.scopes()
    );
    assert!(principal.scopes().grants(scope("read:statuses")));
    // Introspection answers the same.
    let tool = pod
        .server
        .store()
        .token_by_access(oauth_server::secret::SecretHash::of(&issued.access_token))
        .await
        .expect("q")
        .expect("stored")
        .client_id;
    let caller = pod.server.client(&tool).await.expect("q").expect("client");
    let answer = pod
        .server
        .introspect(&caller, &issued.access_token)
        .await
        .expect("introspect");
    assert_eq!(answer.scope.as_deref(), Some("read"));
}

/// Funkwhale's `read` and `write` cover the instance scopes, which need
/// staff permissions: a user's `read` grant, through a personal application
/// too, never reaches them, and what the validator answers does not grant
/// them either.
#[tokio::test]
async fn funkwhale_parents_do_not_reach_instance_scopes_for_users() {
    use scope_hierarchies::FunkwhaleScope;
    use scope_runtime::token::TokenValidator;
    let server = oauth_server::flows::AuthServer::<FunkwhaleScope, _>::new(
        oauth_server::store::MemoryStore::new(),
        oauth_server::config::Config::new("http://pod.example")
            .admin_scope_prefixes(["read:instance:", "write:instance:"]),
    );
    let user = server
        .store()
        .create_user("fan", "x", false)
        .await
        .expect("user")
        .id;
    let (_, issued) = server
        .personal_token(
            user,
            oauth_server::flows::AppRegistration {
                client_name: "fan tool".into(),
                redirect_uris: vec![oauth_server::flows::OOB.into()],
                scopes: Some("read write".into()),
                website: None,
            },
        )
        .await
        .expect("personal token");
    assert!(!issued.scope.contains("instance"), "{}", issued.scope);
    let principal: scope_runtime::Principal<FunkwhaleScope> = server
        .validator()
        .validate(&BearerToken::new(&issued.access_token))
        .await
        .expect("valid");
    let settings = fw_scope("read:instance:settings");
    assert!(!principal.scopes().grants(settings));
    assert!(principal.scopes().grants(fw_scope("read:libraries")));
    // An admin's does.
    let staff = server
        .store()
        .create_user("staff", "x", true)
        .await
        .expect("staff")
        .id;
    let (_, issued) = server
        .personal_token(
            staff,
            oauth_server::flows::AppRegistration {
                client_name: "staff tool".into(),
                redirect_uris: vec![oauth_server::flows::OOB.into()],
                scopes: Some("read".into()),
                website: None,
            },
        )
        .await
        .expect("personal token");
    assert_eq!(issued.scope, "read");
}

/// The authorization code and the refresh grant follow the policy too: a
/// non-admin asking for an instance scope gets a code without it (no code
/// if nothing else was asked); their
/// refresh may repeat the `read` they consented to (it means what it meant
/// at the grant); an admin's grant carries the instance scopes until the
/// admin is demoted, and the next refresh drops them.
#[tokio::test]
async fn code_grants_and_refreshes_follow_the_policy() {
    use oauth_server::flows::TokenRequest;
    use oauth_server::flows::{AppRegistration, AuthServer, AuthorizeRequest, IssuedToken};
    use scope_hierarchies::FunkwhaleScope;
    let server = AuthServer::<FunkwhaleScope, _>::new(
        oauth_server::store::MemoryStore::new(),
        oauth_server::config::Config::new("http://pod.example")
            .admin_scope_prefixes(["read:instance:", "write:instance:"]),
    );
    let app = server
        .register_app(
            AppRegistration {
                client_name: "player".into(),
                redirect_uris: vec![REDIRECT.into()],
                scopes: Some("read write".into()),
                website: None,
            },
            None,
        )
        .await
        .expect("app");
    let code_grant = |user: i64, scope: &'static str| {
        let server = server.clone();
        let client = app.record.clone();
        async move {
            let request = AuthorizeRequest {
                response_type: Some("code".into()),
                client_id: Some(client.client_id.clone()),
                redirect_uri: Some(REDIRECT.into()),
                scope: Some(scope.into()),
                ..AuthorizeRequest::default()
            };
            let valid = server.check_authorize(&request).await.expect("valid");
            let code = server.issue_code(&valid, user).await.expect("code");
            let exchange = TokenRequest {
                grant_type: Some("authorization_code".into()),
                code: Some(code),
                redirect_uri: Some(REDIRECT.into()),
                ..TokenRequest::default()
            };
            server.token(&client, &exchange).await.expect("exchange")
        }
    };
    let refresh = |issued: &IssuedToken, scope: Option<&str>| {
        let request = TokenRequest {
            grant_type: Some("refresh_token".into()),
            refresh_token: issued.refresh_token.clone(),
            scope: scope.map(str::to_owned),
            ..TokenRequest::default()
        };
        let server = server.clone();
        let client = app.record.clone();
        async move { server.token(&client, &request).await }
    };
    let grants = |scopes: &str, name: &str| {
        scope_runtime::ScopeSet::<FunkwhaleScope>::parse(scopes)
            .expect("scopes")
            .grants(fw_scope(name))
    };
    let fan = server
        .store()
        .create_user("fan", "x", false)
        .await
        .expect("fan")
        .id;
    let issued = code_grant(fan, "read read:instance:settings").await;
    assert!(
        !grants(&issued.scope, "read:instance:settings"),
        "{}",
        issued.scope
    );
    assert!(grants(&issued.scope, "read:libraries"));
    let again = refresh(&issued, Some("read"))
        .await
        .expect("refresh with read");
    assert!(
        !grants(&again.scope, "read:instance:settings"),
        "{}",
        again.scope
    );
    assert!(grants(&again.scope, "read:playlists"));
    // Widening is still refused.
    let wider = refresh(&again, Some("write")).await;
    assert_eq!(wider.map(|_| ()).map_err(|e| e.code), Err("invalid_scope"));
    // Only what the user may not have: no code at all.
    let request = AuthorizeRequest {
        response_type: Some("code".into()),
        client_id: Some(app.record.client_id.clone()),
        redirect_uri: Some(REDIRECT.into()),
        scope: Some("read:instance:settings".into()),
        ..AuthorizeRequest::default()
    };
    let valid = server.check_authorize(&request).await.expect("valid");
    let refused = server.issue_code(&valid, fan).await;
    assert_eq!(
        refused.map(|_| ()).map_err(|e| e.code),
        Err("invalid_scope")
    );

    let staff = server
        .store()
        .create_user("staff", "x", true)
        .await
        .expect("staff")
        .id;
    let issued = code_grant(staff, "read").await;
    assert_eq!(issued.scope, "read");
    assert!(server.set_admin(staff, false).await.expect("demote"));
    let after = refresh(&issued, None).await.expect("refresh");
    assert!(
        !grants(&after.scope, "read:instance:settings"),
        "{}",
        after.scope
    );
    assert!(grants(&after.scope, "read:libraries"));
}

/// RFC 6749 §4.1.3: `redirect_uri` is required at the token endpoint,
/// identical, when the authorization request carried one; when it did not
/// (the client has one URI), it may be left out.
#[tokio::test]
async fn redirect_uri_is_required_when_the_authorization_request_sent_it() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let exchange = |code: String, redirect: Option<&'static str>| {
        let (pod, app) = (&pod, &app);
        async move {
            let mut form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("client_id", app.client_id.clone()),
                ("client_secret", app.client_secret.clone()),
            ];
            if let Some(r) = redirect {
                form.push(("redirect_uri", r.to_owned()));
            }
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            token_form(pod, &form).await
        }
    };
    let named = authorize_url(&pod.base, &app.client_id, REDIRECT, "");
    let code = query_param(&pod.consent(&named).await, "code").expect("code");
    let (status, body) = exchange(code, None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let code = query_param(&pod.consent(&named).await, "code").expect("code");
    let (status, body) = exchange(code, Some("https://app.example/other")).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );

    let code = query_param(&pod.consent(&named).await, "code").expect("code");
    assert_eq!(exchange(code, Some(REDIRECT)).await.0, 200);

    let unnamed = format!(
        "{}/oauth/authorize?response_type=code&client_id={}&scope=read",
        pod.base, app.client_id
    );
    let code = query_param(&pod.consent(&unnamed).await, "code").expect("code");
    assert_eq!(exchange(code, None).await.0, 200);
}

/// A refresh that rotates makes the replaced access token stop working at
/// once, even in a validation cache that had it (the server's revocation
/// hook names it by digest).
#[tokio::test]
async fn a_rotated_access_token_leaves_the_cache_at_once() {
    use scope_runtime::token::TokenValidator;
    let store = oauth_server::store::MemoryStore::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = oauth_server::flows::AuthServer::<scope_hierarchies::MastodonScope, _>::new(
        store,
        oauth_server::config::Config::new(base.clone()),
    );
    let cache = scope_runtime::cache::CachedValidator::new(
        server.validator(),
        std::time::Duration::from_secs(3600),
        100,
    );
    let evict = cache.clone();
    let server = server.on_revoke(std::sync::Arc::new(move |what| match what {
        oauth_server::flows::Revocation::AccessToken(t) => {
            evict.evict(t);
        }
        oauth_server::flows::Revocation::AccessTokenDigest(d) => {
            evict.evict_digest(&d);
        }
        _ => evict.clear(),
    }));
    let hash = oauth_server::secret::hash_password(PASSWORD).expect("hash");
    server
        .store()
        .create_user(USER, &hash, false)
        .await
        .expect("user");
    let app: axum::Router = oauth_server::http::router(server.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let pod = common::Pod::adopt(base, server, task);
    let client = pod.register("read", REDIRECT).await;
    let url = authorize_url(&pod.base, &client.client_id, REDIRECT, "");
    let code = query_param(&pod.consent(&url).await, "code").expect("code");
    let (_, first) = token_form(
        &pod,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client.client_id),
            ("client_secret", &client.client_secret),
        ],
    )
    .await;
    let old = first["access_token"].as_str().expect("access").to_owned();
    let _: scope_runtime::Principal<scope_hierarchies::MastodonScope> = cache
        .validate(&BearerToken::new(&old))
        .await
        .expect("valid, now cached");
    let (status, _) = token_form(
        &pod,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                first["refresh_token"].as_str().expect("refresh"),
            ),
            ("client_id", &client.client_id),
            ("client_secret", &client.client_secret),
        ],
    )
    .await;
    assert_eq!(status, 200);
    let answer: Option<Result<scope_runtime::Principal<scope_hierarchies::MastodonScope>, _>> =
        cache.validate_now(&BearerToken::new(&old));
    assert!(
        answer.is_none(),
        "the cache still answers for the replaced token"
    );
    assert!(
        TokenValidator::<scope_hierarchies::MastodonScope>::validate(
            &cache,
            &BearerToken::new(&old)
        )
        .await
        .is_err()
    );
}

async fn count(pod: &common::Pod<oauth_server::store::SqliteStore>, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT count(*) FROM {table}"))
        .fetch_one(pod.server.store().pool())
        .await
        .expect("count")
}

/// Anonymous visitors cost no state: cookie-less requests to the login and
/// personal-token pages store nothing (their CSRF token is derived from
/// their cookie), so no flood can fill a table and lock new visitors out;
/// sessions exist only after a login, at most 16 per user, the oldest going
/// first.
#[tokio::test]
async fn anonymous_visitors_store_nothing_and_sessions_are_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = common::start_sqlite(&dir).await;
    let app = pod.register("read", REDIRECT).await;
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, "");
    for i in 0..1000 {
        let path = if i % 2 == 0 {
            url.clone()
        } else {
            pod.url("/settings/applications/new")
        };
        let r = pod.http.get(path).send().await.expect("page");
        assert_eq!(r.status(), 200);
        assert!(common::set_cookie(&r).is_some());
    }
    assert_eq!(count(&pod, "sessions").await, 0);
    // A visitor who logs in gets a session, fine after the flood.
    for _ in 0..20 {
        let location = pod.consent(&url).await;
        assert!(location.contains("code="), "{location}");
    }
    assert_eq!(count(&pod, "sessions").await, 16);
    // A forged cookie is an anonymous visitor, not an error.
    let (status, html, _) = pod.open(&url, Some("oauth_session=forged-value")).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"password\""), "asks to log in");
}

/// The failed-login counts keep fixed-size hashes, never the usernames:
/// many attempts with huge usernames leave 32-byte keys, one per account
/// and address and one per address, and the address is limited after
/// 30 failures whatever the usernames (argon2 stops running for it).
#[tokio::test]
async fn failed_logins_store_only_hashes_and_an_address_is_limited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = common::start_sqlite(&dir).await;
    let app = pod.register("read", REDIRECT).await;
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, "");
    let stranger = common::client_from("127.0.0.2");
    let mut statuses = Vec::new();
    for i in 0..32 {
        let name = format!("{i}{}", "x".repeat(30_000));
        statuses.push(pod.login_from(&stranger, &url, &name, "guess").await);
    }
    assert!(statuses[..30].iter().all(|s| *s == 401), "{statuses:?}");
    assert_eq!(&statuses[30..], &[429, 429]);
    let (rows, longest): (i64, i64) =
        sqlx::query_as("SELECT count(*), max(length(key)) FROM login_failures")
            .fetch_one(pod.server.store().pool())
            .await
            .expect("failures");
    assert_eq!((rows, longest), (31, 32), "30 accounts and one address");
    // Someone else, from another address, is not affected.
    assert_eq!(pod.login_from(&pod.http, &url, USER, PASSWORD).await, 303);
}

/// A stranger cannot lock someone else out: failures count per account
/// and address, so wrong guesses from elsewhere leave the owner's login
/// working. An attempt abandoned once its check started is counted all the
/// same (it cost argon2 time), against the abandoner's keys only.
#[tokio::test]
async fn a_stranger_cannot_lock_out_an_account() {
    use tokio::io::AsyncWriteExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let pod = common::start_sqlite(&dir).await;
    let app = pod.register("read", REDIRECT).await;
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, "");
    let stranger = common::client_from("127.0.0.2");
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(pod.login_from(&stranger, &url, USER, "wrong").await);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // Two whole login requests from 127.0.0.3, their connections closed
    // while argon2 runs (on an account whose hash takes long to check).
    pod.server
        .store()
        .create_user("slow", &common::slow_hash(PASSWORD), false)
        .await
        .expect("slow user");
    let impatient = common::client_from("127.0.0.3");
    let r = impatient.get(&url).send().await.expect("page");
    let cookie = common::set_cookie(&r).expect("cookie");
    let mut fields = common::hidden_fields(&r.text().await.expect("html"));
    fields.insert("username".into(), "slow".into());
    fields.insert("password".into(), "wrong".into());
    fields.insert("decision".into(), "approve".into());
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&fields)
        .finish();
    let addr: std::net::SocketAddr = pod.base["http://".len()..].parse().expect("addr");
    for _ in 0..2 {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind("127.0.0.3:0".parse().expect("addr"))
            .expect("bind");
        let mut conn = socket.connect(addr).await.expect("connect");
        let request = format!(
            "POST /oauth/authorize HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(request.as_bytes()).await.expect("send");
        // Hung up once the check has started (the store's reads take
        // milliseconds) and before argon2 answers (the slow hash takes
        // half a second or more): a client that closes at once is dropped
        // before the check, which then costs and counts nothing.
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        // No answer yet: the check is still running (else this test would
        // not test hanging up).
        let mut byte = [0u8; 1];
        assert!(
            matches!(conn.try_read(&mut byte), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "argon2 answered within 100 ms: the hang-up comes too late to test"
        );
        drop(conn);
    }
    // Both checks run to their end and count: 127.0.0.3's account and
    // address keys at 2 failures each, beside the stranger's two at 5.
    let mut counted = 0;
    for _ in 0..400 {
        counted =
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM login_failures WHERE failures = 2")
                .fetch_one(pod.server.store().pool())
                .await
                .expect("failures");
        if counted == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert_eq!(
        counted, 2,
        "abandoned checks are counted, for the abandoner"
    );
    // The owner, from their own address, logs in.
    assert_eq!(pod.login_from(&pod.http, &url, USER, PASSWORD).await, 303);
}

/// One address has at most two login attempts in flight: the rest are
/// refused at once (429) rather than queued, so a few addresses cannot fill
/// the argon2 queue and keep everyone else out with 503.
#[tokio::test]
async fn one_address_cannot_fill_the_argon2_queue() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, "");
    let stranger = common::client_from("127.0.0.2");
    // Accounts whose checks take long, so that the six overlap.
    let slow = common::slow_hash(PASSWORD);
    for name in ["a", "b", "c", "d", "e", "f"] {
        pod.server
            .store()
            .create_user(name, &slow, false)
            .await
            .expect("user");
    }
    let login = |user: &'static str| pod.login_from(&stranger, &url, user, "wrong");
    // Six at once, under six usernames (the per-account limit is not it).
    let statuses = tokio::join!(
        login("a"),
        login("b"),
        login("c"),
        login("d"),
        login("e"),
        login("f")
    );
    let statuses = [
        statuses.0, statuses.1, statuses.2, statuses.3, statuses.4, statuses.5,
    ];
    let refused = statuses.iter().filter(|s| **s == 429).count();
    // Two run (half a second or more each); the others arrive while they
    // do. Without the bound all six would be checked.
    assert!(refused >= 3, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429].contains(s)),
        "{statuses:?}"
    );
    // The owner, elsewhere, is not kept waiting behind them.
    assert_eq!(pod.login_from(&pod.http, &url, USER, PASSWORD).await, 303);
}

/// App registration and the token endpoint are rate-limited per client
/// address by the enforcer's guard (the same `RateLimiter` as the API
/// routes, with Funkwhale's `oauth-app` and `oauth-token` scopes); another
/// address has buckets of its own.
#[tokio::test]
async fn registration_and_tokens_are_rate_limited_per_address() {
    use scope_ratelimit::{RateLimiter, Rates};
    use scope_runtime::enforce::Enforcer;
    let hash = oauth_server::secret::hash_password(PASSWORD).expect("hash");
    let store = oauth_server::store::MemoryStore::new();
    store.create_user(USER, &hash, false).await.expect("user");
    let rates = Rates::funkwhale()
        .with_overrides("oauth-token=3/hour")
        .expect("rates");
    let pod = common::serve(
        store,
        |c| c,
        Some(Box::new(move |server| {
            Enforcer::new(server.validator()).guard(RateLimiter::new(rates))
        })),
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..11 {
        let r = pod
            .http
            .post(pod.url("/api/v1/apps"))
            .form(&[("client_name", "flood"), ("redirect_uris", REDIRECT)])
            .send()
            .await
            .expect("register");
        statuses.push(r.status().as_u16());
        if r.status() == 429 {
            assert_eq!(r.headers()["x-ratelimit-scope"], "oauth-app");
        }
    }
    assert_eq!(&statuses[9..], &[200, 429], "{statuses:?}");
    // Another address registers.
    let other = common::client_from("127.0.0.2");
    let r = other
        .post(pod.url("/api/v1/apps"))
        .form(&[
            ("client_name", "mine"),
            ("redirect_uris", REDIRECT),
            ("scopes", "read"),
        ])
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", v["client_id"].as_str().expect("id")),
        (
            "client_secret",
            v["client_secret"].as_str().expect("secret"),
        ),
    ];
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let r = other
            .post(pod.url("/oauth/token"))
            .form(&form)
            .send()
            .await
            .expect("token");
        statuses.push(r.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429]);
}

/// A disabled user cannot log in: the right password is answered exactly
/// as a wrong one, or as an unknown user's (nothing tells that the account
/// exists), and counted as one (so that the failure counter does not tell a
/// right password from a wrong one either).
/// A session opened before the user was disabled approves nothing. Enabled
/// again, the user logs in.
#[tokio::test]
async fn a_disabled_user_cannot_log_in() {
    let pod = common::start().await;
    let app = pod.register("read", REDIRECT).await;
    let url = authorize_url(&pod.base, &app.client_id, REDIRECT, "");
    let (_, html, cookie) = pod.open(&url, None).await;
    let cookie = cookie.expect("cookie");
    let login = |username: &'static str, password: &'static str| {
        let (pod, html, cookie) = (&pod, &html, &cookie);
        async move {
            let r = pod
                .submit(
                    html,
                    cookie,
                    &[
                        ("username", username),
                        ("password", password),
                        ("decision", "approve"),
                    ],
                )
                .await;
            (r.status().as_u16(), r.text().await.expect("html"))
        }
    };
    // A session of the user, opened while enabled.
    let (_, html2, session) = pod.open(&url, None).await;
    let session = session.expect("cookie");
    let r = pod
        .submit(
            &html2,
            &session,
            &[
                ("username", USER),
                ("password", PASSWORD),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let session = common::set_cookie(&r).unwrap_or(session);

    let user = pod
        .server
        .store()
        .user_by_name(USER)
        .await
        .expect("q")
        .expect("user")
        .id;
    assert!(pod.server.set_disabled(user, true).await.expect("disable"));

    let (status, wrong) = login(USER, "wrong password").await;
    assert_eq!(status, 401);
    assert!(wrong.contains("Wrong username or password."), "{wrong}");
    let (status, unknown) = login("nobody", PASSWORD).await;
    assert_eq!(status, 401);
    for _ in 0..2 {
        let (status, refused) = login(USER, PASSWORD).await;
        assert_eq!(status, 401, "refused: {refused}");
        assert_eq!(refused, wrong, "answered as a wrong password");
        assert_eq!(refused, unknown, "answered as an unknown user");
    }

    // The earlier session approves nothing now.
    let (status, page, _) = pod.open(&url, Some(&session)).await;
    assert_eq!(status, 200, "{page}");
    let r = pod
        .submit(&page, &session, &[("decision", "approve")])
        .await;
    let status = r.status();
    let location = r.headers().get("location").cloned();
    let body = r.text().await.expect("html");
    assert_ne!(status, 303, "no code: {location:?}");
    assert!(body.contains("invalid_grant"), "{status} {body}");

    // Enabled again: the user logs in (three failures counted, under the
    // limit).
    assert!(pod.server.set_disabled(user, false).await.expect("enable"));
    let (status, body) = login(USER, PASSWORD).await;
    assert_eq!(status, 303, "{body}");
}
