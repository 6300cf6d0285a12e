-- amzsync schema, PostgreSQL. Kept in step with ../sqlite/ (same tables, columns and
-- keys; a test compares them). Conventions:
--   * money and Amazon's percentages are NUMERIC (exact), with a currency column;
--   * timestamps are TIMESTAMPTZ in UTC, business dates are DATE in marketplace time;
--   * snapshot and detail tables are keyed by their natural key (never names), which
--     is also the only index they carry: every extra index costs on each upsert;
--   * sku/asin use COLLATE "C": byte order is all we need and makes index upkeep cheaper.

CREATE TABLE users (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        TEXT NOT NULL,
    is_admin    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT users_name_key UNIQUE (name)
);

-- Only a SHA-256 of each token is kept: tokens are 256-bit random, so a fast hash
-- is enough and a leaked table reveals nothing usable.
CREATE TABLE api_tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id       BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    last_used_at  TIMESTAMPTZ,
    revoked_at    TIMESTAMPTZ,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

-- Column names follow the system amzsync replaces. Secret columns hold
-- "v1:" + base64(nonce || AES-256-GCM ciphertext), bound to the row id and column.
-- marketplace_id is the store's primary marketplace; all of them are in store_marketplaces.
CREATE TABLE amazon_stores (
    id                              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id                         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    store_name                      TEXT NOT NULL,
    region                          TEXT NOT NULL CHECK (region IN ('na', 'eu', 'fe')),
    marketplace_id                  TEXT NOT NULL,
    seller_id                       TEXT NOT NULL,
    sp_api_refresh_token            TEXT,
    advertising_api_refresh_token   TEXT,
    -- NULL client id and secret: the globally configured LWA application is used.
    sp_api_client_id                TEXT,
    sp_api_client_secret            TEXT,
    is_active                       BOOLEAN NOT NULL DEFAULT TRUE,
    -- idle | syncing | error | needs_reauth (the last blocks scheduled syncs until
    -- the credentials change).
    sync_status                     TEXT NOT NULL DEFAULT 'idle'
        CHECK (sync_status IN ('idle', 'syncing', 'error', 'needs_reauth')),
    last_sync_at                    TIMESTAMPTZ,
    last_sync_error                 TEXT,
    created_at                      TIMESTAMPTZ NOT NULL,
    updated_at                      TIMESTAMPTZ NOT NULL,
    CONSTRAINT amazon_stores_seller_region_key UNIQUE (user_id, seller_id, region)
);

CREATE TABLE store_marketplaces (
    store_id        BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id  TEXT NOT NULL,
    CONSTRAINT store_marketplaces_pkey PRIMARY KEY (store_id, marketplace_id)
);

-- Advertising profiles discovered from the store's Ads authorization (one per
-- account and marketplace). profile_id is a 64-bit integer in Amazon's JSON.
CREATE TABLE ads_profiles (
    store_id        BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id      BIGINT NOT NULL,
    marketplace_id  TEXT NOT NULL,
    country_code    TEXT NOT NULL,
    currency_code   TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    account_type    TEXT NOT NULL,
    account_name    TEXT,
    discovered_at   TIMESTAMPTZ NOT NULL,
    CONSTRAINT ads_profiles_pkey PRIMARY KEY (store_id, profile_id)
);

-- One run of one sync kind for one store over one window. The id is a ULID shared
-- with the job queue. The columns of the original model come first.
CREATE TABLE sync_tasks (
    id                TEXT PRIMARY KEY,
    store_id          BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    sync_type         TEXT NOT NULL CHECK (sync_type IN ('inventory', 'business', 'advertising')),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'running', 'success', 'failed')),
    start_time        TIMESTAMPTZ,
    end_time          TIMESTAMPTZ,
    records_synced    BIGINT NOT NULL DEFAULT 0,
    records_failed    BIGINT NOT NULL DEFAULT 0,
    error_message     TEXT,
    -- Retries spent on transient faults; waiting for a report spends none.
    retry_count       INTEGER NOT NULL DEFAULT 0,
    created_at        TIMESTAMPTZ NOT NULL,
    -- What makes a task observable and resumable:
    error_class       TEXT,
    window_start      DATE,
    window_end        DATE,
    trigger           TEXT NOT NULL CHECK (trigger IN ('manual', 'scheduled', 'retry')),
    -- Deliveries that claimed the task (a redelivery after a crash counts too).
    attempt           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TIMESTAMPTZ,
    lease_owner       TEXT,
    lease_expires_at  TIMESTAMPTZ,
    -- Where to resume: Amazon report ids per day/marketplace, cursors.
    checkpoint        JSONB NOT NULL DEFAULT '{}'::jsonb,
    progress_done     INTEGER NOT NULL DEFAULT 0,
    progress_total    INTEGER NOT NULL DEFAULT 0,
    progress_message  TEXT,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX sync_tasks_store_id_idx ON sync_tasks (store_id);
CREATE INDEX sync_tasks_sync_type_idx ON sync_tasks (sync_type);
CREATE INDEX sync_tasks_status_idx ON sync_tasks (status);
CREATE INDEX sync_tasks_created_at_idx ON sync_tasks (created_at);
-- FR-6: at most one pending-or-running task per (store, kind), enforced by the
-- database so concurrent triggers from many processes cannot both win.
CREATE UNIQUE INDEX sync_tasks_one_active_key ON sync_tasks (store_id, sync_type)
    WHERE status IN ('pending', 'running');

-- Amazon report requests, so a retry polls the same report instead of asking again.
-- api: 'sp' (SP-API Reports) or 'ads' (Ads reporting v3). scope: marketplace id (sp)
-- or profile id (ads).
CREATE TABLE amazon_reports (
    store_id            BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    api                 TEXT NOT NULL CHECK (api IN ('sp', 'ads')),
    report_id           TEXT NOT NULL,
    sync_task_id        TEXT REFERENCES sync_tasks (id) ON DELETE SET NULL,
    report_kind         TEXT NOT NULL,
    scope               TEXT NOT NULL,
    data_start          DATE NOT NULL,
    data_end            DATE NOT NULL,
    status              TEXT NOT NULL,
    document_id         TEXT,
    error_message       TEXT,
    requested_at        TIMESTAMPTZ NOT NULL,
    completed_at        TIMESTAMPTZ,
    updated_at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT amazon_reports_pkey PRIMARY KEY (store_id, api, report_id)
);
CREATE INDEX amazon_reports_sync_task_id_idx ON amazon_reports (sync_task_id);

-- FR-1: one row per store, marketplace, day and SKU. inbound_quantity is derived
-- by the database so it can never disagree with its parts.
CREATE TABLE inventory_snapshots (
    store_id                    BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id              TEXT NOT NULL,
    date                        DATE NOT NULL,
    sku                         TEXT COLLATE "C" NOT NULL,
    asin                        TEXT COLLATE "C",
    fnsku                       TEXT,
    product_name                TEXT,
    condition                   TEXT,
    fulfillable_quantity        BIGINT NOT NULL DEFAULT 0,
    inbound_working_quantity    BIGINT NOT NULL DEFAULT 0,
    inbound_shipped_quantity    BIGINT NOT NULL DEFAULT 0,
    inbound_receiving_quantity  BIGINT NOT NULL DEFAULT 0,
    inbound_quantity            BIGINT GENERATED ALWAYS AS
        (inbound_working_quantity + inbound_shipped_quantity + inbound_receiving_quantity) STORED,
    reserved_quantity           BIGINT NOT NULL DEFAULT 0,
    unfulfillable_quantity      BIGINT NOT NULL DEFAULT 0,
    researching_quantity        BIGINT NOT NULL DEFAULT 0,
    total_quantity              BIGINT NOT NULL DEFAULT 0,
    created_at                  TIMESTAMPTZ NOT NULL,
    updated_at                  TIMESTAMPTZ NOT NULL,
    CONSTRAINT inventory_snapshots_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
);

-- FR-2: Sales & Traffic by SKU for one day (one report per marketplace per day).
CREATE TABLE business_metric_snapshots (
    store_id                  BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id            TEXT NOT NULL,
    date                      DATE NOT NULL,
    sku                       TEXT COLLATE "C" NOT NULL,
    asin                      TEXT COLLATE "C",
    parent_asin               TEXT COLLATE "C",
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
    CONSTRAINT business_metric_snapshots_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
);

-- FR-3: Sponsored Products per advertised SKU per day, summed over campaigns and ad
-- groups, at the seller's default 7-day attribution (spend = Amazon's `cost`).
CREATE TABLE ads_metric_snapshots (
    store_id        BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id  TEXT NOT NULL,
    date            DATE NOT NULL,
    sku             TEXT COLLATE "C" NOT NULL,
    asin            TEXT COLLATE "C",
    currency        TEXT NOT NULL,
    impressions     BIGINT NOT NULL DEFAULT 0,
    clicks          BIGINT NOT NULL DEFAULT 0,
    spend           NUMERIC NOT NULL DEFAULT 0,
    sales_7d        NUMERIC NOT NULL DEFAULT 0,
    orders_7d       BIGINT NOT NULL DEFAULT 0,
    units_7d        BIGINT NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    CONSTRAINT ads_metric_snapshots_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
);

-- Advertising detail per day, keyed by Amazon's ids (names change; ids do not).
CREATE TABLE ads_campaign_metrics (
    store_id         BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       BIGINT NOT NULL,
    date             DATE NOT NULL,
    campaign_id      BIGINT NOT NULL,
    marketplace_id   TEXT NOT NULL,
    campaign_name    TEXT,
    campaign_status  TEXT,
    budget_amount    NUMERIC,
    budget_type      TEXT,
    currency         TEXT NOT NULL,
    impressions      BIGINT NOT NULL DEFAULT 0,
    clicks           BIGINT NOT NULL DEFAULT 0,
    spend            NUMERIC NOT NULL DEFAULT 0,
    sales_7d         NUMERIC NOT NULL DEFAULT 0,
    orders_7d        BIGINT NOT NULL DEFAULT 0,
    units_7d         BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT ads_campaign_metrics_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id)
);

CREATE TABLE ads_ad_group_metrics (
    store_id         BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       BIGINT NOT NULL,
    date             DATE NOT NULL,
    campaign_id      BIGINT NOT NULL,
    ad_group_id      BIGINT NOT NULL,
    marketplace_id   TEXT NOT NULL,
    campaign_name    TEXT,
    ad_group_name    TEXT,
    ad_status        TEXT,
    currency         TEXT NOT NULL,
    impressions      BIGINT NOT NULL DEFAULT 0,
    clicks           BIGINT NOT NULL DEFAULT 0,
    spend            NUMERIC NOT NULL DEFAULT 0,
    sales_7d         NUMERIC NOT NULL DEFAULT 0,
    orders_7d        BIGINT NOT NULL DEFAULT 0,
    units_7d         BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT ads_ad_group_metrics_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id)
);

-- spTargeting: keywords and product/auto targets; keyword_id identifies either.
CREATE TABLE ads_targeting_metrics (
    store_id         BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       BIGINT NOT NULL,
    date             DATE NOT NULL,
    campaign_id      BIGINT NOT NULL,
    ad_group_id      BIGINT NOT NULL,
    keyword_id       BIGINT NOT NULL,
    marketplace_id   TEXT NOT NULL,
    keyword          TEXT,
    keyword_type     TEXT,
    match_type       TEXT,
    targeting        TEXT,
    currency         TEXT NOT NULL,
    impressions      BIGINT NOT NULL DEFAULT 0,
    clicks           BIGINT NOT NULL DEFAULT 0,
    spend            NUMERIC NOT NULL DEFAULT 0,
    sales_7d         NUMERIC NOT NULL DEFAULT 0,
    orders_7d        BIGINT NOT NULL DEFAULT 0,
    units_7d         BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT ads_targeting_metrics_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id, keyword_id)
);

-- spSearchTerm: the customer's query is part of the key ('*' for placements
-- without a search keyword, as Amazon reports it).
CREATE TABLE ads_search_term_metrics (
    store_id         BIGINT NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       BIGINT NOT NULL,
    date             DATE NOT NULL,
    campaign_id      BIGINT NOT NULL,
    ad_group_id      BIGINT NOT NULL,
    keyword_id       BIGINT NOT NULL,
    search_term      TEXT NOT NULL,
    marketplace_id   TEXT NOT NULL,
    keyword          TEXT,
    match_type       TEXT,
    currency         TEXT NOT NULL,
    impressions      BIGINT NOT NULL DEFAULT 0,
    clicks           BIGINT NOT NULL DEFAULT 0,
    spend            NUMERIC NOT NULL DEFAULT 0,
    sales_7d         NUMERIC NOT NULL DEFAULT 0,
    orders_7d        BIGINT NOT NULL DEFAULT 0,
    units_7d         BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    CONSTRAINT ads_search_term_metrics_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id, keyword_id, search_term)
);

-- FR-9: archive twins. Same columns and keys plus archived_at; rows move here in
-- the same transaction that deletes them from the live table.
CREATE TABLE inventory_snapshots_archive (LIKE inventory_snapshots INCLUDING DEFAULTS INCLUDING GENERATED INCLUDING CONSTRAINTS);
CREATE TABLE business_metric_snapshots_archive (LIKE business_metric_snapshots INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE ads_metric_snapshots_archive (LIKE ads_metric_snapshots INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE ads_campaign_metrics_archive (LIKE ads_campaign_metrics INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE ads_ad_group_metrics_archive (LIKE ads_ad_group_metrics INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE ads_targeting_metrics_archive (LIKE ads_targeting_metrics INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
CREATE TABLE ads_search_term_metrics_archive (LIKE ads_search_term_metrics INCLUDING DEFAULTS INCLUDING CONSTRAINTS);

ALTER TABLE inventory_snapshots_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT inventory_snapshots_archive_pkey PRIMARY KEY (store_id, marketplace_id, date, sku),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
ALTER TABLE business_metric_snapshots_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT business_metric_snapshots_archive_pkey PRIMARY KEY (store_id, marketplace_id, date, sku),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
ALTER TABLE ads_metric_snapshots_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT ads_metric_snapshots_archive_pkey PRIMARY KEY (store_id, marketplace_id, date, sku),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
ALTER TABLE ads_campaign_metrics_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT ads_campaign_metrics_archive_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
ALTER TABLE ads_ad_group_metrics_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT ads_ad_group_metrics_archive_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
ALTER TABLE ads_targeting_metrics_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT ads_targeting_metrics_archive_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id, keyword_id),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
ALTER TABLE ads_search_term_metrics_archive ADD COLUMN archived_at TIMESTAMPTZ NOT NULL,
    ADD CONSTRAINT ads_search_term_metrics_archive_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id, keyword_id, search_term),
    ADD FOREIGN KEY (store_id) REFERENCES amazon_stores (id) ON DELETE CASCADE;
