//! Tab-separated flat files read by header name: Amazon adds, drops and
//! reorders optional columns between marketplaces and years, so a column is
//! found by its header, never by its position.

use std::collections::VecDeque;
use std::io::{self, Read};

use crate::document::DocumentError;
use crate::parse::{Parsed, RowError};

/// How values are written in the file.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Quoting {
    /// MYI files: `"` is an ordinary character (titles contain `12" skillet`).
    None,
    /// Ledger files: every header and value in double quotes, `""` inside.
    Double,
}

/// One data line, with cells looked up by header name.
pub(crate) struct Line<'a> {
    record: &'a csv::StringRecord,
    index: &'a [Option<usize>],
}

impl Line<'_> {
    /// The cell of the `i`-th column the parser asked for; empty when the
    /// column is absent from this file or the line is short.
    pub fn get(&self, column: usize) -> &str {
        self.index[column].and_then(|i| self.record.get(i)).unwrap_or("")
    }
}

/// Rows of a TSV document, parsed by `parse_line`.
pub(crate) struct Rows<R, T> {
    reader: csv::Reader<LineEnds<R>>,
    index: Vec<Option<usize>>,
    record: csv::StringRecord,
    parse_line: fn(&Line<'_>) -> Result<T, String>,
    failed: bool,
}

impl<R: Read, T> Rows<R, T> {
    /// Reads the header; fails when a `required` column is missing. `columns`
    /// lists every column the parser reads, in the order `Line::get` takes.
    pub fn new(
        text: R,
        quoting: Quoting,
        columns: &'static [&'static str],
        required: &[&str],
        parse_line: fn(&Line<'_>) -> Result<T, String>,
    ) -> Result<Self, DocumentError> {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(b'\t')
            .quoting(matches!(quoting, Quoting::Double))
            .flexible(true)
            .has_headers(true)
            .from_reader(LineEnds::new(text));
        let header = reader.headers().map_err(csv_error)?.clone();
        let names: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
        let index: Vec<Option<usize>> = columns
            .iter()
            .map(|c| names.iter().position(|n| n == &c.to_ascii_lowercase()))
            .collect();
        let missing: Vec<String> = required
            .iter()
            .filter(|r| !names.iter().any(|n| n == &r.to_ascii_lowercase()))
            .map(|r| (*r).to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(DocumentError::MissingColumns(missing));
        }
        Ok(Rows {
            reader,
            index,
            record: csv::StringRecord::new(),
            parse_line,
            failed: false,
        })
    }
}

fn csv_error(e: csv::Error) -> DocumentError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => DocumentError::from_io(io),
        other => DocumentError::Corrupt(format!("{other:?}")),
    }
}

impl<R: Read, T> Rows<R, T> {
    /// The line of the record at csv's byte position `at`.
    fn line_at(&mut self, at: Option<u64>) -> u64 {
        at.map_or(0, |at| self.reader.get_mut().line_at(at))
    }
}

/// The text, with the offsets of its line-end bytes noted as csv reads it.
///
/// csv's own line numbers are wrong for us: blank lines are not counted, and
/// in a CRLF file (EU flat files) every record is placed on the line before
/// its own. Its byte positions are right, but point at where the previous
/// line's end was left off, so a record's line is the number of `\n` before
/// that position and in the run of line-end bytes that starts there, plus one.
struct LineEnds<R> {
    inner: R,
    /// Bytes read so far.
    read: u64,
    /// Offsets of the `\r` and `\n` bytes read and not yet passed by a
    /// record, and whether each is `\n`. Bounded by csv's read buffer, or
    /// by one record (a quoted value may span lines).
    ends: VecDeque<(u64, bool)>,
    /// `\n` bytes passed by records.
    newlines: u64,
}

impl<R> LineEnds<R> {
    fn new(inner: R) -> Self {
        LineEnds {
            inner,
            read: 0,
            ends: VecDeque::new(),
            newlines: 0,
        }
    }

    /// The 1-based line of the record csv places at byte `at`. Records come
    /// in order.
    fn line_at(&mut self, at: u64) -> u64 {
        let mut run = at;
        while let Some(&(offset, newline)) = self.ends.front() {
            if offset >= at && offset != run {
                break;
            }
            if offset == run {
                run += 1;
            }
            self.newlines += u64::from(newline);
            self.ends.pop_front();
        }
        self.newlines + 1
    }
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let start = self.read;
        self.ends.extend(
            buf[..n]
                .iter()
                .enumerate()
                .filter(|(_, b)| matches!(b, b'\r' | b'\n'))
                .map(|(i, b)| (start + i as u64, *b == b'\n')),
        );
        self.read += n as u64;
        Ok(n)
    }
}

impl<R: Read, T> Iterator for Rows<R, T> {
    type Item = Result<Parsed<T>, DocumentError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {
                    // Even for a blank line: it passes the line ends noted so far.
                    let line = self.line_at(self.record.position().map(csv::Position::byte));
                    if self.record.iter().all(|c| c.trim().is_empty()) {
                        continue; // blank line
                    }
                    let parsed = (self.parse_line)(&Line {
                        record: &self.record,
                        index: &self.index,
                    });
                    return Some(Ok(match parsed {
                        Ok(row) => Parsed::Row(row),
                        Err(reason) => Parsed::Skipped(RowError { line, reason }),
                    }));
                }
                Err(e) => {
                    // A line that is not UTF-8 after decoding is one bad row;
                    // anything else (I/O, truncation) ends the document.
                    if let csv::ErrorKind::Utf8 { pos, err } = e.kind() {
                        let (at, err) = (pos.as_ref().map(csv::Position::byte), err.to_string());
                        let line = self.line_at(at);
                        return Some(Ok(Parsed::Skipped(RowError {
                            line,
                            reason: format!("not text: {err}"),
                        })));
                    }
                    self.failed = true;
                    return Some(Err(csv_error(e)));
                }
            }
        }
    }
}

/// A required text cell.
pub(crate) fn text(line: &Line<'_>, column: usize, name: &str) -> Result<String, String> {
    let v = line.get(column).trim();
    if v.is_empty() {
        return Err(format!("{name} is empty"));
    }
    Ok(v.to_owned())
}

/// An optional text cell: empty means absent.
pub(crate) fn opt_text(line: &Line<'_>, column: usize) -> Option<String> {
    let v = line.get(column).trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// An optional integer cell, with the column's name in the error.
pub(crate) fn int(line: &Line<'_>, column: usize, name: &str) -> Result<Option<i64>, String> {
    crate::number::cell_int(line.get(column)).map_err(|e| format!("{name}: {e}"))
}

/// An optional decimal cell, with the column's name in the error.
pub(crate) fn decimal(
    line: &Line<'_>,
    column: usize,
    name: &str,
) -> Result<Option<rust_decimal::Decimal>, String> {
    crate::number::cell_decimal(line.get(column)).map_err(|e| format!("{name}: {e}"))
}
