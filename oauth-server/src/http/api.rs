//! JSON endpoints: app registration, token, revocation, introspection,
//! metadata, JWKS.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::header::CACHE_CONTROL;
use http::{HeaderMap, HeaderValue};
use scope_runtime::Principal;
use scope_runtime::enforce::AuthError;
use scope_runtime::{Scope, requires_scope};
use serde_json::{Value, json};

use super::error::Rejection;
use super::params::{Params, client_credentials};
use crate::flows::{AppRegistration, AuthServer, OAuthError, RegisteredApp, TokenRequest};
use crate::primitives::Store;

fn registration(params: &Params, name_field: &str) -> AppRegistration {
    AppRegistration {
        client_name: params.owned(name_field).unwrap_or_default(),
        redirect_uris: params.owned("redirect_uris").into_iter().collect(),
        scopes: params.owned("scopes"),
        website: params.owned("website"),
    }
}

/// Mastodon's Application entity.
fn application(app: &RegisteredApp) -> Value {
    let r = &app.record;
    json!({
        "id": r.id.to_string(),
        "name": r.name,
        "website": r.website,
        "scopes": r.scopes.split(' ').collect::<Vec<_>>(),
        "redirect_uri": r.redirect_uris.join("\n"),
        "redirect_uris": r.redirect_uris,
        "client_id": r.client_id,
        "client_secret": app.client_secret,
        "client_secret_expires_at": 0,
        "vapid_key": "",
    })
}

/// `POST /api/v1/apps` (Mastodon).
#[requires_scope(public, throttle = "oauth-app")]
pub(crate) async fn create_app_mastodon<S: Scope, St: Store>(
    State(server): State<AuthServer<S, St>>,
    params: Params,
) -> Result<Json<Value>, Rejection> {
    let app = server
        .register_app(registration(&params, "client_name"), None)
        .await?;
    Ok(Json(application(&app)))
}

/// `POST /api/v1/oauth/apps` (Funkwhale).
#[requires_scope(public, throttle = "oauth-app")]
pub(crate) async fn create_app_funkwhale<S: Scope, St: Store>(
    State(server): State<AuthServer<S, St>>,
    params: Params,
) -> Result<Json<Value>, Rejection> {
    let name_field = if params.get("name").is_some() {
        "name"
    } else {
        "client_name"
    };
    let app = server
        .register_app(registration(&params, name_field), None)
        .await?;
    let r = &app.record;
    Ok(Json(json!({
        "client_id": r.client_id,
        "client_secret": app.client_secret,
        "name": r.name,
        "redirect_uris": r.redirect_uris.join(" "),
        "scopes": r.scopes,
        "created": r.created_at,
    })))
}

/// `GET /api/v1/apps/verify_credentials`: the app of the bearer token
/// (any valid token, user or app; the enforcement layer checked it).
#[requires_scope(authenticated)]
pub(crate) async fn verify_app<S: Scope, St: Store>(
    State(server): State<AuthServer<S, St>>,
    principal: Principal<S>,
) -> Response {
    match server.client(principal.client_id()).await {
        Ok(Some(client)) => Json(json!({
            "name": client.name,
            "website": client.website,
            "scopes": client.scopes.split(' ').collect::<Vec<_>>(),
            "redirect_uris": client.redirect_uris,
            "vapid_key": "",
        }))
        .into_response(),
        // The validator refuses tokens whose app is gone; this is the race
        // of an app removed since.
        Ok(None) => AuthError::<S>::InvalidToken.into_response(),
        Err(e) => Rejection(e).into_response(),
    }
}

/// `POST /oauth/token`.
#[requires_scope(public, throttle = "oauth-token")]
pub(crate) async fn token<S: Scope, St: Store>(
    State(server): State<AuthServer<S, St>>,
    headers: HeaderMap,
    params: Params,
) -> Result<Response, Rejection> {
    let (client_id, secret) = client_credentials(&headers, &params)?;
    let client = server
        .authenticate_client(&client_id, secret.as_deref())
        .await?;
    let request = TokenRequest {
        grant_type: params.owned("grant_type"),
        code: params.owned("code"),
        redirect_uri: params.owned("redirect_uri"),
        client_id: Some(client_id),
        client_secret: None,
        refresh_token: params.owned("refresh_token"),
        scope: params.owned("scope"),
        code_verifier: params.owned("code_verifier"),
    };
    let issued = server.token(&client, &request).await?;
    let mut response = Json(issued).into_response();
    response
        .headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// `POST /oauth/revoke` (RFC 7009; Mastodon answers `{}`).
#[requires_scope(public, throttle = "oauth-revoke")]
pub(crate) async fn revoke<S: Scope, St: Store>(
    State(server): State<AuthServer<S, St>>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, Rejection> {
    let (client_id, secret) = client_credentials(&headers, &params)?;
    let client = server
        .authenticate_client(&client_id, secret.as_deref())
        .await?;
    let token = params.get("token").ok_or_else(OAuthError::not_your_token)?;
    server.revoke(&client, token).await?;
    Ok(Json(json!({})))
}

/// `POST /oauth/introspect` (RFC 7662), for authenticated clients.
#[requires_scope(public, throttle = "oauth-introspect")]
pub(crate) async fn introspect<S: Scope, St: Store>(
    State(server): State<AuthServer<S, St>>,
    headers: HeaderMap,
    params: Params,
) -> Result<Json<Value>, Rejection> {
    let (client_id, secret) = client_credentials(&headers, &params)?;
    let caller = server
        .authenticate_client(&client_id, secret.as_deref())
        .await?;
    let token = params
        .get("token")
        .ok_or_else(|| OAuthError::invalid_request("token is missing"))?;
    let answer = server.introspect(&caller, token).await?;
    Ok(Json(
        serde_json::to_value(answer).unwrap_or_else(|_| json!({ "active": false })),
    ))
}

/// `GET /.well-known/oauth-authorization-server` (RFC 8414).
#[requires_scope(public)]
pub(crate) async fn metadata<S: Scope, St: Store>(
    State(server): State<AuthServer<S, St>>,
) -> Json<Value> {
    let issuer = &server.config().issuer;
    let scopes: Vec<&str> = S::ALL
        .iter()
        .filter(|s| s.info().deprecated().is_none())
        .map(|s| s.name())
        .collect();
    let mut methods = vec!["S256"];
    if server.config().allow_plain_pkce {
        methods.push("plain");
    }
    let mut metadata = json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/oauth/authorize"),
        "token_endpoint": format!("{issuer}/oauth/token"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "app_registration_endpoint": format!("{issuer}/api/v1/apps"),
        "registration_endpoint": format!("{issuer}/api/v1/apps"),
        "scopes_supported": scopes,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": methods,
        "service_documentation": format!("{issuer}/"),
    });
    if server.config().jwt_keys.is_some() {
        metadata["jwks_uri"] = json!(format!("{issuer}{JWKS_PATH}"));
    }
    Json(metadata)
}

/// Where the JWKS is served.
pub(crate) const JWKS_PATH: &str = "/.well-known/jwks.json";

/// `GET /.well-known/jwks.json` (RFC 7517 §5): the public keys of JWT
/// access tokens, or 404 when the server issues opaque tokens.
#[requires_scope(public)]
pub(crate) async fn jwks<S: Scope, St: Store>(State(server): State<AuthServer<S, St>>) -> Response {
    let Some(keys) = &server.config().jwt_keys else {
        return (
            http::StatusCode::NOT_FOUND,
            Json(json!({
                "error": "not_found",
                "error_description": "This server issues opaque access tokens: it has no JWKS.",
            })),
        )
            .into_response();
    };
    (
        [(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/jwk-set+json"),
        )],
        keys.jwks().to_string(),
    )
        .into_response()
}
