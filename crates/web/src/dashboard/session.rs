//! Dashboard sessions: the API token in an HttpOnly cookie.
//!
//! Design: the cookie holds the token itself (HttpOnly, SameSite=Lax, Path=/,
//! Secure behind HTTPS) and every request authenticates it exactly as the API
//! does, by the token's hash (`db.tokens().authenticate`). So the server keeps
//! no session state of its own, a revoked token ends its dashboard sessions at
//! once, and several API processes need no shared signing key. A signed
//! session id was the alternative; it needs a key in configuration and a
//! sessions table for revocation, for no gain while tokens are the only
//! credential. Scripts cannot read the cookie (HttpOnly), other sites cannot
//! post with it (SameSite=Lax, plus the `Sec-Fetch-Site` check below).

use amzsync_db::User;
use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::SecretString;

use super::i18n::Lang;
use crate::{AppState, Caller};

/// The cookie carrying the signed-in user's API token.
pub(crate) const SESSION_COOKIE: &str = "amzsync_session";
/// How long a sign-in lasts in the browser (the token may be revoked sooner).
const SESSION_MAX_AGE_SECONDS: u64 = 7 * 24 * 3600;
/// The header the dashboard's script sends: its requests get fragments and
/// status codes instead of redirects.
pub(crate) const FETCH_HEADER: &str = "x-amzsync-fetch";

/// When session cookies carry `Secure`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SecureCookies {
    /// When the request came over HTTPS as a reverse proxy reports it
    /// (`X-Forwarded-Proto: https` or `Forwarded: proto=https`).
    #[default]
    Auto,
    /// Always (the dashboard is only ever reached over HTTPS).
    Always,
    /// Never (plain HTTP on a trusted network, tests).
    Never,
}

/// The dashboard's settings.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub secure_cookies: SecureCookies,
}

impl Config {
    fn is_secure(&self, headers: &HeaderMap) -> bool {
        match self.secure_cookies {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => {
                let forwarded_proto = headers
                    .get("x-forwarded-proto")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
                let forwarded = headers
                    .get(header::FORWARDED)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.to_ascii_lowercase().contains("proto=https"));
                forwarded_proto || forwarded
            }
        }
    }

    /// `Set-Cookie` for a session holding `token`.
    pub(crate) fn session_cookie(&self, headers: &HeaderMap, token: &str) -> HeaderValue {
        self.cookie(headers, SESSION_COOKIE, token, SESSION_MAX_AGE_SECONDS)
    }

    /// `Set-Cookie` ending the session.
    pub(crate) fn clear_session_cookie(&self, headers: &HeaderMap) -> HeaderValue {
        self.cookie(headers, SESSION_COOKIE, "", 0)
    }

    /// `Set-Cookie` remembering the language for a year.
    pub(crate) fn lang_cookie(&self, headers: &HeaderMap, lang: Lang) -> HeaderValue {
        self.cookie(headers, super::i18n::LANG_COOKIE, lang.code(), 365 * 24 * 3600)
    }

    fn cookie(&self, headers: &HeaderMap, name: &str, value: &str, max_age: u64) -> HeaderValue {
        let secure = if self.is_secure(headers) { "; Secure" } else { "" };
        let cookie = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
        // Tokens are URL-safe base64 with a prefix and languages are fixed tags;
        // anything else was refused before reaching here.
        HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
    }
}

/// A cookie's value from the `Cookie` headers.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// Whether the request comes from the dashboard's own script.
pub(crate) fn is_fetch(headers: &HeaderMap) -> bool {
    headers.contains_key(FETCH_HEADER)
}

/// A path on this site to return to after signing in (never another site's).
pub(crate) fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.contains('\\') => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// The signed-in user of a dashboard request, and the language to answer in.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    pub user: User,
    pub lang: Lang,
}

impl Viewer {
    /// The same caller the API would see for this user's token.
    pub(crate) fn caller(&self) -> Caller {
        Caller(self.user.clone())
    }
}

/// Why a dashboard request has no [`Viewer`].
#[derive(Debug)]
pub(crate) enum Rejection {
    /// Not signed in: a page goes to the sign-in form, a script gets a 401.
    SignIn {
        next: String,
        fetch: bool,
    },
    /// A state change posted from another site.
    CrossSite,
    Failed(crate::ApiError),
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        match self {
            Rejection::SignIn { fetch: true, .. } => StatusCode::UNAUTHORIZED.into_response(),
            Rejection::SignIn { next, fetch: false } => {
                let target = if next == "/" {
                    "/sign-in".to_owned()
                } else {
                    format!("/sign-in?next={}", encode_component(&next))
                };
                Redirect::to(&target).into_response()
            }
            Rejection::CrossSite => (StatusCode::FORBIDDEN, "cross-site request refused").into_response(),
            Rejection::Failed(err) => err.into_response(),
        }
    }
}

impl<S> FromRequestParts<S> for Viewer
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Rejection> {
        let state = AppState::from_ref(state);
        let Ok(lang) = Lang::from_request_parts(parts, &()).await;
        if parts.method != Method::GET && parts.method != Method::HEAD && is_cross_site(&parts.headers) {
            return Err(Rejection::CrossSite);
        }
        let sign_in = || Rejection::SignIn {
            next: parts
                .uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            fetch: is_fetch(&parts.headers),
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(sign_in());
        };
        match state.db.tokens().authenticate(&SecretString::from(token)).await {
            Ok(Some(user)) => {
                tracing::Span::current().record("user_id", user.id.0);
                Ok(Viewer { user, lang })
            }
            Ok(None) => Err(sign_in()),
            Err(err) => Err(Rejection::Failed(err.into())),
        }
    }
}

/// Browsers say where a request comes from; a form posted by another site is
/// refused even where SameSite is not enforced.
fn is_cross_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}

/// Percent-encodes a query value.
pub(crate) fn encode_component(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/history?page=2")), "/history?page=2");
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; amzsync_session=amz_x; b=2"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("amz_x"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn session_cookies_are_http_only_and_secure_behind_https() {
        let config = Config::default();
        let mut headers = HeaderMap::new();
        let plain = config.session_cookie(&headers, "amz_x");
        assert!(plain.to_str().unwrap().contains("HttpOnly; SameSite=Lax"));
        assert!(!plain.to_str().unwrap().contains("Secure"));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(
            config
                .session_cookie(&headers, "amz_x")
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
