-- The data tables (snapshots, Ads metrics, child-ASIN traffic, the inventory
-- ledger and their archive twins) drop their foreign key to amazon_stores.
--
-- Why: PostgreSQL checks a foreign key row by row, with a trigger and a
-- key-share lock on the store's row. On these tables, where every sync
-- inserts thousands of rows per statement, that check cost about as much as
-- the insert itself (300,000 rows: 1.65 s with the key, 0.87 s without), and
-- PostgreSQL's CPU is what bounds a fleet of workers.
--
-- What keeps the rows tied to a store instead:
-- - only the sync engine writes them, in the same transaction as a fenced
--   update of the task's row, which still references the store: a store
--   deleted meanwhile takes its tasks with it, so that update finds nothing
--   and the rows roll back;
-- - `Stores::delete` deletes the store (cascading to its tasks, waiting for
--   a sync committing at that moment) and then its rows in every data table,
--   in one transaction.
--
-- SQLite keeps its keys: one writer, checks in-process and cheap, and
-- dropping a key there means rebuilding the table.
ALTER TABLE inventory_snapshots DROP CONSTRAINT IF EXISTS inventory_snapshots_store_id_fkey;
ALTER TABLE business_metric_snapshots DROP CONSTRAINT IF EXISTS business_metric_snapshots_store_id_fkey;
ALTER TABLE ads_metric_snapshots DROP CONSTRAINT IF EXISTS ads_metric_snapshots_store_id_fkey;
ALTER TABLE ads_campaign_metrics DROP CONSTRAINT IF EXISTS ads_campaign_metrics_store_id_fkey;
ALTER TABLE ads_ad_group_metrics DROP CONSTRAINT IF EXISTS ads_ad_group_metrics_store_id_fkey;
ALTER TABLE ads_targeting_metrics DROP CONSTRAINT IF EXISTS ads_targeting_metrics_store_id_fkey;
ALTER TABLE ads_search_term_metrics DROP CONSTRAINT IF EXISTS ads_search_term_metrics_store_id_fkey;
ALTER TABLE asin_traffic_snapshots DROP CONSTRAINT IF EXISTS asin_traffic_snapshots_store_id_fkey;
ALTER TABLE inventory_ledger_daily DROP CONSTRAINT IF EXISTS inventory_ledger_daily_store_id_fkey;
ALTER TABLE inventory_snapshots_archive DROP CONSTRAINT IF EXISTS inventory_snapshots_archive_store_id_fkey;
ALTER TABLE business_metric_snapshots_archive DROP CONSTRAINT IF EXISTS business_metric_snapshots_archive_store_id_fkey;
ALTER TABLE ads_metric_snapshots_archive DROP CONSTRAINT IF EXISTS ads_metric_snapshots_archive_store_id_fkey;
ALTER TABLE ads_campaign_metrics_archive DROP CONSTRAINT IF EXISTS ads_campaign_metrics_archive_store_id_fkey;
ALTER TABLE ads_ad_group_metrics_archive DROP CONSTRAINT IF EXISTS ads_ad_group_metrics_archive_store_id_fkey;
ALTER TABLE ads_targeting_metrics_archive DROP CONSTRAINT IF EXISTS ads_targeting_metrics_archive_store_id_fkey;
ALTER TABLE ads_search_term_metrics_archive DROP CONSTRAINT IF EXISTS ads_search_term_metrics_archive_store_id_fkey;
ALTER TABLE asin_traffic_snapshots_archive DROP CONSTRAINT IF EXISTS asin_traffic_snapshots_archive_store_id_fkey;
ALTER TABLE inventory_ledger_daily_archive DROP CONSTRAINT IF EXISTS inventory_ledger_daily_archive_store_id_fkey;
