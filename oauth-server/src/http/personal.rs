//! Funkwhale's personal application tokens: a logged-in user creates an
//! application for themself and receives an access token directly, on the
//! page `/settings/applications/new` or through its API equivalent
//! `POST /api/v1/oauth/apps/personal` (with the user's own credentials).

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};
use scope_runtime::{Scope, ScopeSet, requires_scope};
use serde_json::json;

use super::error::Rejection;
use super::login::Outcome;
use super::page::{Page, form_expired, with_cookie};
use super::params::Params;
use super::session::Visitor;
use super::{ClientAddr, HttpState};
use crate::flows::{AppRegistration, OAuthError};
use crate::primitives::Store;

/// The redirect URI of personal applications: they never redirect.
const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// `templates/personal_form.html`: the form of a new personal application.
#[derive(Template)]
#[template(path = "personal_form.html")]
struct FormPage<'a> {
    title: &'a str,
    message: Option<&'a str>,
    csrf: &'a str,
    login: bool,
}

/// `templates/personal_created.html`: the new application's token.
#[derive(Template)]
#[template(path = "personal_created.html")]
struct CreatedPage<'a> {
    title: &'a str,
    name: &'a str,
    scope: &'a str,
    token: &'a str,
}

fn form(csrf: &str, login_fields: bool, message: Option<&str>) -> Page {
    Page::new(
        StatusCode::OK,
        &FormPage {
            title: "New application",
            message,
            csrf,
            login: login_fields,
        },
    )
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
            &CreatedPage {
                title: "Application created",
                name: &app.record.name,
                scope: &token.scope,
                token: &token.access_token,
            },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_escapes_its_message_and_token() {
        let page = form("a\"b", true, Some("<script>alert(1)</script>"));
        let html = page.html();
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains(
            "<p class=\"error\" role=\"alert\">&#60;script&#62;alert(1)&#60;/script&#62;</p>"
        ));
        assert!(html.contains("<input type=\"hidden\" name=\"csrf_token\" value=\"a&#34;b\">"));
        assert!(html.contains("<label for=\"username\">Username</label>"));
        assert!(html.contains("<label for=\"name\">Application name</label>"));
        let without_login = form("t", false, None);
        assert!(!without_login.html().contains("name=\"password\""));
        assert!(!without_login.html().contains("role=\"alert\""));
    }
}
