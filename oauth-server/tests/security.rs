//! RFC 9700 (OAuth 2.0 Security Best Current Practice), item by item where
//! it applies to this server, plus the robustness rules of the issue: every
//! bad input gets a documented error, never a 500.

mod common;

use common::{PASSWORD, REDIRECT, USER, query_param};
use serde_json::Value;

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
