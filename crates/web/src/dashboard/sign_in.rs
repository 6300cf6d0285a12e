//! `/sign-in`, `/sign-out` and `/lang`: the pages a visitor reaches unsigned.

use askama::Template;
use axum::extract::{Extension, Form, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::i18n::Lang;
use super::page::{Chrome, render};
use super::session::{Config, local_path};
use crate::AppState;

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage {
    chrome: Chrome,
    next: String,
    failed: bool,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct NextQuery {
    next: Option<String>,
}

pub(crate) async fn form(lang: Lang, uri: Uri, Query(q): Query<NextQuery>) -> Response {
    let page = SignInPage {
        chrome: Chrome::new(lang, None, &uri, "", lang.text().sign_in),
        next: local_path(q.next.as_deref()),
        failed: false,
    };
    render(StatusCode::OK, &page)
}

#[derive(Deserialize)]
pub(crate) struct SignInForm {
    token: SecretString,
    next: Option<String>,
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    Extension(config): Extension<Config>,
    lang: Lang,
    uri: Uri,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = local_path(form.next.as_deref());
    let token = form.token.expose_secret().trim().to_owned();
    let user = match state
        .db
        .tokens()
        .authenticate(&SecretString::from(token.clone()))
        .await
    {
        Ok(user) => user,
        Err(err) => return crate::ApiError::from(err).into_response(),
    };
    match user {
        Some(user) => {
            tracing::info!(user_id = user.id.0, "signed in to the dashboard");
            let cookie = config.session_cookie(&headers, &token);
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        None => {
            let page = SignInPage {
                chrome: Chrome::new(lang, None, &uri, "", lang.text().sign_in),
                next,
                failed: true,
            };
            render(StatusCode::UNAUTHORIZED, &page)
        }
    }
}

pub(crate) async fn sign_out(Extension(config): Extension<Config>, headers: HeaderMap) -> Response {
    let cookie = config.clear_session_cookie(&headers);
    ([(header::SET_COOKIE, cookie)], Redirect::to("/sign-in")).into_response()
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct LangQuery {
    to: Option<String>,
    next: Option<String>,
}

/// Remembers the chosen language in a cookie and goes back.
pub(crate) async fn switch_language(
    Extension(config): Extension<Config>,
    headers: HeaderMap,
    Query(q): Query<LangQuery>,
) -> Response {
    let next = local_path(q.next.as_deref());
    match q.to.as_deref().and_then(Lang::parse) {
        Some(lang) => {
            let cookie = config.lang_cookie(&headers, lang);
            ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response()
        }
        None => Redirect::to(&next).into_response(),
    }
}
