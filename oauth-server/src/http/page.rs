//! The login and consent page (`GET`/`POST /oauth/authorize`): server
//! rendered, no JavaScript, CSRF-protected, framing forbidden, session in
//! an `HttpOnly; SameSite=Lax` cookie, failed logins rate-limited.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode};
use scope_runtime::{Scope, requires_scope};
use subtle::ConstantTimeEq;

use super::HttpState;
use super::params::Params;
use crate::flows::{AuthServer, AuthorizeRequest, OAuthError, ValidAuthorization};
use crate::primitives::Store;
use crate::secret::{self, SecretHash};

const COOKIE_NAME: &str = "oauth_session";
const SESSION_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const MAX_SESSIONS: usize = 100_000;
const LOGIN_WINDOW: Duration = Duration::from_secs(300);
const LOGIN_FAILURES: u32 = 5;
/// Accounts whose attempts are tracked at once.
const MAX_TRACKED_LOGINS: usize = 100_000;
/// Password checks running at once (argon2 takes ~19 MiB and a core each).
static PASSWORD_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

struct Session {
    user_id: Option<i64>,
    csrf: String,
    until: Instant,
}

/// Browser sessions of the consent page, in memory, keyed by the hash of
/// the cookie value.
#[derive(Default)]
pub(crate) struct Sessions {
    map: Mutex<HashMap<SecretHash, Session>>,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<SecretHash, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The session of the request's cookie, if live: `(user, csrf)`.
    pub(crate) fn get(&self, headers: &HeaderMap) -> Option<(SecretHash, Option<i64>, String)> {
        let id = cookie(headers)?;
        let key = SecretHash::of(&id);
        let map = self.lock();
        let s = map.get(&key).filter(|s| s.until > Instant::now())?;
        Some((key, s.user_id, s.csrf.clone()))
    }

    /// A new session; returns its cookie value and CSRF token.
    pub(crate) fn create(&self, user_id: Option<i64>) -> Result<(String, String), OAuthError> {
        let id = secret::generate()?;
        let csrf = secret::generate()?;
        let mut map = self.lock();
        if map.len() >= MAX_SESSIONS {
            let now = Instant::now();
            map.retain(|_, s| s.until > now);
        }
        if map.len() >= MAX_SESSIONS {
            return Err(OAuthError::unavailable());
        }
        {
            map.insert(
                SecretHash::of(&id),
                Session {
                    user_id,
                    csrf: csrf.clone(),
                    until: Instant::now() + SESSION_LIFETIME,
                },
            );
        }
        Ok((id, csrf))
    }

    fn remove(&self, key: &SecretHash) {
        self.lock().remove(key);
    }

    /// Counts a login attempt for `username` and says whether it may
    /// proceed: at most `LOGIN_FAILURES` attempts in `LOGIN_WINDOW` until one
    /// succeeds. Counting before the password is checked means concurrent
    /// guesses cannot slip past the limit.
    pub(crate) fn may_try(&self, username: &str) -> bool {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED_LOGINS {
            map.retain(|_, (_, since)| since.elapsed() <= LOGIN_WINDOW);
            if map.len() >= MAX_TRACKED_LOGINS {
                // Under a flood of names, refuse rather than grow.
                return false;
            }
        }
        let entry = map
            .entry(username.to_owned())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() > LOGIN_WINDOW {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        entry.0 <= LOGIN_FAILURES
    }

    /// A successful login clears the account's count.
    pub(crate) fn succeeded(&self, username: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(username);
    }
}

fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.to_owned())
}

pub(crate) fn set_cookie(id: &str, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={id}; Path=/; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// An HTML page of the authorization server, with the headers every such
/// page carries.
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    title: String,
    body: String,
    pub(crate) cookie: Option<HeaderValue>,
}

impl Page {
    pub(crate) fn new(status: StatusCode, title: &str, body: String) -> Self {
        Self {
            status,
            title: title.to_owned(),
            body,
            cookie: None,
        }
    }

    pub(crate) fn error(e: &OAuthError) -> Self {
        Self::new(
            e.status,
            "Authorization error",
            format!(
                "<p class=\"error\"><strong>{}</strong>: {}</p>",
                escape(e.code),
                escape(&e.description)
            ),
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let html = format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>{STYLE}</style></head>\
             <body><main><h1>{title}</h1>{body}</main></body></html>\n",
            title = escape(&self.title),
            body = self.body,
        );
        let mut response = (self.status, html).into_response();
        let h = response.headers_mut();
        h.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert("x-frame-options", HeaderValue::from_static("DENY"));
        h.insert(
            "content-security-policy",
            HeaderValue::from_static(
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
            ),
        );
        h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        if let Some(cookie) = self.cookie {
            h.insert(SET_COOKIE, cookie);
        }
        response
    }
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f4f4f7;margin:0}\
main{max-width:32rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;\
box-shadow:0 1px 4px rgba(0,0,0,.15)}h1{font-size:1.4rem;margin-top:0}\
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.3rem 0}code{background:#eee;padding:0 .2rem}\
label{display:block;margin:.6rem 0 .2rem}input[type=text],input[type=password]{width:100%;\
padding:.5rem;box-sizing:border-box}.actions{margin-top:1.2rem;display:flex;gap:.8rem}\
button{padding:.6rem 1.2rem;font-size:1rem;cursor:pointer}button.approve{background:#2b6cb0;\
color:#fff;border:0;border-radius:4px}.error{color:#b00020}.deprecated{color:#8a6d3b}\
.code{font-size:1.3rem;word-break:break-all;background:#eee;padding:.6rem}";

fn hidden_fields(req: &AuthorizeRequest, csrf: &str) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: Option<&str>| {
        if let Some(v) = value {
            out.push_str(&format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(v)
            ));
        }
    };
    field("csrf_token", Some(csrf));
    field("response_type", req.response_type.as_deref());
    field("client_id", req.client_id.as_deref());
    field("redirect_uri", req.redirect_uri.as_deref());
    field("scope", req.scope.as_deref());
    field("state", req.state.as_deref());
    field("code_challenge", req.code_challenge.as_deref());
    field(
        "code_challenge_method",
        req.code_challenge_method.as_deref(),
    );
    field("force_login", req.force_login.as_deref());
    out
}

fn consent_page<S: Scope>(
    auth: &ValidAuthorization<S>,
    req: &AuthorizeRequest,
    csrf: &str,
    login: bool,
    message: Option<&str>,
) -> Page {
    let mut body = String::new();
    if let Some(m) = message {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(m)
        ));
    }
    body.push_str(&format!(
        "<p><strong>{}</strong> asks for access to your account:</p><ul class=\"scopes\">",
        escape(&auth.client.name)
    ));
    for scope in auth.scopes.iter() {
        let info = scope.info();
        let description = if info.description().is_empty() {
            String::new()
        } else {
            format!(": {}", escape(info.description()))
        };
        let deprecated = if info.deprecated().is_some() {
            " <span class=\"deprecated\">(deprecated)</span>"
        } else {
            ""
        };
        body.push_str(&format!(
            "<li><code>{}</code>{description}{deprecated}</li>",
            escape(info.name())
        ));
    }
    body.push_str("</ul><form method=\"post\" action=\"/oauth/authorize\">");
    body.push_str(&hidden_fields(req, csrf));
    if login {
        body.push_str(
            "<label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>",
        );
    }
    body.push_str(
        "<div class=\"actions\"><button class=\"approve\" type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button></div></form>",
    );
    if !auth.is_oob() {
        body.push_str(&format!(
            "<p><small>You will be sent to <code>{}</code>.</small></p>",
            escape(&auth.redirect_uri)
        ));
    }
    Page::new(StatusCode::OK, "Authorize application", body)
}

fn request_from(params: &Params) -> AuthorizeRequest {
    AuthorizeRequest {
        response_type: params.owned("response_type"),
        client_id: params.owned("client_id"),
        redirect_uri: params.owned("redirect_uri"),
        scope: params.owned("scope"),
        state: params.owned("state"),
        code_challenge: params.owned("code_challenge"),
        code_challenge_method: params.owned("code_challenge_method"),
        force_login: params.owned("force_login"),
    }
}

/// A refused request, on our page (see [`AuthServer::check_authorize`]).
fn refused(e: &OAuthError) -> Response {
    Page::error(e).into_response()
}

/// `GET /oauth/authorize`.
#[requires_scope(public, throttle = "oauth-authorize")]
pub(crate) async fn show<S: Scope, St: Store>(
    State(state): State<HttpState<S, St>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    // Parsed like a form, so a repeated parameter is an OAuth error on our
    // page rather than an extractor's plain-text rejection.
    let params = match Params::from_form(query.unwrap_or_default().as_bytes()) {
        Ok(p) => p,
        Err(e) => return Page::error(&e).into_response(),
    };
    let req = request_from(&params);
    let auth = match state.server.check_authorize(&req).await {
        Ok(auth) => auth,
        Err(e) => return refused(&e),
    };
    let (csrf, logged_in, cookie) = match state.sessions.get(&headers) {
        Some((_, user, csrf)) => (csrf, user.is_some() && !req.force_login(), None),
        None => match state.sessions.create(None) {
            Ok((id, csrf)) => (csrf, false, Some(set_cookie(&id, state.secure_cookies()))),
            Err(e) => return Page::error(&e).into_response(),
        },
    };
    let mut page = consent_page(&auth, &req, &csrf, !logged_in, None);
    page.cookie = cookie;
    page.into_response()
}

/// `POST /oauth/authorize`: login and/or decision.
#[requires_scope(public, throttle = "oauth-authorize")]
pub(crate) async fn decide<S: Scope, St: Store>(
    State(state): State<HttpState<S, St>>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let forbidden = || {
        Page::error(&OAuthError {
            status: StatusCode::FORBIDDEN,
            ..OAuthError::invalid_request(
                "the form expired or was not sent from this page; reload it and try again",
            )
        })
        .into_response()
    };
    let Some((key, user, csrf)) = state.sessions.get(&headers) else {
        return forbidden();
    };
    let sent = params.get("csrf_token").unwrap_or_default();
    if !bool::from(sent.as_bytes().ct_eq(csrf.as_bytes())) {
        return forbidden();
    }
    let req = request_from(&params);
    // Never trust the hidden fields: validate again.
    let auth = match state.server.check_authorize(&req).await {
        Ok(auth) => auth,
        Err(e) => return refused(&e),
    };
    if params.get("decision") == Some("deny") {
        let denied = OAuthError {
            status: StatusCode::FORBIDDEN,
            code: "access_denied",
            description: "The resource owner denied the request.".into(),
        };
        return if auth.is_oob() {
            Page::error(&denied).into_response()
        } else {
            Redirect::to(&auth.redirect_with(&[
                ("error", "access_denied"),
                ("error_description", &denied.description),
            ]))
            .into_response()
        };
    }

    let mut new_cookie = None;
    let user_id = match (params.get("username"), params.get("password")) {
        (Some(username), Some(password)) => {
            if !state.sessions.may_try(username) {
                let mut page = consent_page(
                    &auth,
                    &req,
                    &csrf,
                    true,
                    Some("Too many failed logins; wait a few minutes."),
                );
                page.status = StatusCode::TOO_MANY_REQUESTS;
                return page.into_response();
            }
            match login(&state.server, username, password).await {
                Ok(Some(id)) => {
                    state.sessions.succeeded(username);
                    // A new session id at login (no session fixation).
                    state.sessions.remove(&key);
                    match state.sessions.create(Some(id)) {
                        Ok((cookie_id, _)) => {
                            new_cookie = Some(set_cookie(&cookie_id, state.secure_cookies()))
                        }
                        Err(e) => return Page::error(&e).into_response(),
                    }
                    id
                }
                Ok(None) => {
                    tracing::info!("failed login");
                    let mut page = consent_page(
                        &auth,
                        &req,
                        &csrf,
                        true,
                        Some("Wrong username or password."),
                    );
                    page.status = StatusCode::UNAUTHORIZED;
                    return page.into_response();
                }
                Err(e) => return Page::error(&e).into_response(),
            }
        }
        _ => match user {
            // `force_login`: the session alone does not do.
            Some(_) if req.force_login() => {
                return consent_page(&auth, &req, &csrf, true, Some("Log in again to authorize."))
                    .into_response();
            }
            Some(id) => id,
            None => {
                return consent_page(&auth, &req, &csrf, true, Some("Log in to authorize."))
                    .into_response();
            }
        },
    };

    let code = match state.server.issue_code(&auth, user_id).await {
        Ok(code) => code,
        Err(e) => return Page::error(&e).into_response(),
    };
    let mut response = if auth.is_oob() {
        Page::new(
            StatusCode::OK,
            "Authorization code",
            format!(
                "<p>Copy this code into <strong>{}</strong>:</p><p class=\"code\" id=\"code\">{}</p>",
                escape(&auth.client.name),
                escape(&code)
            ),
        )
        .into_response()
    } else {
        // 303: the browser follows with a GET.
        Redirect::to(&auth.redirect_with(&[("code", &code)])).into_response()
    };
    if let Some(cookie) = new_cookie {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

pub(crate) async fn login<S: Scope, St: Store>(
    server: &AuthServer<S, St>,
    username: &str,
    password: &str,
) -> Result<Option<i64>, OAuthError> {
    let user = server.store().user_by_name(username).await?;
    // Verify against a fixed hash for unknown users too: same cost, no
    // username oracle.
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$Qmxl8V6Qm4fAhdZIEJMuxaBrdLn2gzsQ5yAbs8a8Rj8";
    let hash = user
        .as_ref()
        .map_or(DUMMY.to_owned(), |u| u.password_hash.clone());
    let password = password.to_owned();
    let _permit = PASSWORD_CHECKS
        .acquire()
        .await
        .map_err(|_| OAuthError::unavailable())?;
    let ok = tokio::task::spawn_blocking(move || secret::verify_password(&password, &hash))
        .await
        .unwrap_or(false);
    Ok(user.filter(|_| ok).map(|u| u.id))
}
