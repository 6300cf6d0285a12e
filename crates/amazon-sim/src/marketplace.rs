//! Amazon marketplaces the simulator knows: id, currency, region and the charset
//! Amazon uses for flat-file reports there (PROTOCOL.md §2.2, §3.6).

use chrono::{DateTime, NaiveDate, Utc};

/// An SP-API endpoint group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    /// North America (`sellingpartnerapi-na`).
    Na,
    /// Europe, including UK, TR, AE, SA, EG, IN, ZA (`sellingpartnerapi-eu`).
    Eu,
    /// Far East (`sellingpartnerapi-fe`).
    Fe,
}

impl Region {
    /// The short code used inside report document ids (`amzn1.spdoc.1.4.na.…`).
    pub fn code(self) -> &'static str {
        match self {
            Region::Na => "na",
            Region::Eu => "eu",
            Region::Fe => "fe",
        }
    }
}

/// One Amazon marketplace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marketplace {
    /// The SP-API marketplace id, e.g. `ATVPDKIKX0DER`.
    pub id: &'static str,
    /// ISO country code (`GB` for the United Kingdom).
    pub country: &'static str,
    /// ISO 4217 currency of prices and sales.
    pub currency: &'static str,
    /// The endpoint group that serves it.
    pub region: Region,
    /// IANA time zone of the marketplace's days: a seller's day there, and
    /// the day a snapshot taken now belongs to.
    pub time_zone: &'static str,
}

/// All marketplaces of PROTOCOL.md §2.2.
pub const MARKETPLACES: &[Marketplace] = &[
    mk("ATVPDKIKX0DER", "US", "USD", Region::Na, "America/Los_Angeles"),
    mk("A2EUQ1WTGCTBG2", "CA", "CAD", Region::Na, "America/Los_Angeles"),
    mk("A1AM78C64UM0Y8", "MX", "MXN", Region::Na, "America/Los_Angeles"),
    mk("A2Q3Y263D00KWC", "BR", "BRL", Region::Na, "America/Sao_Paulo"),
    mk("A1F83G8C2ARO7P", "GB", "GBP", Region::Eu, "Europe/London"),
    mk("A1PA6795UKMFR9", "DE", "EUR", Region::Eu, "Europe/Paris"),
    mk("A13V1IB3VIYZZH", "FR", "EUR", Region::Eu, "Europe/Paris"),
    mk("APJ6JRA9NG5V4", "IT", "EUR", Region::Eu, "Europe/Paris"),
    mk("A1RKKUPIHCS9HS", "ES", "EUR", Region::Eu, "Europe/Paris"),
    mk("A1805IZSGTT6HS", "NL", "EUR", Region::Eu, "Europe/Amsterdam"),
    mk("A2NODRKZP88ZB9", "SE", "SEK", Region::Eu, "Europe/Stockholm"),
    mk("A1C3SOZRARQ6R3", "PL", "PLN", Region::Eu, "Europe/Warsaw"),
    mk("A33AVAJ2PDY3EV", "TR", "TRY", Region::Eu, "Europe/Istanbul"),
    mk("A2VIGQ35RCS4UG", "AE", "AED", Region::Eu, "Asia/Dubai"),
    mk("A17E79C6D8DWNP", "SA", "SAR", Region::Eu, "Asia/Riyadh"),
    mk("ARBP9OOSHTCHU", "EG", "EGP", Region::Eu, "Africa/Cairo"),
    mk("A21TJRUUN4KGV", "IN", "INR", Region::Eu, "Asia/Kolkata"),
    mk("AMEN7PMS3EDWL", "BE", "EUR", Region::Eu, "Europe/Brussels"),
    mk("A28R8C7NBKEWEA", "IE", "EUR", Region::Eu, "Europe/Dublin"),
    mk("AE08WJ6YKNBMC", "ZA", "ZAR", Region::Eu, "Africa/Johannesburg"),
    mk("A1VC38T7YXB528", "JP", "JPY", Region::Fe, "Asia/Tokyo"),
    mk("A39IBJ37TRP1C6", "AU", "AUD", Region::Fe, "Australia/Sydney"),
    mk("A19VAU5U5O7RUS", "SG", "SGD", Region::Fe, "Asia/Singapore"),
];

const fn mk(
    id: &'static str,
    country: &'static str,
    currency: &'static str,
    region: Region,
    time_zone: &'static str,
) -> Marketplace {
    Marketplace {
        id,
        country,
        currency,
        region,
        time_zone,
    }
}

impl Marketplace {
    /// Looks a marketplace up by its SP-API id.
    pub fn by_id(id: &str) -> Option<&'static Marketplace> {
        MARKETPLACES.iter().find(|m| m.id == id)
    }

    /// The marketplace's date at `at`: the day an inventory snapshot taken
    /// then belongs to.
    pub fn local_date(&self, at: DateTime<Utc>) -> NaiveDate {
        self.time_zone
            .parse::<chrono_tz::Tz>()
            .map_or_else(|_| at.date_naive(), |tz| at.with_timezone(&tz).date_naive())
    }

    /// Whether Amazon delivers this marketplace's flat files in Windows-1252.
    ///
    /// EU flat files are `Cp1252` (PROTOCOL.md §3.6, §6.6). India and the Middle East
    /// are served by the EU endpoint but we have no evidence either way for them, so
    /// only the European countries are treated as Cp1252.
    pub fn flat_file_is_cp1252(&self) -> bool {
        matches!(
            self.country,
            "GB" | "DE" | "FR" | "IT" | "ES" | "NL" | "SE" | "PL" | "BE" | "IE"
        )
    }

    /// Whether Amazon delivers this marketplace's flat files in Shift_JIS (Japan,
    /// PROTOCOL.md §3.6).
    pub fn flat_file_is_shift_jis(&self) -> bool {
        self.country == "JP"
    }

    /// Whether amounts in this currency have no minor unit (yen).
    pub(crate) fn whole_currency(&self) -> bool {
        self.currency == "JPY"
    }
}
