//! From a downloaded report body to UTF-8 text, as a stream.
//!
//! SP-API documents are gzip when `compressionAlgorithm` is `GZIP`, but robust
//! clients sniff the gzip magic bytes (`1f 8b`) rather than trust the flag, and
//! fall back to the raw bytes otherwise (PROTOCOL.md §3.6). The text encoding
//! comes from the `charset` of the download's `Content-Type`: Cp1252 for EU
//! flat files, Shift_JIS/cp932 for many Japanese ones, UTF-8 for the rest.

use std::cell::RefCell;
use std::io::{self, BufRead, BufReader, Read};
use std::rc::Rc;

use encoding_rs::{Encoding, SHIFT_JIS, UTF_8, WINDOWS_1252};
use encoding_rs_io::DecodeReaderBytesBuilder;
use flate2::bufread::MultiGzDecoder;

/// A document that cannot be read as a whole. Unlike a [`crate::RowError`],
/// nothing parsed from it may be presented as complete.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The body ended early (a cut download): fetch the document again.
    #[error("the document is truncated: {0}")]
    Truncated(String),
    /// The compressed body is damaged (a deflate error, a checksum that does
    /// not match): spoilt on the way, so fetch the document again.
    #[error("the download is damaged: {0}")]
    Damaged(String),
    /// The document is not what it claims to be (not JSON, rows of another
    /// day) while its body arrived intact: fetching it again will not help.
    #[error("the document is corrupt: {0}")]
    Corrupt(String),
    /// Columns the parser cannot do without are not in the header.
    #[error("required columns missing from the header: {}", .0.join(", "))]
    MissingColumns(Vec<String>),
    /// The declared charset is not one we can decode.
    #[error("unknown charset {0:?}")]
    UnknownCharset(String),
    /// Reading the body failed.
    #[error("reading the document: {0}")]
    Io(#[source] io::Error),
}

impl DocumentError {
    /// Whether fetching the document again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            DocumentError::Truncated(_) | DocumentError::Damaged(_) | DocumentError::Io(_)
        )
    }

    pub(crate) fn from_io(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::UnexpectedEof => DocumentError::Truncated(e.to_string()),
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => DocumentError::Corrupt(e.to_string()),
            _ => DocumentError::Io(e),
        }
    }
}

/// What the download said about itself.
#[derive(Debug, Clone, Default)]
pub struct Encoded<'a> {
    /// `compressionAlgorithm` from getReportDocument (`GZIP`), if any. Kept
    /// for logging; decoding goes by the body's magic bytes.
    pub compression: Option<&'a str>,
    /// The download's `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The charset to assume when none is declared and the text is not UTF-8
    /// (`Shift_JIS` for Japan); Windows-1252 when `None`.
    pub fallback_charset: Option<&'a str>,
}

/// Amazon.co.jp, whose flat files are Shift_JIS (cp932).
pub const JP_MARKETPLACE_ID: &str = "A1VC38T7YXB528";

/// The charset to assume for a marketplace's documents that declare none and
/// are not UTF-8 ([`Encoded::fallback_charset`]): `Shift_JIS` for Japan,
/// `None` (Windows-1252) elsewhere.
pub fn fallback_charset_for(marketplace_id: &str) -> Option<&'static str> {
    (marketplace_id == JP_MARKETPLACE_ID).then_some("Shift_JIS")
}

/// The `charset` parameter of a `Content-Type` value.
pub fn charset_of(content_type: &str) -> Option<&str> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| v.trim().trim_matches('"'))
    })
}

fn encoding_for(label: &str) -> Result<&'static Encoding, DocumentError> {
    // Java-style names Amazon uses that are not WHATWG labels.
    let label = match label.to_ascii_lowercase().as_str() {
        "cp932" | "ms932" | "windows-31j" => return Ok(SHIFT_JIS),
        "utf8" => return Ok(UTF_8),
        _ => label.to_owned(),
    };
    Encoding::for_label(label.as_bytes()).ok_or(DocumentError::UnknownCharset(label))
}

/// How many bytes are looked at to guess an undeclared charset.
const SNIFF_LEN: usize = 64 * 1024;

/// Wraps a report body into a reader of UTF-8 text.
pub fn decode<'a, R: Read + 'a>(body: R, how: &Encoded<'_>) -> Result<Box<dyn Read + 'a>, DocumentError> {
    decode_checked(body, how).map(|(text, _)| text)
}

/// [`decode`], with what tells a damaged download from a corrupt document
/// when reading the text fails ([`Integrity::judge`]).
pub fn decode_checked<'a, R: Read + 'a>(
    body: R,
    how: &Encoded<'_>,
) -> Result<(Box<dyn Read + 'a>, Integrity<'a>), DocumentError> {
    let mut raw = BufReader::with_capacity(64 * 1024, body);
    let head = raw.fill_buf().map_err(DocumentError::from_io)?;
    // The magic bytes decide, not `how.compression`: a body declared GZIP has
    // arrived plain, and one served with `Content-Encoding: gzip` arrives
    // already inflated by the HTTP client.
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let mut integrity = Integrity(None);
    let plain: Box<dyn BufRead + 'a> = if gzip {
        // Multi-member: concatenated gzip streams are one valid document.
        let inflate = Rc::new(RefCell::new(Inflate {
            decoder: Box::new(MultiGzDecoder::new(raw)),
            damage: None,
        }));
        integrity.0 = Some(Rc::clone(&inflate));
        Box::new(BufReader::with_capacity(64 * 1024, Watched(inflate)))
    } else {
        Box::new(raw)
    };

    let declared = how.content_type.and_then(charset_of);
    let encoding = match declared {
        Some(label) => encoding_for(label)?,
        None => {
            let mut plain = plain;
            // The first bytes are inflated here already: a damaged stream
            // can fail before any parser runs.
            let head = plain.fill_buf().map_err(|e| {
                if gzip && is_damage(&e) {
                    DocumentError::Damaged(e.to_string())
                } else {
                    DocumentError::from_io(e)
                }
            })?;
            let head = &head[..head.len().min(SNIFF_LEN)];
            let encoding = if looks_like_utf8(head) {
                UTF_8
            } else {
                how.fallback_charset
                    .map(encoding_for)
                    .transpose()?
                    .unwrap_or(WINDOWS_1252)
            };
            return Ok((transcode(plain, encoding), integrity));
        }
    };
    Ok((transcode(plain, encoding), integrity))
}

/// The gzip decoder under a document's text, and the damage it reported.
struct Inflate<'a> {
    decoder: Box<dyn Read + 'a>,
    damage: Option<String>,
}

/// Reads through an [`Inflate`], noting any damage it reports.
struct Watched<'a>(Rc<RefCell<Inflate<'a>>>);

impl Read for Watched<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut inflate = self.0.borrow_mut();
        let read = inflate.decoder.read(buf);
        if let Err(e) = &read
            && is_damage(e)
        {
            inflate.damage.get_or_insert_with(|| e.to_string());
        }
        read
    }
}

/// How flate2 reports a bad deflate stream, header or checksum (a cut
/// stream is `UnexpectedEof`, a network fault another kind).
fn is_damage(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData)
}

/// Whether a gzip body was damaged on the way, asked once reading its text
/// has failed.
///
/// A flipped byte in a deflate stream is often inflated into garbage before
/// the decoder notices, if it notices before the trailer's checksum at all,
/// so a parser tends to fail first and call the document corrupt. Only the
/// gzip stream can say whether the body was spoilt on the way (fetching it
/// again may cure that) or arrived intact and is corrupt as Amazon made it
/// (fetching again will not help).
pub struct Integrity<'a>(Option<Rc<RefCell<Inflate<'a>>>>);

impl Integrity<'_> {
    /// `error`, or what the gzip stream under the text says instead: damage
    /// it reported while read, or reports when read to its end now. Only
    /// errors that would fail the task for good are looked into; a plain
    /// body has nothing to say.
    pub fn judge(self, error: DocumentError) -> DocumentError {
        if !matches!(
            error,
            DocumentError::Corrupt(_) | DocumentError::MissingColumns(_)
        ) {
            return error;
        }
        let Some(inflate) = self.0 else {
            return error;
        };
        let mut inflate = inflate.borrow_mut();
        if let Some(damage) = inflate.damage.take() {
            return DocumentError::Damaged(damage);
        }
        match io::copy(&mut inflate.decoder, &mut io::sink()) {
            Ok(_) => error,
            Err(e) if is_damage(&e) => DocumentError::Damaged(e.to_string()),
            Err(e) => DocumentError::from_io(e),
        }
    }
}

fn transcode<'a>(plain: Box<dyn BufRead + 'a>, encoding: &'static Encoding) -> Box<dyn Read + 'a> {
    Box::new(
        DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding))
            .bom_override(true)
            .build(plain),
    )
}

/// Valid UTF-8, allowing a sequence cut at the end of the sample.
fn looks_like_utf8(bytes: &[u8]) -> bool {
    match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write as _;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn read_all(body: &[u8], how: &Encoded<'_>) -> Result<String, DocumentError> {
        let mut out = String::new();
        decode(body, how)?
            .read_to_string(&mut out)
            .map_err(DocumentError::from_io)?;
        Ok(out)
    }

    #[test]
    fn gzip_is_sniffed_whatever_was_declared() {
        let body = gzip("sku\tasin\n".as_bytes());
        assert_eq!(read_all(&body, &Encoded::default()).unwrap(), "sku\tasin\n");
        let plain = b"sku\tasin\n";
        let declared = Encoded {
            compression: Some("GZIP"),
            ..Default::default()
        };
        assert_eq!(read_all(plain, &declared).unwrap(), "sku\tasin\n");
    }

    #[test]
    fn a_truncated_gzip_body_is_a_retryable_error() {
        let body = gzip(&b"x".repeat(100_000));
        let cut = &body[..body.len() / 2];
        let err = read_all(cut, &Encoded::default()).unwrap_err();
        assert!(matches!(err, DocumentError::Truncated(_)), "{err:?}");
        assert!(err.is_retryable());
    }

    /// Parses `body` as one JSON value, as the report parsers do: an error
    /// of the text is the document's, an I/O error the body's.
    fn parse_json(body: &[u8]) -> Result<serde_json::Value, DocumentError> {
        let (text, integrity) = decode_checked(body, &Encoded::default())?;
        serde_json::from_reader(text)
            .map_err(|e| {
                if e.is_io() {
                    DocumentError::from_io(e.into())
                } else {
                    DocumentError::Corrupt(e.to_string())
                }
            })
            .map_err(|e| integrity.judge(e))
    }

    fn rows_json(rows: usize) -> Vec<u8> {
        let rows: Vec<String> = (0..rows)
            .map(|i| {
                format!(
                    r#"{{"sku":"SKU-{i:05}","units":{},"sales":"{}.{:02}"}}"#,
                    i % 7,
                    i * 3,
                    i % 100
                )
            })
            .collect();
        format!("[{}]", rows.join(",")).into_bytes()
    }

    #[test]
    fn a_checksum_that_does_not_match_is_damage_to_fetch_again() {
        let mut body = gzip(&rows_json(100));
        let n = body.len();
        // The trailer's CRC-32: every byte inflates as sent, then the check fails.
        body[n - 8] ^= 0xff;
        let err = parse_json(&body).unwrap_err();
        assert!(matches!(err, DocumentError::Damaged(_)), "{err:?}");
        assert!(err.is_retryable());
    }

    #[test]
    fn garbage_inflated_from_a_damaged_body_is_damage_not_a_corrupt_document() {
        let clean = gzip(&rows_json(2_000));
        assert!(parse_json(&clean).is_ok());
        // A byte flipped at several places in the deflate data (past the
        // 10-byte header, before the 8-byte trailer): whether the decoder or
        // the JSON parser notices first, the verdict is damage.
        for at in [12, clean.len() / 3, clean.len() / 2, clean.len() - 20] {
            let mut body = clean.clone();
            body[at] ^= 0xff;
            let err = parse_json(&body).unwrap_err();
            assert!(matches!(err, DocumentError::Damaged(_)), "byte {at}: {err:?}");
        }
    }

    #[test]
    fn an_intact_document_that_is_not_what_it_claims_stays_corrupt() {
        for body in [gzip(b"<html>Service Unavailable</html>"), b"<html>".to_vec()] {
            let err = parse_json(&body).unwrap_err();
            assert!(matches!(err, DocumentError::Corrupt(_)), "{err:?}");
            assert!(!err.is_retryable());
        }
    }

    #[test]
    fn the_declared_charset_is_decoded() {
        // "Müller – Größe" in Windows-1252: the en dash is 0x96, not ISO-8859-1.
        let cp1252 = b"M\xfcller \x96 Gr\xf6\xdfe";
        let how = Encoded {
            content_type: Some("text/plain; charset=Cp1252"),
            ..Default::default()
        };
        assert_eq!(read_all(cp1252, &how).unwrap(), "Müller – Größe");

        let (sjis, _, _) = SHIFT_JIS.encode("赤いマグカップ");
        let how = Encoded {
            content_type: Some("text/plain;charset=Shift_JIS"),
            ..Default::default()
        };
        assert_eq!(read_all(&sjis, &how).unwrap(), "赤いマグカップ");
        let how = Encoded {
            content_type: Some("text/plain; charset=\"cp932\""),
            ..Default::default()
        };
        assert_eq!(read_all(&sjis, &how).unwrap(), "赤いマグカップ");
    }

    #[test]
    fn without_a_charset_utf8_is_kept_and_anything_else_is_the_fallback() {
        assert_eq!(
            read_all("Größe".as_bytes(), &Encoded::default()).unwrap(),
            "Größe"
        );
        assert_eq!(read_all(b"Gr\xf6\xdfe", &Encoded::default()).unwrap(), "Größe");
        let (sjis, _, _) = SHIFT_JIS.encode("マグ");
        let jp = Encoded {
            fallback_charset: Some("Shift_JIS"),
            ..Default::default()
        };
        assert_eq!(read_all(&sjis, &jp).unwrap(), "マグ");
    }

    #[test]
    fn a_bom_is_dropped_and_unknown_charsets_are_refused() {
        assert_eq!(read_all(b"\xef\xbb\xbfsku", &Encoded::default()).unwrap(), "sku");
        let how = Encoded {
            content_type: Some("text/plain; charset=klingon"),
            ..Default::default()
        };
        assert!(matches!(
            read_all(b"x", &how),
            Err(DocumentError::UnknownCharset(_))
        ));
    }

    #[test]
    fn japan_falls_back_to_shift_jis_and_other_marketplaces_to_windows_1252() {
        assert_eq!(fallback_charset_for("A1VC38T7YXB528"), Some("Shift_JIS"));
        assert_eq!(fallback_charset_for("ATVPDKIKX0DER"), None);
        assert_eq!(fallback_charset_for("A1PA6795UKMFR9"), None);
    }

    #[test]
    fn charset_parameters_are_found_case_insensitively() {
        assert_eq!(charset_of("text/plain; CHARSET=utf8"), Some("utf8"));
        assert_eq!(charset_of("application/json"), None);
    }
}
