//! Funkwhale's personal application tokens: the page and its API.

mod common;

use common::{PASSWORD, USER};
use serde_json::Value;

#[tokio::test]
async fn the_page_logs_in_and_shows_a_token_once() {
    let pod = common::start().await;
    let (status, html, cookie) = pod.open(&pod.url("/settings/applications/new"), None).await;
    assert_eq!(status, 200);
    let cookie = cookie.expect("session");
    let csrf = common::hidden_fields(&html)["csrf_token"].clone();
    let post = |fields: Vec<(&'static str, String)>| {
        let pod = &pod;
        let cookie = cookie.clone();
        async move {
            pod.http
                .post(pod.url("/settings/applications/new"))
                .header("cookie", cookie)
                .form(&fields)
                .send()
                .await
                .expect("post")
        }
    };
    // Without the CSRF token: refused.
    let r = post(vec![
        ("name", "x".into()),
        ("username", USER.into()),
        ("password", PASSWORD.into()),
    ])
    .await;
    assert_eq!(r.status(), 403);
    let r = post(vec![
        ("csrf_token", csrf.clone()),
        ("username", USER.into()),
        ("password", PASSWORD.into()),
        ("name", "my script".into()),
        ("scopes", "read:statuses".into()),
    ])
    .await;
    assert_eq!(r.status(), 200);
    let page = r.text().await.expect("html");
    let token = page
        .split("id=\"token\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .expect("token on the page")
        .to_owned();
    let v: Value = pod
        .http
        .get(pod.url("/api/v1/apps/verify_credentials"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(v["name"], "my script");
    assert_eq!(v["scopes"], serde_json::json!(["read:statuses"]));
}

#[tokio::test]
async fn the_api_needs_the_users_own_credentials_and_never_grants_admin_scopes() {
    let pod = common::start().await;
    let create = |user: &'static str, password: &'static str, scopes: &'static str| {
        let pod = &pod;
        async move {
            pod.http
                .post(pod.url("/api/v1/oauth/apps/personal"))
                .basic_auth(user, Some(password))
                .form(&[("name", "cli"), ("scopes", scopes)])
                .send()
                .await
                .expect("create")
        }
    };
    let r = create(USER, PASSWORD, "read admin:read").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert!(
        v["token"]
            .as_str()
            .is_some_and(|t| t.len() == oauth_server::secret::SECRET_LEN)
    );
    assert_eq!(v["scopes"], "read", "a non-admin user gets no admin scope");
    assert_eq!(create(USER, "wrong", "read").await.status(), 401);
    let r = pod
        .http
        .post(pod.url("/api/v1/oauth/apps/personal"))
        .bearer_auth(v["token"].as_str().expect("token"))
        .form(&[("name", "cli")])
        .send()
        .await
        .expect("create");
    assert_eq!(
        r.status(),
        401,
        "an access token cannot mint personal tokens"
    );
}
