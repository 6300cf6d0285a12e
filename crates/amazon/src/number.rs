//! Numbers as Amazon writes them.
//!
//! JSON reports carry amounts as JSON numbers (`12.34`). Going through `f64`
//! is exact here because the float is printed as the shortest decimal that
//! reads back to the same float (ryu), which is the literal Amazon wrote as
//! long as it has at most 15 significant digits (amounts and percentages have
//! far fewer).

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

/// A decimal from a JSON number or a decimal string. A visitor rather than an
/// untagged enum, which would buffer every value before trying its variants:
/// amounts are most of a Sales & Traffic report's values.
pub(crate) fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(DecimalVisitor)
}

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number or a decimal string")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        from_f64(v).map_err(E::custom)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        Decimal::from_str_exact(v.trim()).map_err(E::custom)
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
    let mut buffer = ryu::Buffer::new();
    let text = buffer.format_finite(f);
    // ryu writes `1e-7` for very small or large magnitudes, `12.0` for whole
    // numbers: read either, then drop the trailing zeros.
    let parsed = if text.contains('e') {
        Decimal::from_scientific(text)
    } else {
        Decimal::from_str(text)
    };
    parsed.map(|d| d.normalize()).map_err(|e| format!("{f}: {e}"))
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

    #[test]
    fn json_integers_strings_and_other_values() {
        #[derive(Debug, Deserialize)]
        struct W(#[serde(deserialize_with = "decimal")] Decimal);
        let read = |json: &str| serde_json::from_str::<W>(json).map(|w| w.0.to_string());
        assert_eq!(read("12").unwrap(), "12");
        assert_eq!(read("-3").unwrap(), "-3");
        assert_eq!(read("18446744073709551615").unwrap(), "18446744073709551615");
        assert_eq!(read("1e-7").unwrap(), "0.0000001");
        assert_eq!(read("\" 12.50 \"").unwrap(), "12.50");
        let err = read("true").unwrap_err().to_string();
        assert!(err.contains("expected a number or a decimal string"), "{err}");
        assert!(read("\"12,5\"").is_err());
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
