//! Regions and marketplaces. A store lives in one region; its marketplaces must
//! all belong to that region, because one refresh token authorizes one region.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An Amazon API endpoint group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Region {
    /// North America: US, CA, MX, BR.
    Na,
    /// Europe, the Middle East, India and South Africa.
    Eu,
    /// Far East: JP, AU, SG.
    Fe,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Na, Region::Eu, Region::Fe];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Na => "na",
            Region::Eu => "eu",
            Region::Fe => "fe",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a region (expected na, eu or fe)")]
pub struct ParseRegionError(pub String);

impl FromStr for Region {
    type Err = ParseRegionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "na" => Ok(Region::Na),
            "eu" => Ok(Region::Eu),
            "fe" => Ok(Region::Fe),
            _ => Err(ParseRegionError(s.to_owned())),
        }
    }
}

/// An Amazon marketplace, known by its marketplace id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Marketplace {
    id: &'static str,
    country: &'static str,
    region: Region,
    currency: &'static str,
    /// IANA time zone in which Amazon draws the marketplace's calendar days.
    time_zone: &'static str,
}

// The official ids (PROTOCOL.md §2.2). Beware a wrong Polish id that circulates
// in third-party code (`A1C3SOZ6ARJ6G9`); the official one is below.
const MARKETPLACES: &[Marketplace] = &[
    mk("ATVPDKIKX0DER", "US", Region::Na, "USD", "America/Los_Angeles"),
    mk("A2EUQ1WTGCTBG2", "CA", Region::Na, "CAD", "America/Los_Angeles"),
    mk("A1AM78C64UM0Y8", "MX", Region::Na, "MXN", "America/Los_Angeles"),
    mk("A2Q3Y263D00KWC", "BR", Region::Na, "BRL", "America/Sao_Paulo"),
    mk("A1F83G8C2ARO7P", "GB", Region::Eu, "GBP", "Europe/London"),
    mk("A1PA6795UKMFR9", "DE", Region::Eu, "EUR", "Europe/Paris"),
    mk("A13V1IB3VIYZZH", "FR", Region::Eu, "EUR", "Europe/Paris"),
    mk("APJ6JRA9NG5V4", "IT", Region::Eu, "EUR", "Europe/Paris"),
    mk("A1RKKUPIHCS9HS", "ES", Region::Eu, "EUR", "Europe/Paris"),
    mk("A1805IZSGTT6HS", "NL", Region::Eu, "EUR", "Europe/Amsterdam"),
    mk("A2NODRKZP88ZB9", "SE", Region::Eu, "SEK", "Europe/Stockholm"),
    mk("A1C3SOZRARQ6R3", "PL", Region::Eu, "PLN", "Europe/Warsaw"),
    mk("A33AVAJ2PDY3EV", "TR", Region::Eu, "TRY", "Europe/Istanbul"),
    mk("A2VIGQ35RCS4UG", "AE", Region::Eu, "AED", "Asia/Dubai"),
    mk("A17E79C6D8DWNP", "SA", Region::Eu, "SAR", "Asia/Riyadh"),
    mk("ARBP9OOSHTCHU", "EG", Region::Eu, "EGP", "Africa/Cairo"),
    mk("A21TJRUUN4KGV", "IN", Region::Eu, "INR", "Asia/Kolkata"),
    mk("AMEN7PMS3EDWL", "BE", Region::Eu, "EUR", "Europe/Brussels"),
    mk("A28R8C7NBKEWEA", "IE", Region::Eu, "EUR", "Europe/Dublin"),
    mk("AE08WJ6YKNBMC", "ZA", Region::Eu, "ZAR", "Africa/Johannesburg"),
    mk("A1VC38T7YXB528", "JP", Region::Fe, "JPY", "Asia/Tokyo"),
    mk("A39IBJ37TRP1C6", "AU", Region::Fe, "AUD", "Australia/Sydney"),
    mk("A19VAU5U5O7RUS", "SG", Region::Fe, "SGD", "Asia/Singapore"),
];

const fn mk(
    id: &'static str,
    country: &'static str,
    region: Region,
    currency: &'static str,
    time_zone: &'static str,
) -> Marketplace {
    Marketplace {
        id,
        country,
        region,
        currency,
        time_zone,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a known Amazon marketplace id or country code (for example ATVPDKIKX0DER or US)")]
pub struct ParseMarketplaceError(pub String);

impl Marketplace {
    /// Every marketplace amzsync knows.
    pub fn all() -> &'static [Marketplace] {
        MARKETPLACES
    }

    /// The marketplace with this id (`ATVPDKIKX0DER`).
    pub fn by_id(id: &str) -> Option<Marketplace> {
        MARKETPLACES.iter().copied().find(|m| m.id == id)
    }

    pub fn id(&self) -> &'static str {
        self.id
    }
    /// ISO 3166 country code (`GB` for the United Kingdom).
    pub fn country(&self) -> &'static str {
        self.country
    }
    pub fn region(&self) -> Region {
        self.region
    }
    /// ISO 4217 code of the currency Amazon reports amounts in.
    pub fn currency(&self) -> &'static str {
        self.currency
    }
    pub fn time_zone(&self) -> &'static str {
        self.time_zone
    }
}

impl FromStr for Marketplace {
    type Err = ParseMarketplaceError;
    /// Accepts a marketplace id or a country code; `UK` is taken for `GB`
    /// because the Ads API spells it that way.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if let Some(m) = Marketplace::by_id(t) {
            return Ok(m);
        }
        let country = match t.to_ascii_uppercase().as_str() {
            "UK" => "GB".to_owned(),
            other => other.to_owned(),
        };
        MARKETPLACES
            .iter()
            .copied()
            .find(|m| m.country == country)
            .ok_or_else(|| ParseMarketplaceError(s.to_owned()))
    }
}

impl fmt::Display for Marketplace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id)
    }
}

impl Serialize for Marketplace {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id)
    }
}

impl<'de> Deserialize<'de> for Marketplace {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marketplaces_parse_from_id_or_country() {
        let us: Marketplace = "ATVPDKIKX0DER".parse().unwrap();
        assert_eq!(us.country(), "US");
        assert_eq!(us.region(), Region::Na);
        assert_eq!("uk".parse::<Marketplace>().unwrap().id(), "A1F83G8C2ARO7P");
        assert_eq!("JP".parse::<Marketplace>().unwrap().region(), Region::Fe);
    }

    #[test]
    fn the_circulating_wrong_polish_id_is_rejected() {
        assert!("A1C3SOZ6ARJ6G9".parse::<Marketplace>().is_err());
        assert_eq!("PL".parse::<Marketplace>().unwrap().id(), "A1C3SOZRARQ6R3");
    }

    #[test]
    fn unknown_marketplaces_name_the_input() {
        let err = "XYZ123".parse::<Marketplace>().unwrap_err();
        assert!(err.to_string().contains("\"XYZ123\""), "{err}");
    }

    #[test]
    fn ids_are_unique_and_every_region_has_marketplaces() {
        let mut ids: Vec<_> = Marketplace::all().iter().map(|m| m.id()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), Marketplace::all().len());
        for r in Region::ALL {
            assert!(Marketplace::all().iter().any(|m| m.region() == r));
        }
    }

    #[test]
    fn regions_parse_case_insensitively() {
        assert_eq!("EU".parse::<Region>(), Ok(Region::Eu));
        assert!("asia".parse::<Region>().is_err());
    }
}
