//! Streaming over large JSON arrays: each element is cut out as raw JSON and
//! parsed on its own, so memory holds one element at a time and a malformed
//! element is one skipped row, not a failed document.

use std::fmt;
use std::io::{BufReader, Read};
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, DeserializeSeed, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::document::DocumentError;
use crate::parse::{Parsed, RowError};

/// serde_json reads its input a byte at a time and buffers nothing: without
/// a buffer, every byte would be a call through the decoder's `dyn Read`.
pub(crate) fn buffered<R: Read>(text: R) -> BufReader<R> {
    BufReader::with_capacity(64 * 1024, text)
}

/// Documents up to this size (decoded) are parsed from memory.
pub(crate) const IN_MEMORY: u64 = 8 * 1024 * 1024;

/// A decoded document, whole when it is small, else as a stream.
pub(crate) enum Text<R> {
    /// All of it: serde_json parses a slice several times faster than a
    /// reader, which it reads a byte at a time (a day's report of a few
    /// thousand SKUs is a megabyte or two).
    Whole(Vec<u8>),
    /// The first [`IN_MEMORY`] bytes and the rest still to read: a large
    /// document is parsed as it arrives, so memory stays flat.
    Stream(BufReader<std::io::Chain<std::io::Cursor<Vec<u8>>, R>>),
}

/// Reads up to [`IN_MEMORY`] bytes of `text` to decide how to parse it.
pub(crate) fn take<R: Read>(text: R) -> Result<Text<R>, DocumentError> {
    take_within(text, IN_MEMORY)
}

/// [`take`] with another threshold (tests reach the stream with a small one).
pub(crate) fn take_within<R: Read>(mut text: R, limit: u64) -> Result<Text<R>, DocumentError> {
    let mut head = Vec::new();
    (&mut text)
        .take(limit)
        .read_to_end(&mut head)
        .map_err(DocumentError::from_io)?;
    if (head.len() as u64) < limit {
        Ok(Text::Whole(head))
    } else {
        Ok(Text::Stream(buffered(std::io::Cursor::new(head).chain(text))))
    }
}

/// A seed that walks an array, handing each parsed element to `on_item`.
pub(crate) struct EachElement<'f, T, F> {
    pub on_item: &'f mut F,
    pub count: u64,
    pub _item: PhantomData<T>,
}

impl<'f, T, F: FnMut(Parsed<T>)> EachElement<'f, T, F> {
    pub fn new(on_item: &'f mut F) -> Self {
        EachElement {
            on_item,
            count: 0,
            _item: PhantomData,
        }
    }
}

impl<'de, T: DeserializeOwned, F: FnMut(Parsed<T>)> DeserializeSeed<'de> for &mut EachElement<'_, T, F> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de, T: DeserializeOwned, F: FnMut(Parsed<T>)> Visitor<'de> for &mut EachElement<'_, T, F> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of rows")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            self.count += 1;
            let item = match serde_json::from_str::<T>(raw.get()) {
                Ok(row) => Parsed::Row(row),
                Err(e) => Parsed::Skipped(RowError {
                    line: self.count,
                    reason: reason(&e),
                }),
            };
            (self.on_item)(item);
        }
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(()) // `null` where an array was expected: no rows.
    }
}

/// serde's message names the field; its position inside one element is noise.
fn reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    }
}
