//! A running authorization server on a loopback socket, with a user and
//! helpers to walk the consent page like a browser.
#![allow(dead_code, unreachable_pub)]

use std::collections::HashMap;

use oauth_server::config::Config;
use oauth_server::flows::AuthServer;
use oauth_server::primitives::Store;
use oauth_server::secret;
use oauth_server::store::{MemoryStore, SqliteStore};
use scope_hierarchies::MastodonScope;

pub const USER: &str = "alice";
pub const PASSWORD: &str = "correct horse battery staple";
pub const REDIRECT: &str = "https://app.example/callback";

pub struct Pod<St: Store> {
    pub base: String,
    pub server: AuthServer<MastodonScope, St>,
    pub http: reqwest::Client,
    task: tokio::task::JoinHandle<()>,
}

impl<St: Store> Drop for Pod<St> {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start_with<St: Store>(store: St, config: impl FnOnce(Config) -> Config) -> Pod<St> {
    let hash = secret::hash_password(PASSWORD).expect("hash");
    store.create_user(USER, &hash, false).await.expect("user");
    serve(store, config, None).await
}

/// Builds the enforcer a test server is served behind.
pub type MakeEnforcer<St> = Box<
    dyn FnOnce(&AuthServer<MastodonScope, St>) -> scope_runtime::enforce::Enforcer<MastodonScope>
        + Send,
>;

/// The server over `store` (users already in it) on a loopback socket,
/// behind `enforcer` if given (else `oauth_server::http::router`'s), served
/// with the peer's address as the binaries serve it.
pub async fn serve<St: Store>(
    store: St,
    config: impl FnOnce(Config) -> Config,
    enforcer: Option<MakeEnforcer<St>>,
) -> Pod<St> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let server = AuthServer::new(store, config(Config::new(base.clone())));
    let app: axum::Router = match enforcer {
        Some(enforcer) => oauth_server::http::router_with(server.clone(), &enforcer(&server)),
        None => oauth_server::http::router(server.clone()),
    };
    let task = tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Pod {
        base,
        server,
        http,
        task,
    }
}

pub async fn start() -> Pod<MemoryStore> {
    start_with(MemoryStore::new(), |c| c).await
}

pub async fn start_sqlite(dir: &tempfile::TempDir) -> Pod<SqliteStore> {
    let url = format!("sqlite://{}", dir.path().join("pod.db").display());
    start_with(SqliteStore::connect(&url).await.expect("sqlite"), |c| c).await
}

pub struct App {
    pub client_id: String,
    pub client_secret: String,
}

impl<St: Store> Pod<St> {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn register(&self, scopes: &str, redirect: &str) -> App {
        let r = self
            .http
            .post(self.url("/api/v1/apps"))
            .form(&[
                ("client_name", "test app"),
                ("redirect_uris", redirect),
                ("scopes", scopes),
                ("website", "https://app.example"),
            ])
            .send()
            .await
            .expect("register");
        assert_eq!(r.status(), 200);
        let v: serde_json::Value = r.json().await.expect("json");
        App {
            client_id: v["client_id"].as_str().expect("client_id").to_owned(),
            client_secret: v["client_secret"]
                .as_str()
                .expect("client_secret")
                .to_owned(),
        }
    }

    /// Opens the consent page; returns (status, html, session cookie).
    pub async fn open(
        &self,
        authorize_url: &str,
        cookie: Option<&str>,
    ) -> (u16, String, Option<String>) {
        let mut r = self.http.get(authorize_url);
        if let Some(c) = cookie {
            r = r.header("cookie", c);
        }
        let r = r.send().await.expect("authorize page");
        let status = r.status().as_u16();
        let cookie = set_cookie(&r).or_else(|| cookie.map(str::to_owned));
        (status, r.text().await.expect("html"), cookie)
    }

    /// Submits the consent form found in `html` with `extra` fields.
    pub async fn submit(
        &self,
        html: &str,
        cookie: &str,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut fields = hidden_fields(html);
        for (k, v) in extra {
            fields.insert((*k).to_owned(), (*v).to_owned());
        }
        self.http
            .post(self.url("/oauth/authorize"))
            .header("cookie", cookie)
            .form(&fields)
            .send()
            .await
            .expect("submit")
    }

    /// Logs in and approves; returns the redirect `Location`.
    pub async fn consent(&self, authorize_url: &str) -> String {
        let (status, html, cookie) = self.open(authorize_url, None).await;
        assert_eq!(status, 200, "{html}");
        let cookie = cookie.expect("session cookie");
        let r = self
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
        assert_eq!(r.status(), 303, "{:?}", r.text().await);
        r.headers()["location"]
            .to_str()
            .expect("location")
            .to_owned()
    }
}

pub fn set_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
}

/// The hidden inputs of the page's form.
pub fn hidden_fields(html: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for part in html.split("<input type=\"hidden\" ").skip(1) {
        let attr = |name: &str| {
            part.split(&format!("{name}=\""))
                .nth(1)?
                .split('"')
                .next()
                .map(unescape)
        };
        if let (Some(n), Some(v)) = (attr("name"), attr("value")) {
            out.insert(n, v);
        }
    }
    out
}

fn unescape(s: &str) -> String {
    // Named references and askama's numeric ones (`&#34;` `&#38;` `&#39;`
    // `&#60;` `&#62;`); `&` last, so that `&#38;lt;` stays `&lt;`.
    s.replace("&quot;", "\"")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

/// The value of query parameter `name` in `url`.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// An HTTP client whose connections come from `ip` (any of 127.0.0.0/8 on
/// Linux): another address than the default client's 127.0.0.1.
/// A PHC hash of `password` whose check takes about twenty times the
/// default's (argon2id, t = 40): for tests that must act while a check
/// runs, however fast the build's argon2 is.
pub fn slow_hash(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(19_456, 40, 1, None).expect("params");
    let salt = SaltString::encode_b64(b"a slow test salt").expect("salt");
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password(password.as_bytes(), &salt)
        .expect("hash")
        .to_string()
}

/// A client whose connections come from `ip` (a loopback address).
pub fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .local_address(ip.parse::<std::net::IpAddr>().expect("ip"))
        .build()
        .expect("client")
}

impl<St: Store> Pod<St> {
    /// A server the test serves itself at `base`.
    pub fn adopt(
        base: String,
        server: AuthServer<MastodonScope, St>,
        task: tokio::task::JoinHandle<()>,
    ) -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            base,
            server,
            http,
            task,
        }
    }

    /// The consent page through `http`; then a login with `password`
    /// through the same client. The status of the post.
    pub async fn login_from(
        &self,
        http: &reqwest::Client,
        url: &str,
        user: &str,
        password: &str,
    ) -> u16 {
        let r = http.get(url).send().await.expect("page");
        let cookie = set_cookie(&r).expect("cookie");
        let html = r.text().await.expect("html");
        let mut fields = hidden_fields(&html);
        for (k, v) in [
            ("username", user),
            ("password", password),
            ("decision", "approve"),
        ] {
            fields.insert(k.to_owned(), v.to_owned());
        }
        http.post(self.url("/oauth/authorize"))
            .header("cookie", cookie)
            .form(&fields)
            .send()
            .await
            .expect("submit")
            .status()
            .as_u16()
    }
}
