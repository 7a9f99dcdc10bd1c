//! The HTML pages escape whatever a client or visitor put in them: an app
//! name, a redirect URI, a `state`, a username, a personal application's
//! name come out as text, never as markup.

mod common;

use common::{PASSWORD, USER, hidden_fields};

/// An app name that is markup, quotes and an ampersand.
const HOSTILE: &str = "<script>alert(1)</script>\"'&";
/// `HOSTILE` as the templates escape it.
const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;";
/// A registrable redirect URI with quotes and angle brackets.
const QUOTED_URI: &str = "https://app.example/cb?q=\"'<b>";
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Asserts that `html` shows `HOSTILE` only escaped.
fn only_escaped(html: &str, what: &str) {
    assert!(!html.contains("<script>"), "{what}: {html}");
    assert!(!html.contains("<b>"), "{what}: {html}");
    assert!(!html.contains("\"'"), "{what}: {html}");
    assert!(html.contains(ESCAPED), "{what}: {html}");
}

async fn register<St: oauth_server::primitives::Store>(pod: &common::Pod<St>) -> String {
    let r = pod
        .http
        .post(pod.url("/api/v1/apps"))
        .form(&[
            ("client_name", HOSTILE),
            ("redirect_uris", &format!("{QUOTED_URI} {OOB}")),
            ("scopes", "read write"),
        ])
        .send()
        .await
        .expect("register");
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    v["client_id"].as_str().expect("client_id").to_owned()
}

fn authorize_url(base: &str, client_id: &str, redirect: &str) -> String {
    let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "{base}/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=read&state={}",
        enc(redirect),
        enc(HOSTILE)
    )
}

#[tokio::test]
async fn the_consent_and_code_pages_escape_the_app_name_the_redirect_uri_and_the_state() {
    let pod = common::start().await;
    let client_id = register(&pod).await;

    // The consent page: app name, state and redirect URI (hidden inputs
    // and the "You will be sent to" line) escaped, and the hidden inputs
    // give back the values as sent.
    let (status, html, cookie) = pod
        .open(&authorize_url(&pod.base, &client_id, QUOTED_URI), None)
        .await;
    assert_eq!(status, 200, "{html}");
    only_escaped(&html, "consent page");
    assert!(
        html.contains("<code>https://app.example/cb?q=&#34;&#39;&#60;b&#62;</code>"),
        "{html}"
    );
    let fields = hidden_fields(&html);
    assert_eq!(fields["state"], HOSTILE);
    assert_eq!(fields["redirect_uri"], QUOTED_URI);
    assert_eq!(fields["client_id"], client_id);
    assert!(!fields["csrf_token"].is_empty());
    let cookie = cookie.expect("session");

    // A wrong login with a username that is markup: the page comes back
    // with the alert, the username is not shown, the rest still escaped.
    let r = pod
        .submit(
            &html,
            &cookie,
            &[
                ("username", "<b>bob</b>"),
                ("password", "wrong"),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), 401);
    let again = r.text().await.expect("html");
    assert!(
        again.contains("<p class=\"error\" role=\"alert\">Wrong username or password.</p>"),
        "{again}"
    );
    assert!(!again.contains("bob"), "{again}");
    only_escaped(&again, "consent page after a failed login");
    assert_eq!(hidden_fields(&again)["state"], HOSTILE);

    // Out of band: the code page names the app, escaped, and shows the
    // code alone in its element.
    let (status, html, cookie) = pod
        .open(&authorize_url(&pod.base, &client_id, OOB), None)
        .await;
    assert_eq!(status, 200, "{html}");
    only_escaped(&html, "out-of-band consent page");
    assert!(!html.contains("You will be sent to"), "{html}");
    let r = pod
        .submit(
            &html,
            &cookie.expect("session"),
            &[
                ("username", USER),
                ("password", PASSWORD),
                ("decision", "approve"),
            ],
        )
        .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.expect("html");
    only_escaped(&page, "code page");
    let code = page
        .split("id=\"code\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("the code");
    assert!(
        code.len() > 20 && !code.contains('&'),
        "a bare code: {code}"
    );
}

#[tokio::test]
async fn the_personal_application_page_escapes_the_name() {
    let pod = common::start().await;
    let (status, html, cookie) = pod.open(&pod.url("/settings/applications/new"), None).await;
    assert_eq!(status, 200);
    let csrf = hidden_fields(&html)["csrf_token"].clone();
    let r = pod
        .http
        .post(pod.url("/settings/applications/new"))
        .header("cookie", cookie.expect("session"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("username", USER),
            ("password", PASSWORD),
            ("name", HOSTILE),
            ("scopes", "read"),
        ])
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 200);
    let page = r.text().await.expect("html");
    only_escaped(&page, "personal application created");
    assert!(page.contains("id=\"token\">"), "{page}");
}

#[tokio::test]
async fn every_page_keeps_its_security_headers() {
    let pod = common::start().await;
    for path in [
        "/settings/applications/new",
        "/oauth/authorize?client_id=nope",
    ] {
        let r = pod.http.get(pod.url(path)).send().await.expect("page");
        let h = r.headers();
        assert_eq!(h["content-type"], "text/html; charset=utf-8", "{path}");
        assert_eq!(h["cache-control"], "no-store", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(
            h["content-security-policy"],
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
            "{path}"
        );
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        let html = r.text().await.expect("html");
        assert!(html.starts_with("<!DOCTYPE html>"), "{path}: {html}");
    }
}
