//! Deterministic pseudo-random numbers for the generated world.
//!
//! Why not `rand`: `StdRng` documents that its algorithm may change between releases,
//! and the ground truth must stay identical for a given seed across dependency
//! upgrades (tests and benchmarks compare against it). SplitMix64, seeded from an
//! FNV-1a hash of labelled inputs, is tiny and will never change under us.

/// A SplitMix64 stream keyed by a seed and a list of labels.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

impl Rng {
    /// A stream that depends on `seed` and every label, in order. The same inputs
    /// always give the same stream; a separator byte keeps `["ab", "c"]` apart from
    /// `["a", "bc"]`.
    pub(crate) fn keyed(seed: u64, labels: &[&str]) -> Self {
        Self {
            state: hash(seed, labels),
        }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0). The modulo bias is irrelevant for
    /// synthetic data.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A number in `lo..=hi`.
    pub(crate) fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// A number in `0.0..1.0`, for probabilities.
    pub(crate) fn unit(&mut self) -> f64 {
        // The top 53 bits fill an f64 mantissa exactly.
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with the given probability in percent.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let index = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        &items[index]
    }

    /// Upper-case letters and digits, like Amazon's ASIN and FNSKU characters.
    pub(crate) fn alphanumeric(&mut self, len: usize) -> String {
        const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
        (0..len).map(|_| char::from(*self.pick(CHARS))).collect()
    }
}

/// FNV-1a over the seed and labels; also used for document URL signatures.
pub(crate) fn hash(seed: u64, labels: &[&str]) -> u64 {
    let mut h = FNV_OFFSET;
    for byte in seed.to_le_bytes() {
        h = (h ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
    }
    for label in labels {
        for byte in label.bytes() {
            h = (h ^ u64::from(byte)).wrapping_mul(FNV_PRIME);
        }
        h = (h ^ 0xff).wrapping_mul(FNV_PRIME);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_key_gives_the_same_stream_and_labels_do_not_run_together() {
        let a: Vec<u64> = {
            let mut r = Rng::keyed(7, &["ab", "c"]);
            (0..4).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::keyed(7, &["ab", "c"]);
            (0..4).map(|_| r.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(hash(7, &["ab", "c"]), hash(7, &["a", "bc"]));
        assert_ne!(hash(7, &["ab"]), hash(8, &["ab"]));
    }
}
