//! Set-based upsert of snapshot rows, the ingest hot path. Rows are turned into
//! columns, then written with one statement per chunk:
//! - PostgreSQL: a binary `COPY` first, which costs the server about a third
//!   less CPU per row than any `INSERT` (it fills pages in bulk), and for a
//!   chunk that turns out to conflict `INSERT … SELECT FROM UNNEST($1::bigint[],
//!   …) ON CONFLICT … DO UPDATE`: one typed array per column, so the statement
//!   text and its plan are the same whatever the chunk size, and no
//!   bind-parameter limit applies;
//! - SQLite: a prepared multi-row `VALUES` statement per chunk size, inside one
//!   transaction (SQLite caps a statement at 32 766 parameters).
//!
//! A conflicting row gets every value column replaced and `updated_at` moved;
//! `created_at` keeps the time the row was first seen.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::PgArgumentBuffer;
use sqlx::{Encode, PgConnection, Postgres};

use crate::db::{Tx, TxInner};
use crate::{Dec, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    BigInt,
    Text,
    Date,
    Numeric,
}

impl Kind {
    fn pg_array(self) -> &'static str {
        match self {
            Kind::BigInt => "bigint[]",
            Kind::Text => "text[]",
            Kind::Date => "date[]",
            Kind::Numeric => "numeric[]",
        }
    }
}

/// A table the bulk path writes: its columns in the order rows write them,
/// the natural key first.
#[derive(Debug)]
pub(crate) struct Table {
    pub name: &'static str,
    pub key: &'static [&'static str],
    pub columns: &'static [(&'static str, Kind)],
}

/// A row type that can be upserted in bulk.
pub(crate) trait BulkRow {
    const TABLE: &'static Table;
    /// Writes the row's values in the order of `TABLE.columns`; text is
    /// borrowed from the row, not copied.
    fn write<'a>(&'a self, out: &mut RowWriter<'_, 'a>);
}

enum Values<'a> {
    BigInt(Vec<Option<i64>>),
    Text(Vec<Option<&'a str>>),
    Date(Vec<Option<NaiveDate>>),
    Numeric(Vec<Option<Dec>>),
}

/// Rows laid out as columns.
struct Columns<'a> {
    values: Vec<Values<'a>>,
}

impl Columns<'_> {
    fn new(table: &Table, capacity: usize) -> Self {
        let values = table
            .columns
            .iter()
            .map(|(_, kind)| match kind {
                Kind::BigInt => Values::BigInt(Vec::with_capacity(capacity)),
                Kind::Text => Values::Text(Vec::with_capacity(capacity)),
                Kind::Date => Values::Date(Vec::with_capacity(capacity)),
                Kind::Numeric => Values::Numeric(Vec::with_capacity(capacity)),
            })
            .collect();
        Self { values }
    }

    /// Rows laid out (every column has one value per row).
    fn rows(&self) -> usize {
        self.values.first().map_or(0, |v| match v {
            Values::BigInt(c) => c.len(),
            Values::Text(c) => c.len(),
            Values::Date(c) => c.len(),
            Values::Numeric(c) => c.len(),
        })
    }
}

/// Appends one row's values, column by column.
pub(crate) struct RowWriter<'c, 'a> {
    columns: &'c mut Columns<'a>,
    next: usize,
}

impl<'a> RowWriter<'_, 'a> {
    fn slot(&mut self) -> &mut Values<'a> {
        let i = self.next;
        self.next += 1;
        &mut self.columns.values[i]
    }

    pub fn int(&mut self, v: impl Into<Option<i64>>) -> &mut Self {
        match self.slot() {
            Values::BigInt(c) => c.push(v.into()),
            _ => panic!("column order of the row type disagrees with its table"),
        }
        self
    }

    pub fn text(&mut self, v: Option<&'a str>) -> &mut Self {
        match self.slot() {
            Values::Text(c) => c.push(v),
            _ => panic!("column order of the row type disagrees with its table"),
        }
        self
    }

    pub fn date(&mut self, v: NaiveDate) -> &mut Self {
        match self.slot() {
            Values::Date(c) => c.push(Some(v)),
            _ => panic!("column order of the row type disagrees with its table"),
        }
        self
    }

    pub fn dec(&mut self, v: impl Into<Option<Decimal>>) -> &mut Self {
        match self.slot() {
            Values::Numeric(c) => c.push(v.into().map(Dec)),
            _ => panic!("column order of the row type disagrees with its table"),
        }
        self
    }
}

/// Rows per PostgreSQL statement: large enough to amortize the round trip,
/// small enough to keep each statement's memory modest.
const PG_CHUNK: usize = 10_000;
/// SQLite's limit on bound parameters per statement.
const SQLITE_MAX_PARAMS: usize = 32_766;
/// Rows per SQLite statement at most; past this, longer statements stop
/// paying for themselves (measured with the bulk_upsert bench).
const SQLITE_CHUNK: usize = 256;

/// Upserts `rows` inside `tx`; returns the number of rows written.
pub(crate) async fn upsert<R: BulkRow>(tx: &mut Tx, rows: &[R]) -> Result<u64> {
    let table = R::TABLE;
    let now = tx.now;
    match &mut tx.inner {
        TxInner::Postgres(conn) => {
            let copy = statement(table, "pg-copy", || pg_copy_sql(table));
            let upsert = statement(table, "pg", || pg_upsert_sql(table));
            for chunk in rows.chunks(PG_CHUNK) {
                let cols = to_columns(chunk);
                // Optimistic plain COPY first: ON CONFLICT's speculative
                // insertion costs the server about 1.4x the CPU per row of a
                // plain INSERT, which costs more than COPY, and the first load
                // of a day (a new snapshot, a backfill, a day re-pulled after
                // its rows were cleared) has no conflicts. A batch that does
                // conflict fails at its first existing key, is rolled back to
                // the savepoint and upserted; a full re-sync fails at once, so
                // it loses little.
                sqlx::query("SAVEPOINT bulk_insert").execute(&mut **conn).await?;
                let inserted = pg_copy(conn, copy, &cols, now).await;
                match inserted {
                    Ok(_) => {
                        sqlx::query("RELEASE SAVEPOINT bulk_insert")
                            .execute(&mut **conn)
                            .await?;
                    }
                    Err(e) if crate::error::unique_violation(&e).is_some() => {
                        sqlx::query("ROLLBACK TO SAVEPOINT bulk_insert")
                            .execute(&mut **conn)
                            .await?;
                        sqlx::query("RELEASE SAVEPOINT bulk_insert")
                            .execute(&mut **conn)
                            .await?;
                        pg_bind(upsert, &cols, now).execute(&mut **conn).await?;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
        TxInner::Sqlite(conn) => {
            let per_chunk = SQLITE_MAX_PARAMS / (table.columns.len() + 2);
            let per_chunk = per_chunk.min(SQLITE_CHUNK);
            let mut rest = rows;
            while !rest.is_empty() {
                let size = sqlite_chunk_len(rest.len(), per_chunk);
                let (chunk, tail) = rest.split_at(size);
                rest = tail;
                let sql = sqlite_statement(table, chunk.len());
                let cols = to_columns(chunk);
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for i in 0..chunk.len() {
                    for values in &cols.values {
                        q = match values {
                            Values::BigInt(v) => q.bind(v[i]),
                            Values::Text(v) => q.bind(v[i]),
                            Values::Date(v) => q.bind(v[i]),
                            Values::Numeric(v) => q.bind(v[i]),
                        };
                    }
                    q = q.bind(now).bind(now);
                }
                q.execute(&mut **conn).await?;
            }
        }
    }
    Ok(rows.len() as u64)
}

/// The next chunk's length: full chunks, then the remainder in powers of two,
/// so a table has a handful of distinct statements to prepare and cache
/// rather than one per remainder size.
fn sqlite_chunk_len(remaining: usize, per_chunk: usize) -> usize {
    if remaining >= per_chunk {
        per_chunk
    } else {
        1 << remaining.ilog2()
    }
}

fn to_columns<R: BulkRow>(rows: &[R]) -> Columns<'_> {
    let mut cols = Columns::new(R::TABLE, rows.len());
    for row in rows {
        let mut w = RowWriter {
            columns: &mut cols,
            next: 0,
        };
        row.write(&mut w);
        debug_assert_eq!(
            w.next,
            R::TABLE.columns.len(),
            "{} wrote too few columns",
            R::TABLE.name
        );
    }
    cols
}

fn column_list(table: &Table) -> String {
    table
        .columns
        .iter()
        .map(|(n, _)| *n)
        .collect::<Vec<_>>()
        .join(", ")
}

fn on_conflict(table: &Table, excluded: &str) -> String {
    let updates: Vec<String> = table
        .columns
        .iter()
        .filter(|(n, _)| !table.key.contains(n))
        .map(|(n, _)| format!("{n} = {excluded}.{n}"))
        .chain(std::iter::once(format!("updated_at = {excluded}.updated_at")))
        .collect();
    format!(
        "ON CONFLICT ({}) DO UPDATE SET {}",
        table.key.join(", "),
        updates.join(", ")
    )
}

/// Writes `cols` with `sql`, a binary `COPY … FROM STDIN`.
///
/// Not cancellation-safe: a future dropped between `copy_in_raw` and
/// `finish` leaves the connection expecting the end of the `COPY` (sqlx
/// queues a `CopyFail` but does not read the answer). Nothing cancels a
/// delivery's upsert; the queue lets a running job finish.
async fn pg_copy(
    conn: &mut PgConnection,
    sql: &'static str,
    cols: &Columns<'_>,
    now: DateTime<Utc>,
) -> std::result::Result<(), sqlx::Error> {
    let data = copy_data(cols, now).map_err(sqlx::Error::Encode)?;
    let mut copy = conn.copy_in_raw(sql).await?;
    copy.send(data).await?;
    // `send` only writes: the server stops at a conflicting row and skips
    // the rest of the stream, and its error is read here, after which the
    // connection is ready for the rollback to the savepoint.
    copy.finish().await?;
    Ok(())
}

/// `cols` in PostgreSQL's binary `COPY` format: a header, then per row the
/// number of fields and each field as its length (-1 for NULL) and its
/// binary value, as the server's `*_recv` functions read them, then a
/// trailer. Values are encoded by the same sqlx encoders as bound parameters.
fn copy_data(cols: &Columns<'_>, now: DateTime<Utc>) -> std::result::Result<Vec<u8>, BoxDynError> {
    let fields = i16::try_from(cols.values.len() + 2)?.to_be_bytes();
    let mut buf = PgArgumentBuffer::default();
    buf.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    // Flags, then the length of the header extension: none.
    buf.extend_from_slice(&[0; 8]);
    // created_at and updated_at: the same field in every row, encoded once.
    let mut stamp = PgArgumentBuffer::default();
    copy_field(&mut stamp, &now)?;
    for i in 0..cols.rows() {
        buf.extend_from_slice(&fields);
        for values in &cols.values {
            match values {
                Values::BigInt(v) => copy_field(&mut buf, &v[i])?,
                Values::Text(v) => copy_field(&mut buf, &v[i])?,
                Values::Date(v) => copy_field(&mut buf, &v[i])?,
                Values::Numeric(v) => copy_field(&mut buf, &v[i])?,
            }
        }
        buf.extend_from_slice(&stamp);
        buf.extend_from_slice(&stamp);
    }
    buf.extend_from_slice(&(-1i16).to_be_bytes());
    Ok(std::mem::take(&mut *buf))
}

fn copy_field<'q, T: Encode<'q, Postgres>>(
    buf: &mut PgArgumentBuffer,
    value: &T,
) -> std::result::Result<(), BoxDynError> {
    let start = buf.len();
    buf.extend_from_slice(&[0; 4]);
    let len = match value.encode_by_ref(buf)? {
        IsNull::Yes => -1,
        IsNull::No => i32::try_from(buf.len() - start - 4)?,
    };
    buf[start..start + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Binds one array per column, then the timestamp.
fn pg_bind<'q>(
    sql: &'static str,
    cols: &'q Columns<'_>,
    now: DateTime<Utc>,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for values in &cols.values {
        q = match values {
            Values::BigInt(v) => q.bind(&v[..]),
            Values::Text(v) => q.bind(&v[..]),
            Values::Date(v) => q.bind(&v[..]),
            Values::Numeric(v) => q.bind(&v[..]),
        };
    }
    q.bind(now)
}

/// The plain load of [`pg_copy`]: the columns in the order rows write them.
fn pg_copy_sql(table: &Table) -> String {
    format!(
        "COPY {t} ({cols}, created_at, updated_at) FROM STDIN (FORMAT binary)",
        t = table.name,
        cols = column_list(table),
    )
}

fn pg_upsert_sql(table: &Table) -> String {
    let n = table.columns.len();
    let arrays: Vec<String> = table
        .columns
        .iter()
        .enumerate()
        .map(|(i, (_, k))| format!("${}::{}", i + 1, k.pg_array()))
        .collect();
    format!(
        "INSERT INTO {t} ({cols}, created_at, updated_at)
         SELECT u.*, ${now}::timestamptz, ${now}::timestamptz FROM UNNEST({arrays}) AS u
         {conflict}",
        t = table.name,
        cols = column_list(table),
        now = n + 1,
        arrays = arrays.join(", "),
        conflict = on_conflict(table, "EXCLUDED"),
    )
}

/// Anonymous `?` placeholders, the timestamp bound twice per row: sqlx binds
/// a numbered `$N` by asking SQLite for each parameter's name, a scan over all
/// of them, which made large statements quadratic (91% of the CPU of an
/// upsert in the bench).
fn sqlite_upsert_sql(table: &Table, rows: usize) -> String {
    let n = table.columns.len();
    let row = format!("({})", vec!["?"; n + 2].join(", "));
    let values = vec![row.as_str(); rows].join(", ");
    format!(
        "INSERT INTO {t} ({cols}, created_at, updated_at) VALUES {values} {conflict}",
        t = table.name,
        cols = column_list(table),
        conflict = on_conflict(table, "excluded"),
    )
}

/// Statement texts are built once per table (and chunk size) and kept for the
/// life of the process, so sqlx's per-connection statement cache hits (a
/// `COPY` goes by the simple protocol, unprepared: its text is just kept).
fn statement(table: &'static Table, engine: &'static str, build: impl FnOnce() -> String) -> &'static str {
    static CACHE: OnceLock<Mutex<HashMap<(&'static str, &'static str), &'static str>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .expect("statement cache lock poisoned");
    cache
        .entry((table.name, engine))
        .or_insert_with(|| Box::leak(build().into_boxed_str()))
}

fn sqlite_statement(table: &'static Table, rows: usize) -> &'static str {
    static CACHE: OnceLock<Mutex<HashMap<(&'static str, usize), &'static str>>> = OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .expect("statement cache lock poisoned");
    cache
        .entry((table.name, rows))
        .or_insert_with(|| Box::leak(sqlite_upsert_sql(table, rows).into_boxed_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    static T: Table = Table {
        name: "t",
        key: &["a", "b"],
        columns: &[("a", Kind::BigInt), ("b", Kind::Text), ("c", Kind::Numeric)],
    };

    #[test]
    fn copy_data_frames_each_row_and_marks_nulls() {
        let cols = Columns {
            values: vec![
                Values::BigInt(vec![Some(7), None]),
                Values::Text(vec![Some("ab"), None]),
                Values::Numeric(vec![Some(Dec(Decimal::new(125, 2))), None]),
            ],
        };
        let now = DateTime::from_timestamp(946_684_800, 0).expect("2000-01-01"); // PostgreSQL's epoch
        let data = copy_data(&cols, now).unwrap();

        let mut expected: Vec<u8> = b"PGCOPY\n\xff\r\n\0".to_vec();
        expected.extend([0; 8]); // flags, header extension length
        // created_at and updated_at: 8 bytes each, 0 µs after the epoch.
        let timestamps = [8i32.to_be_bytes(), [0; 4], [0; 4]].concat().repeat(2);
        // Row 1: 5 fields (3 columns, created_at, updated_at).
        expected.extend(5i16.to_be_bytes());
        expected.extend(8i32.to_be_bytes());
        expected.extend(7i64.to_be_bytes());
        expected.extend(2i32.to_be_bytes());
        expected.extend(b"ab");
        let numeric_len = i32::from_be_bytes(data[expected.len()..expected.len() + 4].try_into().unwrap());
        expected.extend(numeric_len.to_be_bytes());
        let mut numeric = PgArgumentBuffer::default();
        let _ = Encode::<Postgres>::encode_by_ref(&Dec(Decimal::new(125, 2)), &mut numeric).unwrap();
        expected.extend(numeric.iter());
        expected.extend(&timestamps);
        // Row 2: every column NULL (length -1, no bytes), then the timestamps.
        expected.extend(5i16.to_be_bytes());
        for _ in 0..3 {
            expected.extend((-1i32).to_be_bytes());
        }
        expected.extend(&timestamps);
        expected.extend((-1i16).to_be_bytes()); // trailer
        assert_eq!(data, expected);
    }

    #[test]
    fn postgres_statement_unnests_one_array_per_column() {
        let sql = pg_upsert_sql(&T);
        assert!(
            sql.contains("UNNEST($1::bigint[], $2::text[], $3::numeric[])"),
            "{sql}"
        );
        assert!(sql.contains("$4::timestamptz"), "{sql}");
        assert!(
            sql.contains("ON CONFLICT (a, b) DO UPDATE SET c = EXCLUDED.c, updated_at = EXCLUDED.updated_at")
        );
    }

    #[test]
    fn sqlite_remainders_split_into_powers_of_two() {
        let mut left = 1_437;
        let mut sizes = Vec::new();
        while left > 0 {
            let n = sqlite_chunk_len(left, 500);
            sizes.push(n);
            left -= n;
        }
        assert_eq!(sizes, vec![500, 500, 256, 128, 32, 16, 4, 1]);
    }

    #[test]
    fn sqlite_statement_has_anonymous_placeholders_per_row() {
        let sql = sqlite_upsert_sql(&T, 2);
        assert!(sql.contains("VALUES (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)"), "{sql}");
    }
}
