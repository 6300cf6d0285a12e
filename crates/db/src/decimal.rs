//! Exact decimals on both engines. PostgreSQL stores `NUMERIC`; SQLite has no
//! decimal type and would turn a `NUMERIC` column's value into a float, so there
//! the canonical decimal string is stored as `TEXT`.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgHasArrayType, PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
use sqlx::{Decode, Encode, Postgres, Sqlite, Type};

/// A `Decimal` that round-trips exactly through either engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec(pub Decimal);

impl From<Decimal> for Dec {
    fn from(d: Decimal) -> Self {
        Dec(d)
    }
}

impl From<Dec> for Decimal {
    fn from(d: Dec) -> Self {
        d.0
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for Dec {
    type Err = rust_decimal::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Decimal::from_str_exact(s).map(Dec)
    }
}

impl Type<Sqlite> for Dec {
    fn type_info() -> SqliteTypeInfo {
        <String as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        // A value computed by SQLite (SUM over the TEXT column) comes back numeric.
        <String as Type<Sqlite>>::compatible(ty)
            || <f64 as Type<Sqlite>>::compatible(ty)
            || <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Dec {
    fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
        // normalize(): "12.50" and "12.5" are the same amount; store one spelling.
        <String as Encode<'_, Sqlite>>::encode(self.0.normalize().to_string(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Dec {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        use sqlx::ValueRef;
        let info = value.type_info();
        if <i64 as Type<Sqlite>>::compatible(&info) && info.to_string() == "INTEGER" {
            return Ok(Dec(Decimal::from(<i64 as Decode<'r, Sqlite>>::decode(value)?)));
        }
        if info.to_string() == "REAL" {
            // Only reached for values SQLite computed itself; the shortest
            // round-trip spelling of the float is the exact decimal it stands for.
            let f = <f64 as Decode<'r, Sqlite>>::decode(value)?;
            return Ok(Dec(Decimal::from_str_exact(&f.to_string())?));
        }
        let s = <&str as Decode<'r, Sqlite>>::decode(value)?;
        Ok(Dec(Decimal::from_str_exact(s)?))
    }
}

impl Type<Postgres> for Dec {
    fn type_info() -> PgTypeInfo {
        <Decimal as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <Decimal as Type<Postgres>>::compatible(ty)
    }
}

impl PgHasArrayType for Dec {
    fn array_type_info() -> PgTypeInfo {
        <Decimal as PgHasArrayType>::array_type_info()
    }
}

impl Encode<'_, Postgres> for Dec {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        <Decimal as Encode<'_, Postgres>>::encode_by_ref(&self.0.normalize(), buf)
    }
}

impl<'r> Decode<'r, Postgres> for Dec {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Dec(<Decimal as Decode<'r, Postgres>>::decode(value)?))
    }
}

/// A nullable [`Dec`], for reading optional decimal columns straight into
/// `Option<Decimal>` fields (`#[sqlx(try_from = "OptDec")]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OptDec(pub Option<Decimal>);

impl From<OptDec> for Option<Decimal> {
    fn from(d: OptDec) -> Self {
        d.0
    }
}

macro_rules! opt_dec_for {
    ($db:ty, $info:ty, $value:ty) => {
        impl Type<$db> for OptDec {
            fn type_info() -> $info {
                <Dec as Type<$db>>::type_info()
            }
            fn compatible(ty: &$info) -> bool {
                <Dec as Type<$db>>::compatible(ty)
            }
        }

        impl<'r> Decode<'r, $db> for OptDec {
            fn decode(value: $value) -> Result<Self, BoxDynError> {
                Ok(OptDec(
                    <Option<Dec> as Decode<'r, $db>>::decode(value)?.map(|d| d.0),
                ))
            }
        }
    };
}
opt_dec_for!(Sqlite, SqliteTypeInfo, SqliteValueRef<'r>);
opt_dec_for!(Postgres, PgTypeInfo, PgValueRef<'r>);
