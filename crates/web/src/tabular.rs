//! Rows as JSON (`{ "items": [...] }`) or CSV, chosen by `?format=` or, when
//! that is absent, by `Accept: text/csv`.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    Csv,
}

impl Format {
    pub(crate) fn negotiate(format: Option<&str>, headers: &HeaderMap) -> Result<Self, ApiError> {
        match format.map(|f| f.trim().to_ascii_lowercase()).as_deref() {
            Some("json") => Ok(Format::Json),
            Some("csv") => Ok(Format::Csv),
            Some("") | None => {
                let wants_csv = headers
                    .get_all(header::ACCEPT)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(|v| v.split(','))
                    .any(|m| {
                        m.split(';')
                            .next()
                            .is_some_and(|m| m.trim().eq_ignore_ascii_case("text/csv"))
                    });
                Ok(if wants_csv { Format::Csv } else { Format::Json })
            }
            Some(other) => Err(ApiError::bad_request(
                "format",
                format!("{other:?} is not a format (expected json or csv)"),
            )),
        }
    }
}

#[derive(Serialize)]
struct Items<T> {
    items: Vec<T>,
}

/// Renders `rows`; `name` becomes the CSV file's name.
pub(crate) fn render<T: Serialize>(format: Format, name: &str, rows: Vec<T>) -> Result<Response, ApiError> {
    match format {
        Format::Json => Ok(axum::Json(Items { items: rows }).into_response()),
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(Vec::new());
            for row in &rows {
                writer.serialize(row).map_err(ApiError::internal)?;
            }
            let body = writer
                .into_inner()
                .map_err(|e| ApiError::internal(e.to_string()))?;
            let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}.csv\""))
                .map_err(ApiError::internal)?;
            Ok((
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("text/csv; charset=utf-8"),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                ],
                body,
            )
                .into_response())
        }
    }
}
