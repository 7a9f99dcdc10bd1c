//! The login and consent page (`GET`/`POST /oauth/authorize`): server
//! rendered, no JavaScript, CSRF-protected, framing forbidden, session in
//! an `HttpOnly; SameSite=Lax` cookie ([`session`](super::session)), failed
//! logins limited per account and address ([`login`](super::login)).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, StatusCode};
use scope_runtime::{Scope, requires_scope};

use super::login::Outcome;
use super::params::Params;
use super::session::Visitor;
use super::{ClientAddr, HttpState};
use crate::flows::{AuthorizeRequest, OAuthError, ValidAuthorization};
use crate::primitives::Store;

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
}

impl Page {
    pub(crate) fn new(status: StatusCode, title: &str, body: String) -> Self {
        Self {
            status,
            title: title.to_owned(),
            body,
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

/// The form expired, was not sent from our page, or lost its cookie.
pub(crate) fn form_expired() -> Response {
    Page::error(&OAuthError {
        status: StatusCode::FORBIDDEN,
        ..OAuthError::invalid_request(
            "the form expired or was not sent from this page; reload it and try again",
        )
    })
    .into_response()
}

/// `response` with the visitor's cookie if it is new.
pub(crate) fn with_cookie(visitor: &Visitor, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    visitor.set_cookie(&mut response);
    response
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
    let visitor = match Visitor::of(state.server.store(), &headers, state.secure_cookies()).await {
        Ok(v) => v,
        Err(e) => return Page::error(&e).into_response(),
    };
    let logged_in = visitor.user.is_some() && !req.force_login();
    let page = consent_page(&auth, &req, &visitor.csrf(), !logged_in, None);
    with_cookie(&visitor, page)
}

/// `POST /oauth/authorize`: login and/or decision.
#[requires_scope(public, throttle = "oauth-authorize")]
pub(crate) async fn decide<S: Scope, St: Store>(
    State(state): State<HttpState<S, St>>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let mut visitor =
        match Visitor::of(state.server.store(), &headers, state.secure_cookies()).await {
            Ok(v) => v,
            Err(e) => return Page::error(&e).into_response(),
        };
    if !visitor.has_cookie() || !visitor.csrf_matches(params.get("csrf_token")) {
        return form_expired();
    }
    let csrf = visitor.csrf();
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

    let user_id = match (params.get("username"), params.get("password")) {
        (Some(username), Some(password)) => {
            let again = |message: &str, status: StatusCode| {
                let mut page = consent_page(&auth, &req, &csrf, true, Some(message));
                page.status = status;
                page.into_response()
            };
            match state
                .logins
                .attempt(&state.server, addr, username, password)
                .await
            {
                Ok(Outcome::Success(id)) => {
                    // A new session id at login (no session fixation).
                    if let Err(e) = visitor.log_in(state.server.store(), id).await {
                        return Page::error(&e).into_response();
                    }
                    id
                }
                Ok(Outcome::Wrong) => {
                    return again("Wrong username or password.", StatusCode::UNAUTHORIZED);
                }
                Ok(Outcome::TooMany(message)) => {
                    return again(message, StatusCode::TOO_MANY_REQUESTS);
                }
                Err(e) => return Page::error(&e).into_response(),
            }
        }
        _ => match visitor.user {
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
        // The session a login just made still reaches the browser.
        Err(e) => return with_cookie(&visitor, Page::error(&e)),
    };
    let response = if auth.is_oob() {
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
    with_cookie(&visitor, response)
}
