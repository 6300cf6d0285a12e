//! The two schemas must describe the same tables, columns and keys.

use std::collections::{BTreeMap, BTreeSet};

use amzsync_test_support::TestDb;

type Schema = BTreeMap<String, (BTreeSet<String>, BTreeSet<Vec<String>>)>;

async fn sqlite_schema(t: &TestDb) -> Schema {
    let p = t.sqlite_pool().unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '\\_%' ESCAPE '\\'",
    )
    .fetch_all(p)
    .await
    .unwrap();
    let mut out = Schema::new();
    for table in tables {
        // table_xinfo also lists generated columns, which table_info hides.
        let columns: Vec<String> = sqlx::query_scalar("SELECT name FROM pragma_table_xinfo($1)")
            .bind(&table)
            .fetch_all(p)
            .await
            .unwrap();
        let indexes: Vec<(String, i64, String)> =
            sqlx::query_as("SELECT name, \"unique\", partial FROM pragma_index_list($1)")
                .bind(&table)
                .fetch_all(p)
                .await
                .unwrap()
                .into_iter()
                .map(|(n, u, partial): (String, i64, i64)| (n, u, partial.to_string()))
                .collect();
        let mut keys = BTreeSet::new();
        for (index, unique, _) in indexes {
            if unique == 0 {
                continue;
            }
            let cols: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&index)
                    .fetch_all(p)
                    .await
                    .unwrap();
            keys.insert(cols);
        }
        // An INTEGER PRIMARY KEY is the rowid and has no index of its own.
        let pk: Vec<(String, i64)> =
            sqlx::query_as("SELECT name, pk FROM pragma_table_info($1) WHERE pk > 0")
                .bind(&table)
                .fetch_all(p)
                .await
                .unwrap();
        if pk.len() == 1 {
            keys.insert(vec![pk[0].0.clone()]);
        }
        out.insert(table, (columns.into_iter().collect(), keys));
    }
    out
}

async fn postgres_schema(t: &TestDb) -> Schema {
    let p = t.postgres_pool().unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_name NOT LIKE '\\_%'",
    )
    .fetch_all(p)
    .await
    .unwrap();
    let mut out = Schema::new();
    for table in tables {
        let columns: Vec<String> = sqlx::query_scalar(
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&table)
        .fetch_all(p)
        .await
        .unwrap();
        let keys: Vec<Vec<String>> = sqlx::query_scalar(
            "SELECT ARRAY(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, n)
                          JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
                          ORDER BY k.n)
             FROM pg_index i WHERE i.indrelid = $1::regclass AND i.indisunique",
        )
        .bind(&table)
        .fetch_all(p)
        .await
        .unwrap();
        out.insert(table, (columns.into_iter().collect(), keys.into_iter().collect()));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_engines_have_the_same_tables_columns_and_unique_keys() {
    let lite = sqlite_schema(&TestDb::sqlite().await).await;
    let pg = postgres_schema(&TestDb::postgres().await).await;
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        pg.keys().collect::<Vec<_>>(),
        "the same tables on both engines"
    );
    for (table, (columns, keys)) in &lite {
        let (pg_columns, pg_keys) = &pg[table];
        assert_eq!(columns, pg_columns, "columns of {table}");
        assert_eq!(keys, pg_keys, "unique keys of {table}");
    }
    assert!(lite.contains_key("inventory_snapshots_archive"));
    assert!(
        lite["sync_tasks"]
            .1
            .contains(&vec!["store_id".to_owned(), "sync_type".to_owned()]),
        "the FR-6 key exists"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrating_twice_changes_nothing() {
    for t in [TestDb::sqlite().await, TestDb::postgres().await] {
        t.migrate().await.expect("a second migration run is a no-op");
        t.ping().await.unwrap();
    }
}
