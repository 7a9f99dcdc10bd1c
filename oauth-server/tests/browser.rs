//! The login and consent page in a real browser: headless Chromium driven
//! through WebDriver (chromedriver) with `fantoccini`. `.ci/run` installs
//! Debian's `chromium` and `chromium-driver` and sets `REQUIRE_BROWSER=1`;
//! elsewhere the test says it is skipped when no chromedriver is found.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{PASSWORD, USER, query_param};
use fantoccini::{ClientBuilder, Locator};

struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn chromedriver() -> Option<String> {
    let path = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    std::path::Path::new(&path).exists().then_some(path)
}

#[tokio::test]
async fn log_in_and_consent_in_headless_chromium() {
    let Some(driver_path) = chromedriver() else {
        assert!(
            std::env::var_os("REQUIRE_BROWSER").is_none(),
            "REQUIRE_BROWSER is set but chromedriver is missing"
        );
        eprintln!(
            "skipped log_in_and_consent_in_headless_chromium: no chromedriver (apt-get install chromium chromium-driver)"
        );
        return;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let _driver = Driver(
        Command::new(driver_path)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver"),
    );

    let pod = common::start().await;
    let callback = format!("{}/callback", pod.base);
    let app = pod.register("read write follow", &callback).await;
    let url = format!(
        "{}/oauth/authorize?response_type=code&client_id={}&redirect_uri={}&scope=read%20write%3Astatuses%20follow&state=from-the-browser",
        pod.base,
        app.client_id,
        form_urlencoded::byte_serialize(callback.as_bytes()).collect::<String>()
    );

    let profile = tempfile::tempdir().expect("profile dir");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        serde_json::json!({
            "binary": std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into()),
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=900,1000",
                format!("--user-data-dir={}", profile.path().display()),
            ],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let mut browser = None;
    for _ in 0..50 {
        match ClientBuilder::new(connector.clone())
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => {
                browser = Some(c);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
    let browser = browser.expect("chromedriver answered");

    browser.goto(&url).await.expect("open the consent page");
    let page = browser.source().await.expect("source");
    assert!(page.contains("test app"), "the app is named");
    assert!(page.contains("read:statuses") || page.contains("write:statuses"));
    assert!(
        page.contains("modify account relationships"),
        "scope descriptions are shown"
    );
    assert!(page.contains("(deprecated)"), "follow is marked deprecated");

    browser
        .find(Locator::Id("username"))
        .await
        .expect("username field")
        .send_keys(USER)
        .await
        .expect("type");
    browser
        .find(Locator::Id("password"))
        .await
        .expect("password field")
        .send_keys(PASSWORD)
        .await
        .expect("type");
    let shot = browser.screenshot().await.expect("screenshot");
    let target =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/consent-page.png");
    let _ = std::fs::write(&target, shot);

    browser
        .find(Locator::Css("button.approve"))
        .await
        .expect("approve button")
        .click()
        .await
        .expect("click");
    let mut landed = String::new();
    for _ in 0..50 {
        landed = browser.current_url().await.expect("url").to_string();
        if landed.starts_with(&callback) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    browser.close().await.expect("close");

    assert!(
        landed.starts_with(&callback),
        "redirected to the app: {landed}"
    );
    assert_eq!(
        query_param(&landed, "state").as_deref(),
        Some("from-the-browser")
    );
    let code = query_param(&landed, "code").expect("code in the redirect");
    let r = pod
        .http
        .post(pod.url("/oauth/token"))
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &callback),
        ])
        .send()
        .await
        .expect("token");
    assert_eq!(r.status(), 200);
}
