-- FR-2: Sales & Traffic by child ASIN for one day, from the CHILD-granularity report
-- of the same marketplace and day as the SKU rows (written in the same transaction).
-- A table of its own rather than more rows of business_metric_snapshots: its key is
-- the child ASIN, not a SKU, and it includes ASINs with traffic but no orders, which
-- the SKU-granularity report leaves out (PROTOCOL.md §4.4.4).
CREATE TABLE asin_traffic_snapshots (
    store_id                  BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id            TEXT NOT NULL,
    date                      DATE NOT NULL,
    child_asin                TEXT COLLATE "C" NOT NULL,
    parent_asin               TEXT COLLATE "C" NOT NULL,
    currency                  TEXT NOT NULL,
    ordered_product_sales     NUMERIC NOT NULL DEFAULT 0,
    ordered_product_sales_b2b NUMERIC,
    units_ordered             BIGINT NOT NULL DEFAULT 0,
    units_ordered_b2b         BIGINT,
    total_order_items         BIGINT NOT NULL DEFAULT 0,
    total_order_items_b2b     BIGINT,
    sessions                  BIGINT NOT NULL DEFAULT 0,
    page_views                BIGINT NOT NULL DEFAULT 0,
    session_percentage        NUMERIC,
    page_views_percentage     NUMERIC,
    buy_box_percentage        NUMERIC,
    unit_session_percentage   NUMERIC,
    created_at                TIMESTAMPTZ NOT NULL,
    updated_at                TIMESTAMPTZ NOT NULL,
    CONSTRAINT asin_traffic_snapshots_pkey PRIMARY KEY (store_id, marketplace_id, date, child_asin)
);

-- FR-1 backfill: the daily inventory ledger (GET_LEDGER_SUMMARY_VIEW_DATA, DAILY,
-- COUNTRY), one row per SKU, FNSKU, disposition and location per day, as Amazon
-- writes it; outflows are negative and ending = starting + the movements.
-- Not columns of inventory_snapshots: the ledger splits stock by disposition and
-- location, its SELLABLE balance is fulfillable and reserved together, it has no
-- inbound, researching or total quantities, and its balance is the day's end where
-- a snapshot is the moment of the report. Filling snapshot columns from it would
-- invent values or give one column two meanings, and a separate table makes it
-- impossible for a ledger row to overwrite a snapshot. Key columns hold '' when
-- Amazon leaves the cell empty (FNSKU, Location).
CREATE TABLE inventory_ledger_daily (
    store_id                      BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id                TEXT NOT NULL,
    date                          DATE NOT NULL,
    sku                           TEXT COLLATE "C" NOT NULL,
    fnsku                         TEXT COLLATE "C" NOT NULL,
    disposition                   TEXT NOT NULL,
    location                      TEXT NOT NULL,
    asin                          TEXT COLLATE "C",
    title                         TEXT,
    starting_warehouse_balance    BIGINT NOT NULL,
    in_transit_between_warehouses BIGINT,
    receipts                      BIGINT,
    customer_shipments            BIGINT,
    customer_returns              BIGINT,
    vendor_returns                BIGINT,
    warehouse_transfer_in_out     BIGINT,
    found                         BIGINT,
    lost                          BIGINT,
    damaged                       BIGINT,
    disposed                      BIGINT,
    other_events                  BIGINT,
    ending_warehouse_balance      BIGINT NOT NULL,
    unknown_events                BIGINT,
    created_at                    TIMESTAMPTZ NOT NULL,
    updated_at                    TIMESTAMPTZ NOT NULL,
    CONSTRAINT inventory_ledger_daily_pkey
        PRIMARY KEY (store_id, marketplace_id, date, sku, fnsku, disposition, location)
);

-- FR-9: their archive twins, as in the initial migration.
CREATE TABLE asin_traffic_snapshots_archive (LIKE asin_traffic_snapshots INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE inventory_ledger_daily_archive (LIKE inventory_ledger_daily INCLUDING DEFAULTS INCLUDING CONSTRAINTS);

ALTER TABLE asin_traffic_snapshots_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT asin_traffic_snapshots_archive_pkey PRIMARY KEY (store_id, marketplace_id, date, child_asin),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
ALTER TABLE inventory_ledger_daily_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT inventory_ledger_daily_archive_pkey
        PRIMARY KEY (store_id, marketplace_id, date, sku, fnsku, disposition, location),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
