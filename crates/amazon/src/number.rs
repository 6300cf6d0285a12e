//! Numbers as Amazon writes them.
//!
//! JSON reports carry amounts as JSON numbers (`12.34`). Going through `f64`
//! is exact here because Rust prints a float as the shortest decimal that
//! reads back to the same float, which is the literal Amazon wrote as long as it
//! has at most 15 significant digits (amounts and percentages have far fewer).

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};

/// A decimal from a JSON number or a decimal string.
pub(crate) fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Num {
        Float(f64),
        Text(String),
    }
    match Num::deserialize(d)? {
        Num::Float(f) => from_f64(f).map_err(serde::de::Error::custom),
        Num::Text(s) => Decimal::from_str_exact(s.trim()).map_err(serde::de::Error::custom),
    }
}

/// The same, for a field that may be absent or null.
pub(crate) fn opt_decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "decimal")] Decimal);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

pub(crate) fn from_f64(f: f64) -> Result<Decimal, String> {
    if !f.is_finite() {
        return Err(format!("{f} is not a number"));
    }
    // `{f}` never uses exponent notation, which Decimal could not parse.
    Decimal::from_str(&format!("{f}")).map_err(|e| format!("{f}: {e}"))
}

/// A decimal from a flat-file cell; empty means absent.
pub(crate) fn cell_decimal(s: &str) -> Result<Option<Decimal>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    Decimal::from_str_exact(s)
        .map(Some)
        .map_err(|_| format!("{s:?} is not a decimal number"))
}

/// An integer from a flat-file cell; empty means absent.
pub(crate) fn cell_int(s: &str) -> Result<Option<i64>, String> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(None);
    }
    s.parse::<i64>()
        .map(Some)
        .map_err(|_| format!("{s:?} is not a whole number"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn json_amounts_keep_their_cents() {
        assert_eq!(from_f64(12.34).unwrap().to_string(), "12.34");
        assert_eq!(from_f64(0.1).unwrap().to_string(), "0.1");
        assert_eq!(from_f64(1e-7).unwrap().to_string(), "0.0000001");
        assert_eq!(from_f64(999_999_999.0).unwrap().to_string(), "999999999");
        assert!(from_f64(f64::NAN).is_err());
    }

    proptest! {
        #[test]
        fn any_amount_with_cents_round_trips_through_a_json_number(cents in -10_000_000_000i64..10_000_000_000i64) {
            let exact = Decimal::new(cents, 2);
            let json = serde_json::to_string(&serde_json::Number::from_f64(exact.to_string().parse::<f64>().unwrap()).unwrap()).unwrap();
            #[derive(Deserialize)]
            struct W(#[serde(deserialize_with = "decimal")] Decimal);
            let back: W = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back.0, exact);
        }

        #[test]
        fn cells_never_panic(s in "\\PC*") {
            let _ = cell_int(&s);
            let _ = cell_decimal(&s);
        }
    }
}
