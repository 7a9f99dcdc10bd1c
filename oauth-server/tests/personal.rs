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
async fn the_api_cannot_widen_the_callers_scopes() {
    let pod = common::start().await;
    let app = pod.register("read write", common::REDIRECT).await;
    let location = pod
        .consent(&format!(
            "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=read",
            pod.base,
            app.client_id,
            form_urlencoded::byte_serialize(common::REDIRECT.as_bytes()).collect::<String>()
        ))
        .await;
    let code = common::query_param(&location, "code").expect("code");
    let t: Value = pod
        .http
        .post(pod.url("/oauth/token"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", common::REDIRECT),
        ])
        .send()
        .await
        .expect("token")
        .json()
        .await
        .expect("json");
    let user_token = t["access_token"].as_str().expect("token");
    let create = |scopes: &'static str| {
        let pod = &pod;
        async move {
            pod.http
                .post(pod.url("/api/v1/oauth/apps/personal"))
                .bearer_auth(user_token)
                .form(&[("name", "cli"), ("scopes", scopes)])
                .send()
                .await
                .expect("create")
        }
    };
    let r = create("read:statuses").await;
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert!(v["token"].as_str().is_some_and(|t| t.len() == 43));
    assert_eq!(
        create("write").await.status(),
        403,
        "a read token cannot mint write"
    );
    let r = pod
        .http
        .post(pod.url("/api/v1/oauth/apps/personal"))
        .form(&[("name", "cli")])
        .send()
        .await
        .expect("create");
    assert_eq!(r.status(), 401);
}
