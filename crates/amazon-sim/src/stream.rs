//! Documents as streams. A report of a 100,000-SKU store is tens of megabytes, so
//! nothing renders it whole: a document is an iterator of byte pieces generated
//! from the ground truth one SKU at a time, gzip-compressed piece by piece when the
//! type is, and served as an HTTP body that pulls the next piece only when the
//! connection has taken the last one. Memory is then independent of the store's
//! size, and the same pieces give the same bytes every time, so a length can be
//! counted by generating them once without keeping them.
//!
//! Transport faults act on the stream: cut short, a flipped byte, a connection
//! closed or a stall at an offset drawn from the seed.

use std::io::Write as _;
use std::time::Duration;

use axum::body::{Body, Bytes};
use flate2::Compression;
use flate2::write::GzEncoder;
use futures::StreamExt as _;
use futures::stream::{self, BoxStream};
use tokio_util::sync::CancellationToken;

use crate::faults::BodyFault;

/// Roughly how many bytes of text a piece holds before it is encoded: large
/// enough that per-piece costs vanish, small enough to keep memory flat.
pub(crate) const PIECE_BYTES: usize = 64 * 1024;

/// A document's bytes, piece by piece, as served (charset applied, gzip when the
/// type is). An error ends the document.
pub(crate) type Pieces = Box<dyn Iterator<Item = Result<Vec<u8>, crate::Error>> + Send>;

/// A document ready to serve.
pub(crate) struct Document {
    pub(crate) content_type: String,
    pub(crate) pieces: Pieces,
}

impl std::fmt::Debug for Document {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Document")
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

/// Joins lines (or any text) into pieces of about [`PIECE_BYTES`], each encoded
/// with `encode` (a charset); a generation error ends the pieces with it.
pub(crate) fn batched<I>(text: I, encode: fn(&str) -> Vec<u8>) -> Pieces
where
    I: Iterator<Item = Result<String, crate::Error>> + Send + 'static,
{
    let mut text = text.fuse();
    Box::new(std::iter::from_fn(move || {
        let mut buffer = String::with_capacity(PIECE_BYTES + 1024);
        for item in text.by_ref() {
            match item {
                Ok(part) => buffer.push_str(&part),
                Err(error) => return Some(Err(error)),
            }
            if buffer.len() >= PIECE_BYTES {
                break;
            }
        }
        (!buffer.is_empty()).then(|| Ok(encode(&buffer)))
    }))
}

/// Compresses pieces into one gzip member as they come: each piece goes through the
/// encoder and whatever compressed bytes it released are the next piece, so only
/// the encoder's window is held, never the document.
pub(crate) fn gzipped(inner: Pieces) -> Pieces {
    // A plain gzip member with no file name and no time, like Amazon's, so the
    // same document always gives the same bytes. The fastest level: at the
    // default one, compression took three fifths of serving a 100,000-SKU sales
    // and traffic report, and a simulator must not be what a sync benchmark
    // measures; the files are about twice as large.
    let mut encoder = Some(GzEncoder::new(Vec::new(), Compression::fast()));
    let mut inner = inner;
    Box::new(std::iter::from_fn(move || {
        loop {
            let writer = encoder.as_mut()?;
            match inner.next() {
                Some(Ok(piece)) => {
                    if let Err(error) = writer.write_all(&piece) {
                        encoder = None;
                        return Some(Err(error.into()));
                    }
                    let out = std::mem::take(writer.get_mut());
                    if !out.is_empty() {
                        return Some(Ok(out));
                    }
                }
                Some(Err(error)) => {
                    encoder = None;
                    return Some(Err(error));
                }
                None => return encoder.take().map(|e| e.finish().map_err(Into::into)),
            }
        }
    }))
}

/// The length of a document, by generating it once and counting.
pub(crate) fn length(pieces: Pieces) -> Result<u64, crate::Error> {
    let mut len = 0u64;
    for piece in pieces {
        len += piece?.len() as u64;
    }
    Ok(len)
}

/// How a body fault is carried out on the stream.
#[derive(Debug, Clone)]
pub(crate) struct Sabotage {
    pub(crate) fault: BodyFault,
    /// Byte offset where it strikes.
    pub(crate) offset: u64,
    /// The whole document's length.
    pub(crate) len: u64,
    /// Real time a stall lasts.
    pub(crate) stall: Duration,
    /// Ends a stall early when the simulator shuts down.
    pub(crate) stop: CancellationToken,
}

/// The HTTP body of a document, with its fault if chance chose one. Pieces are
/// generated when the connection asks for more, so a slow reader holds the
/// generator back instead of letting it fill memory.
pub(crate) fn body(pieces: Pieces, sabotage: Option<Sabotage>) -> Body {
    let Some(sabotage) = sabotage else {
        return Body::from_stream(stream::iter(pieces.map(|p| p.map(Bytes::from).map_err(to_io))));
    };
    let (fault, offset) = (sabotage.fault, sabotage.offset);
    let mut sent = 0u64;
    let mut ended = false;
    let faulty = pieces.map_while(move |piece| {
        if ended {
            return None;
        }
        let mut piece = match piece {
            Ok(piece) => piece,
            Err(error) => {
                ended = true;
                return Some(Err(to_io(error)));
            }
        };
        let start = sent;
        sent += piece.len() as u64;
        // Only the piece holding the offset changes.
        if sent <= offset || start > offset {
            return Some(Ok(Bytes::from(piece)));
        }
        let at = usize::try_from(offset - start).unwrap_or(piece.len());
        match fault {
            BodyFault::Corrupt => {
                // Every bit of the byte flips, so the deflate data or its CRC-32
                // no longer match whatever the byte was.
                if let Some(byte) = piece.get_mut(at) {
                    *byte ^= 0xff;
                }
                Some(Ok(Bytes::from(piece)))
            }
            BodyFault::Truncate | BodyFault::Reset | BodyFault::Stall(_) => {
                ended = true;
                piece.truncate(at);
                Some(Ok(Bytes::from(piece)))
            }
        }
    });
    let head: BoxStream<'static, Result<Bytes, std::io::Error>> = stream::iter(faulty).boxed();
    let tail: BoxStream<'static, Result<Bytes, std::io::Error>> = match fault {
        BodyFault::Truncate | BodyFault::Corrupt => stream::empty().boxed(),
        BodyFault::Reset => stream::once(async {
            // Waiting once lets the connection flush what came before the offset,
            // so the client gets the status line and part of the body first.
            tokio::task::yield_now().await;
            Err(reset())
        })
        .boxed(),
        BodyFault::Stall(_) => {
            let (stall, stop) = (sabotage.stall, sabotage.stop);
            stream::once(async move {
                tokio::select! {
                    () = tokio::time::sleep(stall) => {}
                    () = stop.cancelled() => {}
                }
                Err(reset())
            })
            .boxed()
        }
    };
    Body::from_stream(head.chain(tail))
}

/// A body that closes the connection before any of it arrives: what a reset
/// looks like to the client once the status line is out.
pub(crate) fn reset_body() -> Body {
    Body::from_stream(stream::once(async { Err::<Bytes, _>(reset()) }))
}

/// Waits out the hang of a timed-out call: `simulated` at the clock's speed
/// ([`crate::clock::Clock::hang`]), or until the simulator shuts down.
pub(crate) async fn hang(shared: &crate::server::Shared, simulated: Duration) {
    if simulated.is_zero() {
        return;
    }
    tokio::select! {
        () = tokio::time::sleep(shared.clock.hang(simulated)) => {}
        () = shared.stop.cancelled() => {}
    }
}

/// The error that makes the server abort the connection.
fn reset() -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::ConnectionReset,
        "connection reset by injected fault",
    )
}

fn to_io(error: crate::Error) -> std::io::Error {
    tracing::error!(%error, "Generating a document failed mid-stream.");
    std::io::Error::other(error)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    use super::*;

    fn pieces(parts: &[&str]) -> Pieces {
        let parts: Vec<Result<String, crate::Error>> = parts.iter().map(|p| Ok((*p).to_owned())).collect();
        batched(parts.into_iter(), |s| s.as_bytes().to_vec())
    }

    #[test]
    fn a_streamed_gzip_decodes_to_the_whole_text_and_its_length_counts_it() {
        let line = "sku\tfnsku\tasin\n".repeat(10_000);
        let text: Vec<&str> = std::iter::repeat_n(line.as_str(), 8).collect();
        let compressed: Vec<u8> = gzipped(pieces(&text)).flat_map(Result::unwrap).collect();
        let mut plain = String::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_string(&mut plain)
            .unwrap();
        assert_eq!(plain, line.repeat(8));
        assert_eq!(length(gzipped(pieces(&text))).unwrap(), compressed.len() as u64);
    }

    #[test]
    fn text_is_batched_into_pieces_of_bounded_size() {
        let line = "x".repeat(1000);
        let text: Vec<&str> = std::iter::repeat_n(line.as_str(), 1000).collect();
        let sizes: Vec<usize> = pieces(&text).map(|p| p.unwrap().len()).collect();
        assert!(sizes.len() > 10);
        assert!(sizes.iter().all(|s| *s <= PIECE_BYTES + 1000));
        assert_eq!(sizes.iter().sum::<usize>(), 1_000_000);
    }
}
