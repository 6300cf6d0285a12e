//! What every page shares: the frame around it ([`Chrome`]), rendering a
//! template, and error pages in the reader's language.

use askama::Template;
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::i18n::{Lang, Text};
use super::session::{Viewer, encode_component};
use crate::ApiError;

/// The page frame: language, navigation, who is signed in.
#[derive(Debug)]
pub(crate) struct Chrome {
    pub t: &'static Text,
    pub lang: &'static str,
    pub title: String,
    /// The signed-in user's name; `None` on the sign-in page.
    pub user: Option<String>,
    /// Which navigation entry is current: `stores`, `history`, `add` or empty.
    pub nav: &'static str,
    /// The link that switches to the other language and comes back here.
    pub switch_href: String,
    pub other_lang_name: &'static str,
    pub other_lang_code: &'static str,
}

impl Chrome {
    pub(crate) fn new(lang: Lang, user: Option<&str>, uri: &Uri, nav: &'static str, title: &str) -> Self {
        let here = uri.path_and_query().map_or("/", |p| p.as_str());
        let other = lang.other();
        Chrome {
            t: lang.text(),
            lang: lang.code(),
            title: title.to_owned(),
            user: user.map(str::to_owned),
            nav,
            switch_href: format!("/lang?to={}&next={}", other.code(), encode_component(here)),
            other_lang_name: other.text().language_name,
            other_lang_code: other.code(),
        }
    }

    pub(crate) fn for_viewer(viewer: &Viewer, uri: &Uri, nav: &'static str, title: &str) -> Self {
        Chrome::new(viewer.lang, Some(&viewer.user.name), uri, nav, title)
    }
}

/// Renders a template as an HTML response.
pub(crate) fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(err) => ApiError::internal(err).into_response(),
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage {
    chrome: Chrome,
    heading: &'static str,
    message: String,
}

/// A handler's result as a page: errors become an error page in the
/// viewer's language, with the status the API would give.
pub(crate) fn respond(viewer: &Viewer, uri: &Uri, result: Result<Response, ApiError>) -> Response {
    match result {
        Ok(response) => response,
        Err(err) => error_page(viewer, uri, err),
    }
}

pub(crate) fn error_page(viewer: &Viewer, uri: &Uri, err: ApiError) -> Response {
    let t = viewer.lang.text();
    let (heading, message) = match &err {
        ApiError::NotFound { .. } => (t.not_found_title, t.not_found_text.to_owned()),
        ApiError::Invalid { message, .. } | ApiError::Conflict { message, .. } => {
            (t.error_title, message.clone())
        }
        _ => (t.error_title, t.internal_error.to_owned()),
    };
    // The API's own answer decides the status (and logs a 5xx cause).
    let status = err.into_response().status();
    let page = ErrorPage {
        chrome: Chrome::for_viewer(viewer, uri, "", heading),
        heading,
        message,
    };
    render(status, &page)
}

/// `2026-11-29 13:46 UTC`, for people.
pub(crate) fn when(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `1 h 02 min`, `3 min 05 s`, `12 s`.
pub(crate) fn duration(d: chrono::Duration) -> String {
    let s = d.num_seconds().max(0);
    match s {
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_their_largest_units() {
        assert_eq!(duration(chrono::Duration::seconds(12)), "12 s");
        assert_eq!(duration(chrono::Duration::seconds(185)), "3 min 05 s");
        assert_eq!(duration(chrono::Duration::seconds(3720)), "1 h 02 min");
    }
}
