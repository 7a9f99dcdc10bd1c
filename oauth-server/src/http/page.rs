//! The login and consent page (`GET`/`POST /oauth/authorize`): server
//! rendered, no JavaScript, CSRF-protected, framing forbidden, session in
//! an `HttpOnly; SameSite=Lax` cookie ([`session`](super::session)), failed
//! logins limited per account and address ([`login`](super::login)).

use askama::Template;
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

/// An HTML page of the authorization server, with the headers every such
/// page carries. The HTML comes from the askama templates in
/// `oauth-server/templates/` (checked at compile time, every value
/// HTML-escaped).
pub(crate) struct Page {
    pub(crate) status: StatusCode,
    html: String,
}

impl Page {
    /// `template` rendered, answered with `status`.
    pub(crate) fn new(status: StatusCode, template: &impl Template) -> Self {
        match template.render() {
            Ok(html) => Self { status, html },
            // Only a value's `Display` can fail, and ours (strings,
            // numbers) do not: still an answer rather than a panic.
            Err(e) => {
                tracing::error!("a page failed to render: {e}");
                Self {
                    status: StatusCode::INTERNAL_SERVER_ERROR,
                    html: "<!DOCTYPE html>\n<title>Server error</title><p>The page failed to render.</p>\n"
                        .into(),
                }
            }
        }
    }

    /// The page's HTML.
    #[cfg(test)]
    pub(crate) fn html(&self) -> &str {
        &self.html
    }

    pub(crate) fn error(e: &OAuthError) -> Self {
        Self::new(
            e.status,
            &ErrorPage {
                title: "Authorization error",
                code: e.code,
                description: &e.description,
            },
        )
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.html).into_response();
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

/// `templates/error.html`: a refused request.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    code: &'a str,
    description: &'a str,
}

/// One line of the consent page's scope list.
struct ScopeLine<'a> {
    name: &'a str,
    description: &'a str,
    deprecated: bool,
}

/// `templates/consent.html`: the login and consent page.
#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage<'a> {
    title: &'a str,
    message: Option<&'a str>,
    client_name: &'a str,
    scopes: Vec<ScopeLine<'a>>,
    /// The hidden inputs, in order: name, value.
    hidden: Vec<(&'static str, &'a str)>,
    login: bool,
    /// Where the browser goes next (none out of band).
    redirect_uri: Option<&'a str>,
}

/// `templates/code.html`: the out-of-band code.
#[derive(Template)]
#[template(path = "code.html")]
struct CodePage<'a> {
    title: &'a str,
    client_name: &'a str,
    code: &'a str,
}

fn hidden_fields<'a>(req: &'a AuthorizeRequest, csrf: &'a str) -> Vec<(&'static str, &'a str)> {
    [
        ("csrf_token", Some(csrf)),
        ("response_type", req.response_type.as_deref()),
        ("client_id", req.client_id.as_deref()),
        ("redirect_uri", req.redirect_uri.as_deref()),
        ("scope", req.scope.as_deref()),
        ("state", req.state.as_deref()),
        ("code_challenge", req.code_challenge.as_deref()),
        (
            "code_challenge_method",
            req.code_challenge_method.as_deref(),
        ),
        ("force_login", req.force_login.as_deref()),
    ]
    .into_iter()
    .filter_map(|(name, value)| Some((name, value?)))
    .collect()
}

fn consent_page<S: Scope>(
    auth: &ValidAuthorization<S>,
    req: &AuthorizeRequest,
    csrf: &str,
    login: bool,
    message: Option<&str>,
) -> Page {
    let scopes = auth
        .scopes
        .iter()
        .map(|scope| {
            let info = scope.info();
            ScopeLine {
                name: info.name(),
                description: info.description(),
                deprecated: info.deprecated().is_some(),
            }
        })
        .collect();
    Page::new(
        StatusCode::OK,
        &ConsentPage {
            title: "Authorize application",
            message,
            client_name: &auth.client.name,
            scopes,
            hidden: hidden_fields(req, csrf),
            login,
            redirect_uri: (!auth.is_oob()).then_some(auth.redirect_uri.as_str()),
        },
    )
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
            &CodePage {
                title: "Authorization code",
                client_name: &auth.client.name,
                code: &code,
            },
        )
        .into_response()
    } else {
        // 303: the browser follows with a GET.
        Redirect::to(&auth.redirect_with(&[("code", &code)])).into_response()
    };
    with_cookie(&visitor, response)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"'&";
    const ESCAPED: &str = "&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;";

    fn only_escaped(page: &Page) {
        assert!(!page.html.contains("<script>"), "{}", page.html);
        assert!(page.html.contains(ESCAPED), "{}", page.html);
    }

    #[test]
    fn error_pages_escape_the_code_and_description() {
        let page = Page::error(&OAuthError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_request",
            description: HOSTILE.into(),
        });
        assert_eq!(page.status, StatusCode::BAD_REQUEST);
        only_escaped(&page);
        assert!(
            page.html
                .contains("<p class=\"error\"><strong>invalid_request</strong>: "),
            "{}",
            page.html
        );
        assert!(page.html.contains("<title>Authorization error</title>"));
    }

    #[test]
    fn the_consent_page_escapes_every_value_and_keeps_its_form() {
        let page = Page::new(
            StatusCode::OK,
            &ConsentPage {
                title: "Authorize application",
                message: Some(HOSTILE),
                client_name: HOSTILE,
                scopes: vec![ScopeLine {
                    name: "read",
                    description: "read <all>",
                    deprecated: true,
                }],
                hidden: vec![("csrf_token", "t0k"), ("state", HOSTILE)],
                login: true,
                redirect_uri: Some(HOSTILE),
            },
        );
        let html = &page.html;
        only_escaped(&page);
        // The alert, the hidden inputs in the form the bench's regular
        // expression reads, the login fields with their labels, the scope
        // line with its description.
        assert!(html.contains(&format!("<p class=\"error\" role=\"alert\">{ESCAPED}</p>")));
        assert!(html.contains("<input type=\"hidden\" name=\"csrf_token\" value=\"t0k\">"));
        assert!(html.contains(&format!(
            "<input type=\"hidden\" name=\"state\" value=\"{ESCAPED}\">"
        )));
        assert!(html.contains("<form method=\"post\" action=\"/oauth/authorize\">"));
        assert!(html.contains("<label for=\"username\">Username</label>"));
        assert!(html.contains("<label for=\"password\">Password</label>"));
        assert!(html.contains(
            "<li><code>read</code>: read &#60;all&#62; <span class=\"deprecated\">(deprecated)</span></li>"
        ));
        assert!(html.contains(&format!("You will be sent to <code>{ESCAPED}</code>")));
        assert_eq!(html.matches(ESCAPED).count(), 4, "{html}");
    }

    #[test]
    fn the_code_page_shows_the_code_alone() {
        let page = Page::new(
            StatusCode::OK,
            &CodePage {
                title: "Authorization code",
                client_name: HOSTILE,
                code: "abc",
            },
        );
        only_escaped(&page);
        assert!(page.html.contains("<p class=\"code\" id=\"code\">abc</p>"));
    }
}
