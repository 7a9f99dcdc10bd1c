//! Funkwhale's personal application tokens: a logged-in user creates an
//! application for themself and receives an access token directly, on the
//! page `/settings/applications/new` or through its API equivalent
//! `POST /api/v1/oauth/apps/personal` (with the user's own credentials).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use scope_runtime::{Scope, ScopeSet, requires_scope};
use serde_json::json;

use super::error::Rejection;
use super::login::Outcome;
use super::page::{Page, escape, form_expired, with_cookie};
use super::params::Params;
use super::session::Visitor;
use super::{ClientAddr, HttpState};
use crate::flows::{AppRegistration, OAuthError};
use crate::primitives::Store;

/// The redirect URI of personal applications: they never redirect.
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

fn form(csrf: &str, login_fields: bool, message: Option<&str>) -> Page {
    let mut body = String::new();
    if let Some(m) = message {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(m)
        ));
    }
    body.push_str(
        "<p>Create an application for yourself and get an access token for it at once.</p>\
         <form method=\"post\" action=\"/settings/applications/new\">",
    );
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"csrf_token\" value=\"{}\">",
        escape(csrf)
    ));
    if login_fields {
        body.push_str(
            "<label for=\"username\">Username</label>\
             <input type=\"text\" id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label>\
             <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"current-password\" required>",
        );
    }
    body.push_str(
        "<label for=\"name\">Application name</label>\
         <input type=\"text\" id=\"name\" name=\"name\" required>\
         <label for=\"scopes\">Scopes (space separated)</label>\
         <input type=\"text\" id=\"scopes\" name=\"scopes\" value=\"read\">\
         <div class=\"actions\"><button class=\"approve\" type=\"submit\">Create</button></div></form>",
    );
    Page::new(StatusCode::OK, "New application", body)
}

/// `GET /settings/applications/new`.
#[requires_scope(public)]
pub(crate) async fn show<S: Scope, St: Store>(
    State(state): State<HttpState<S, St>>,
    headers: HeaderMap,
) -> Response {
    match Visitor::of(state.server.store(), &headers, state.secure_cookies()).await {
        Ok(visitor) => {
            let page = form(&visitor.csrf(), visitor.user.is_none(), None);
            with_cookie(&visitor, page)
        }
        Err(e) => Page::error(&e).into_response(),
    }
}

/// `POST /settings/applications/new`.
#[requires_scope(public, throttle = "oauth-app")]
pub(crate) async fn create<S: Scope, St: Store>(
    State(state): State<HttpState<S, St>>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let visitor = match Visitor::of(state.server.store(), &headers, state.secure_cookies()).await {
        Ok(v) => v,
        Err(e) => return Page::error(&e).into_response(),
    };
    if !visitor.has_cookie() || !visitor.csrf_matches(params.get("csrf_token")) {
        return form_expired();
    }
    let csrf = visitor.csrf();
    let user_id = match (visitor.user, params.get("username"), params.get("password")) {
        (Some(id), _, _) => id,
        (None, Some(username), Some(password)) => {
            match state
                .logins
                .attempt(&state.server, addr, username, password)
                .await
            {
                Ok(Outcome::Success(id)) => id,
                Ok(Outcome::Wrong) => {
                    let mut page = form(&csrf, true, Some("Wrong username or password."));
                    page.status = StatusCode::UNAUTHORIZED;
                    return page.into_response();
                }
                Ok(Outcome::TooMany(message)) => {
                    let mut page = form(&csrf, true, Some(message));
                    page.status = StatusCode::TOO_MANY_REQUESTS;
                    return page.into_response();
                }
                Err(e) => return Page::error(&e).into_response(),
            }
        }
        _ => return form(&csrf, true, Some("Log in first.")).into_response(),
    };
    let app = AppRegistration {
        client_name: params.owned("name").unwrap_or_default(),
        redirect_uris: vec![OOB.into()],
        scopes: params.owned("scopes"),
        website: None,
    };
    match state.server.personal_token(user_id, app).await {
        Ok((app, token)) => Page::new(
            StatusCode::OK,
            "Application created",
            format!(
                "<p>Access token of <strong>{}</strong> (scopes <code>{}</code>). It is shown once:</p>\
                 <p class=\"code\" id=\"token\">{}</p>",
                escape(&app.record.name),
                escape(&token.scope),
                escape(&token.access_token)
            ),
        )
        .into_response(),
        Err(e) => form(&csrf, false, Some(&e.description)).into_response(),
    }
}

/// `POST /api/v1/oauth/apps/personal`: the API equivalent, authenticated by
/// the user's own credentials (HTTP Basic `username:password`, limited like
/// the page's logins), as Funkwhale's session or basic authentication: a
/// token of some app cannot mint tokens that would outlive its revocation.
#[requires_scope(public, throttle = "oauth-app")]
pub(crate) async fn create_api<S: Scope, St: Store>(
    State(state): State<HttpState<S, St>>,
    ClientAddr(addr): ClientAddr,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let unauthorized = || {
        (
            StatusCode::UNAUTHORIZED,
            [(http::header::WWW_AUTHENTICATE, "Basic realm=\"personal applications\"")],
            Json(json!({ "error": "invalid_client", "error_description": "the user's username and password are required" })),
        )
            .into_response()
    };
    let Some(Ok((username, password))) = super::params::basic_auth(&headers) else {
        return unauthorized();
    };
    let user_id = match state
        .logins
        .attempt(&state.server, addr, &username, &password)
        .await
    {
        Ok(Outcome::Success(id)) => id,
        Ok(Outcome::Wrong) => return unauthorized(),
        Ok(Outcome::TooMany(message)) => {
            return Rejection(OAuthError {
                status: StatusCode::TOO_MANY_REQUESTS,
                ..OAuthError::invalid_request(message)
            })
            .into_response();
        }
        Err(e) => return Rejection(e).into_response(),
    };
    let asked = match ScopeSet::<S>::parse_requested(params.get("scopes").unwrap_or_default()) {
        Ok(s) => s,
        Err(_) => return Rejection(OAuthError::invalid_scope()).into_response(),
    };
    let app = AppRegistration {
        client_name: params.owned("name").unwrap_or_default(),
        redirect_uris: vec![OOB.into()],
        scopes: Some(asked.to_string()),
        website: None,
    };
    match state.server.personal_token(user_id, app).await {
        Ok((app, token)) => Json(json!({
            "client_id": app.record.client_id,
            "client_secret": app.client_secret,
            "name": app.record.name,
            "scopes": token.scope,
            "token": token.access_token,
        }))
        .into_response(),
        Err(e) => Rejection(e).into_response(),
    }
}
