//! Extractors whose every rejection is an [`ApiError`], so axum's plain-text
//! rejections never reach a client, and every error names the field at fault.
//!
//! - [`Json`] reads a JSON body and reports the path of a bad field
//!   (`marketplace_ids[1]`), using `serde_path_to_error` as axum does.
//! - [`OptionalJson`] is the same for bodies that may be left out entirely.
//! - [`Query`] reads the query string into a struct of raw strings; handlers
//!   parse each with [`parse_field`], which names the field.
//! - [`path_param`] reads one `{name}` segment and parses it the same way.

use std::str::FromStr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, RawPathParams, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::ApiError;

/// A JSON request body.
#[derive(Debug, Clone, Copy, Default)]
pub struct Json<T>(pub T);

/// A JSON request body that may be absent (no body at all); absent is `T::default()`.
#[derive(Debug, Clone, Copy, Default)]
pub struct OptionalJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (is_json, bytes) = read_body(req, state).await?;
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&bytes).map(Json)
    }
}

impl<T: DeserializeOwned + Default, S: Send + Sync> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let (is_json, bytes) = read_body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        parse_json(&bytes).map(OptionalJson)
    }
}

async fn read_body<S: Send + Sync>(req: Request, state: &S) -> Result<(bool, Bytes), ApiError> {
    let is_json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime_lite::Essence>().ok())
        .is_some_and(|m| m.is_json());
    let bytes = Bytes::from_request(req, state).await.map_err(|e| match e {
        BytesRejection::FailedToBufferBody(inner) if inner.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            ApiError::PayloadTooLarge
        }
        other => ApiError::bad_request("body", format!("the body could not be read: {other}")),
    })?;
    Ok((is_json, bytes))
}

/// Parses a JSON document, naming the field at fault: 400 for a document that is
/// not JSON at all, 422 for JSON whose fields are missing, unknown or malformed.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::Invalid {
                status: StatusCode::BAD_REQUEST,
                code: "malformed_json",
                field: None,
                message: format!("the body is not valid JSON: {inner}"),
            };
        }
        let message = strip_position(&inner.to_string());
        // A missing or unknown field fails at its parent; serde names it in the message.
        let named = message.starts_with("missing field") || message.starts_with("unknown field");
        let field = match (path.as_str(), backticked(&message)) {
            (".", Some(name)) if named => name.to_owned(),
            (".", _) => "body".to_owned(),
            (p, Some(name)) if named && !p.ends_with(name) => format!("{p}.{name}"),
            (p, _) => p.to_owned(),
        };
        // serde echoes a mistyped value ("invalid type: integer `123`"); for a
        // secret that value is the secret, so say only what was expected.
        if is_secret(&field) {
            return ApiError::unprocessable(field, "must be a string");
        }
        ApiError::unprocessable(field, message)
    })
}

fn is_secret(field: &str) -> bool {
    field.ends_with("token") || field.ends_with("secret")
}

/// serde_json appends " at line 1 column 17", which says nothing to an API client.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

/// The query string as a struct of raw values (`Option<String>` fields).
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|q| Query(q.0))
            .map_err(|e| {
                let text = e.body_text();
                // The filters deny unknown fields: a misspelt one (`store`
                // for `store_id`) would otherwise answer as if unfiltered.
                let (field, message) = match text.find("unknown field `") {
                    Some(at) => (
                        backticked(&text[at..]).map(str::to_owned),
                        text[at..].replacen("unknown field", "unknown query parameter", 1),
                    ),
                    None => (None, format!("the query string cannot be read: {text}")),
                };
                ApiError::Invalid {
                    status: StatusCode::BAD_REQUEST,
                    code: "malformed_query",
                    field,
                    message,
                }
            })
    }
}

/// Parses an optional raw value with the type's own `FromStr`, naming the field.
pub fn parse_field<T>(field: &str, raw: Option<&str>) -> Result<Option<T>, ApiError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(value) => value
            .parse()
            .map(Some)
            .map_err(|e: T::Err| ApiError::bad_request(field, e.to_string())),
    }
}

/// Like [`parse_field`], for a value that must be there.
pub fn require_field<T>(field: &str, raw: Option<&str>) -> Result<T, ApiError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    parse_field(field, raw)?.ok_or_else(|| ApiError::bad_request(field, format!("{field} is required")))
}

/// The `{name}` segment of the matched route, parsed with the type's `FromStr`
/// (so `/stores/abc` is a 400 naming `store_id`, not axum's plain text).
pub async fn path_param<T>(parts: &mut Parts, name: &str) -> Result<T, ApiError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let params = RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|e| ApiError::bad_request(name, e.body_text()))?;
    let raw = params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
        .ok_or_else(|| ApiError::internal(format!("route has no {{{name}}} segment")))?;
    raw.parse()
        .map_err(|e: T::Err| ApiError::bad_request(name, e.to_string()))
}

/// Declares an extractor for one typed path segment.
macro_rules! path_extractor {
    ($(#[$meta:meta])* $name:ident($ty:ty), $param:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub $ty);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
                path_param(parts, $param).await.map($name)
            }
        }
    };
}

path_extractor!(
    /// `{store_id}`: a positive integer.
    StoreIdPath(amzsync_domain::StoreId),
    "store_id"
);
path_extractor!(
    /// `{task_id}`: a ULID.
    TaskIdPath(amzsync_domain::SyncTaskId),
    "task_id"
);
path_extractor!(
    /// `{user_id}`: a positive integer.
    UserIdPath(amzsync_domain::UserId),
    "user_id"
);
path_extractor!(
    /// `{token_id}`: a positive integer.
    TokenIdPath(crate::api::admin::TokenId),
    "token_id"
);
path_extractor!(
    /// `{kind}`: `inventory`, `business-reports` or `advertising`.
    KindPath(amzsync_domain::SyncKind),
    "kind"
);

/// Just enough media-type parsing to tell JSON from the rest
/// (`application/json; charset=utf-8`, `application/merge-patch+json`).
mod mime_lite {
    pub struct Essence(String);

    impl std::str::FromStr for Essence {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let essence = s.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            if essence.is_empty() {
                Err(())
            } else {
                Ok(Essence(essence))
            }
        }
    }

    impl Essence {
        pub fn is_json(&self) -> bool {
            self.0 == "application/json" || (self.0.starts_with("application/") && self.0.ends_with("+json"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        days: Option<u32>,
        items: Vec<u32>,
    }

    fn field_of(json: &str) -> (StatusCode, Option<String>) {
        match parse_json::<Body>(json.as_bytes()).unwrap_err() {
            ApiError::Invalid { status, field, .. } => (status, field),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn json_errors_name_the_field_at_fault() {
        assert_eq!(
            field_of(r#"{"items": []}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("name".into()))
        );
        assert_eq!(
            field_of(r#"{"name": "a", "items": [], "days": "x"}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("days".into()))
        );
        assert_eq!(
            field_of(r#"{"name": "a", "items": [1, -2]}"#),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("items[1]".into()))
        );
        assert_eq!(field_of(r#"{"name": "a""#), (StatusCode::BAD_REQUEST, None));
        assert_eq!(field_of(r#"{"name": tru}"#), (StatusCode::BAD_REQUEST, None));
        assert_eq!(
            field_of("[1]"),
            (StatusCode::UNPROCESSABLE_ENTITY, Some("[0]".into()))
        );
    }

    #[test]
    fn unknown_fields_are_named() {
        let (status, field) = field_of(r#"{"name": "a", "items": [], "colour": 1}"#);
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field.as_deref(), Some("colour"));
    }
}
