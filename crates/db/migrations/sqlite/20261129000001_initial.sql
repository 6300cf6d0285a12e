-- amzsync schema, SQLite. Kept in step with ../postgres/ (same tables, columns and
-- keys; a test compares them). SQLite has no exact decimal type, so money and
-- Amazon's percentages are TEXT holding the exact decimal string (SUM() and
-- arithmetic still work on them); dates are TEXT 'YYYY-MM-DD', timestamps RFC 3339.
-- Comments on the meaning of columns are in the PostgreSQL twin.

CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    is_admin    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL,
    CONSTRAINT users_name_key UNIQUE (name)
);

CREATE TABLE api_tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    token_hash    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT,
    CONSTRAINT api_tokens_token_hash_key UNIQUE (token_hash)
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

CREATE TABLE amazon_stores (
    id                              INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id                         INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    store_name                      TEXT NOT NULL,
    region                          TEXT NOT NULL CHECK (region IN ('na', 'eu', 'fe')),
    marketplace_id                  TEXT NOT NULL,
    seller_id                       TEXT NOT NULL,
    sp_api_refresh_token            TEXT,
    advertising_api_refresh_token   TEXT,
    sp_api_client_id                TEXT,
    sp_api_client_secret            TEXT,
    is_active                       INTEGER NOT NULL DEFAULT 1,
    sync_status                     TEXT NOT NULL DEFAULT 'idle'
        CHECK (sync_status IN ('idle', 'syncing', 'error', 'needs_reauth')),
    last_sync_at                    TEXT,
    last_sync_error                 TEXT,
    created_at                      TEXT NOT NULL,
    updated_at                      TEXT NOT NULL,
    CONSTRAINT amazon_stores_seller_region_key UNIQUE (user_id, seller_id, region)
);

CREATE TABLE store_marketplaces (
    store_id        INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id  TEXT NOT NULL,
    CONSTRAINT store_marketplaces_pkey PRIMARY KEY (store_id, marketplace_id)
) WITHOUT ROWID;

CREATE TABLE ads_profiles (
    store_id        INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id      INTEGER NOT NULL,
    marketplace_id  TEXT NOT NULL,
    country_code    TEXT NOT NULL,
    currency_code   TEXT NOT NULL,
    timezone        TEXT NOT NULL,
    account_type    TEXT NOT NULL,
    account_name    TEXT,
    discovered_at   TEXT NOT NULL,
    CONSTRAINT ads_profiles_pkey PRIMARY KEY (store_id, profile_id)
) WITHOUT ROWID;

CREATE TABLE sync_tasks (
    id                TEXT PRIMARY KEY NOT NULL,
    store_id          INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    sync_type         TEXT NOT NULL CHECK (sync_type IN ('inventory', 'business', 'advertising')),
    status            TEXT NOT NULL CHECK (status IN ('pending', 'running', 'success', 'failed')),
    start_time        TEXT,
    end_time          TEXT,
    records_synced    INTEGER NOT NULL DEFAULT 0,
    records_failed    INTEGER NOT NULL DEFAULT 0,
    error_message     TEXT,
    retry_count       INTEGER NOT NULL DEFAULT 0,
    created_at        TEXT NOT NULL,
    error_class       TEXT,
    window_start      TEXT,
    window_end        TEXT,
    trigger           TEXT NOT NULL CHECK (trigger IN ('manual', 'scheduled', 'retry')),
    attempt           INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    lease_owner       TEXT,
    lease_expires_at  TEXT,
    checkpoint        TEXT NOT NULL DEFAULT '{}',
    progress_done     INTEGER NOT NULL DEFAULT 0,
    progress_total    INTEGER NOT NULL DEFAULT 0,
    progress_message  TEXT,
    updated_at        TEXT NOT NULL
);
CREATE INDEX sync_tasks_store_id_idx ON sync_tasks (store_id);
CREATE INDEX sync_tasks_sync_type_idx ON sync_tasks (sync_type);
CREATE INDEX sync_tasks_status_idx ON sync_tasks (status);
CREATE INDEX sync_tasks_created_at_idx ON sync_tasks (created_at);
-- FR-6: at most one pending-or-running task per (store, kind).
CREATE UNIQUE INDEX sync_tasks_one_active_key ON sync_tasks (store_id, sync_type)
    WHERE status IN ('pending', 'running');

CREATE TABLE amazon_reports (
    store_id            INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    api                 TEXT NOT NULL CHECK (api IN ('sp', 'ads')),
    report_id           TEXT NOT NULL,
    sync_task_id        TEXT REFERENCES sync_tasks (id) ON DELETE SET NULL,
    report_kind         TEXT NOT NULL,
    scope               TEXT NOT NULL,
    data_start          TEXT NOT NULL,
    data_end            TEXT NOT NULL,
    status              TEXT NOT NULL,
    document_id         TEXT,
    error_message       TEXT,
    requested_at        TEXT NOT NULL,
    completed_at        TEXT,
    updated_at          TEXT NOT NULL,
    CONSTRAINT amazon_reports_pkey PRIMARY KEY (store_id, api, report_id)
) WITHOUT ROWID;
CREATE INDEX amazon_reports_sync_task_id_idx ON amazon_reports (sync_task_id);

CREATE TABLE inventory_snapshots (
    store_id                    INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id              TEXT NOT NULL,
    date                        TEXT NOT NULL,
    sku                         TEXT NOT NULL,
    asin                        TEXT,
    fnsku                       TEXT,
    product_name                TEXT,
    condition                   TEXT,
    fulfillable_quantity        INTEGER NOT NULL DEFAULT 0,
    inbound_working_quantity    INTEGER NOT NULL DEFAULT 0,
    inbound_shipped_quantity    INTEGER NOT NULL DEFAULT 0,
    inbound_receiving_quantity  INTEGER NOT NULL DEFAULT 0,
    inbound_quantity            INTEGER GENERATED ALWAYS AS
        (inbound_working_quantity + inbound_shipped_quantity + inbound_receiving_quantity) VIRTUAL,
    reserved_quantity           INTEGER NOT NULL DEFAULT 0,
    unfulfillable_quantity      INTEGER NOT NULL DEFAULT 0,
    researching_quantity        INTEGER NOT NULL DEFAULT 0,
    total_quantity              INTEGER NOT NULL DEFAULT 0,
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL,
    CONSTRAINT inventory_snapshots_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
) WITHOUT ROWID;

CREATE TABLE business_metric_snapshots (
    store_id                  INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id            TEXT NOT NULL,
    date                      TEXT NOT NULL,
    sku                       TEXT NOT NULL,
    asin                      TEXT,
    parent_asin               TEXT,
    currency                  TEXT NOT NULL,
    ordered_product_sales     TEXT NOT NULL DEFAULT '0',
    ordered_product_sales_b2b TEXT,
    units_ordered             INTEGER NOT NULL DEFAULT 0,
    units_ordered_b2b         INTEGER,
    total_order_items         INTEGER NOT NULL DEFAULT 0,
    total_order_items_b2b     INTEGER,
    sessions                  INTEGER NOT NULL DEFAULT 0,
    page_views                INTEGER NOT NULL DEFAULT 0,
    session_percentage        TEXT,
    page_views_percentage     TEXT,
    buy_box_percentage        TEXT,
    unit_session_percentage   TEXT,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    CONSTRAINT business_metric_snapshots_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
) WITHOUT ROWID;

CREATE TABLE ads_metric_snapshots (
    store_id        INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id  TEXT NOT NULL,
    date            TEXT NOT NULL,
    sku             TEXT NOT NULL,
    asin            TEXT,
    currency        TEXT NOT NULL,
    impressions     INTEGER NOT NULL DEFAULT 0,
    clicks          INTEGER NOT NULL DEFAULT 0,
    spend           TEXT NOT NULL DEFAULT '0',
    sales_7d        TEXT NOT NULL DEFAULT '0',
    orders_7d       INTEGER NOT NULL DEFAULT 0,
    units_7d        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CONSTRAINT ads_metric_snapshots_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
) WITHOUT ROWID;

CREATE TABLE ads_campaign_metrics (
    store_id         INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       INTEGER NOT NULL,
    date             TEXT NOT NULL,
    campaign_id      INTEGER NOT NULL,
    marketplace_id   TEXT NOT NULL,
    campaign_name    TEXT,
    campaign_status  TEXT,
    budget_amount    TEXT,
    budget_type      TEXT,
    currency         TEXT NOT NULL,
    impressions      INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    spend            TEXT NOT NULL DEFAULT '0',
    sales_7d         TEXT NOT NULL DEFAULT '0',
    orders_7d        INTEGER NOT NULL DEFAULT 0,
    units_7d         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CONSTRAINT ads_campaign_metrics_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id)
) WITHOUT ROWID;

CREATE TABLE ads_ad_group_metrics (
    store_id         INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       INTEGER NOT NULL,
    date             TEXT NOT NULL,
    campaign_id      INTEGER NOT NULL,
    ad_group_id      INTEGER NOT NULL,
    marketplace_id   TEXT NOT NULL,
    campaign_name    TEXT,
    ad_group_name    TEXT,
    ad_status        TEXT,
    currency         TEXT NOT NULL,
    impressions      INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    spend            TEXT NOT NULL DEFAULT '0',
    sales_7d         TEXT NOT NULL DEFAULT '0',
    orders_7d        INTEGER NOT NULL DEFAULT 0,
    units_7d         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CONSTRAINT ads_ad_group_metrics_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id)
) WITHOUT ROWID;

CREATE TABLE ads_targeting_metrics (
    store_id         INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       INTEGER NOT NULL,
    date             TEXT NOT NULL,
    campaign_id      INTEGER NOT NULL,
    ad_group_id      INTEGER NOT NULL,
    keyword_id       INTEGER NOT NULL,
    marketplace_id   TEXT NOT NULL,
    keyword          TEXT,
    keyword_type     TEXT,
    match_type       TEXT,
    targeting        TEXT,
    currency         TEXT NOT NULL,
    impressions      INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    spend            TEXT NOT NULL DEFAULT '0',
    sales_7d         TEXT NOT NULL DEFAULT '0',
    orders_7d        INTEGER NOT NULL DEFAULT 0,
    units_7d         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CONSTRAINT ads_targeting_metrics_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id, keyword_id)
) WITHOUT ROWID;

CREATE TABLE ads_search_term_metrics (
    store_id         INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       INTEGER NOT NULL,
    date             TEXT NOT NULL,
    campaign_id      INTEGER NOT NULL,
    ad_group_id      INTEGER NOT NULL,
    keyword_id       INTEGER NOT NULL,
    search_term      TEXT NOT NULL,
    marketplace_id   TEXT NOT NULL,
    keyword          TEXT,
    match_type       TEXT,
    currency         TEXT NOT NULL,
    impressions      INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    spend            TEXT NOT NULL DEFAULT '0',
    sales_7d         TEXT NOT NULL DEFAULT '0',
    orders_7d        INTEGER NOT NULL DEFAULT 0,
    units_7d         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    CONSTRAINT ads_search_term_metrics_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id, keyword_id, search_term)
) WITHOUT ROWID;

-- FR-9: archive twins, same columns and keys plus archived_at.

CREATE TABLE inventory_snapshots_archive (
    store_id                    INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id              TEXT NOT NULL,
    date                        TEXT NOT NULL,
    sku                         TEXT NOT NULL,
    asin                        TEXT,
    fnsku                       TEXT,
    product_name                TEXT,
    condition                   TEXT,
    fulfillable_quantity        INTEGER NOT NULL DEFAULT 0,
    inbound_working_quantity    INTEGER NOT NULL DEFAULT 0,
    inbound_shipped_quantity    INTEGER NOT NULL DEFAULT 0,
    inbound_receiving_quantity  INTEGER NOT NULL DEFAULT 0,
    inbound_quantity            INTEGER GENERATED ALWAYS AS
        (inbound_working_quantity + inbound_shipped_quantity + inbound_receiving_quantity) VIRTUAL,
    reserved_quantity           INTEGER NOT NULL DEFAULT 0,
    unfulfillable_quantity      INTEGER NOT NULL DEFAULT 0,
    researching_quantity        INTEGER NOT NULL DEFAULT 0,
    total_quantity              INTEGER NOT NULL DEFAULT 0,
    created_at                  TEXT NOT NULL,
    updated_at                  TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    CONSTRAINT inventory_snapshots_archive_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
) WITHOUT ROWID;

CREATE TABLE business_metric_snapshots_archive (
    store_id                  INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id            TEXT NOT NULL,
    date                      TEXT NOT NULL,
    sku                       TEXT NOT NULL,
    asin                      TEXT,
    parent_asin               TEXT,
    currency                  TEXT NOT NULL,
    ordered_product_sales     TEXT NOT NULL DEFAULT '0',
    ordered_product_sales_b2b TEXT,
    units_ordered             INTEGER NOT NULL DEFAULT 0,
    units_ordered_b2b         INTEGER,
    total_order_items         INTEGER NOT NULL DEFAULT 0,
    total_order_items_b2b     INTEGER,
    sessions                  INTEGER NOT NULL DEFAULT 0,
    page_views                INTEGER NOT NULL DEFAULT 0,
    session_percentage        TEXT,
    page_views_percentage     TEXT,
    buy_box_percentage        TEXT,
    unit_session_percentage   TEXT,
    created_at                TEXT NOT NULL,
    updated_at                TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    CONSTRAINT business_metric_snapshots_archive_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
) WITHOUT ROWID;

CREATE TABLE ads_metric_snapshots_archive (
    store_id        INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    marketplace_id  TEXT NOT NULL,
    date            TEXT NOT NULL,
    sku             TEXT NOT NULL,
    asin            TEXT,
    currency        TEXT NOT NULL,
    impressions     INTEGER NOT NULL DEFAULT 0,
    clicks          INTEGER NOT NULL DEFAULT 0,
    spend           TEXT NOT NULL DEFAULT '0',
    sales_7d        TEXT NOT NULL DEFAULT '0',
    orders_7d       INTEGER NOT NULL DEFAULT 0,
    units_7d        INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    CONSTRAINT ads_metric_snapshots_archive_pkey PRIMARY KEY (store_id, marketplace_id, date, sku)
) WITHOUT ROWID;

CREATE TABLE ads_campaign_metrics_archive (
    store_id         INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       INTEGER NOT NULL,
    date             TEXT NOT NULL,
    campaign_id      INTEGER NOT NULL,
    marketplace_id   TEXT NOT NULL,
    campaign_name    TEXT,
    campaign_status  TEXT,
    budget_amount    TEXT,
    budget_type      TEXT,
    currency         TEXT NOT NULL,
    impressions      INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    spend            TEXT NOT NULL DEFAULT '0',
    sales_7d         TEXT NOT NULL DEFAULT '0',
    orders_7d        INTEGER NOT NULL DEFAULT 0,
    units_7d         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    CONSTRAINT ads_campaign_metrics_archive_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id)
) WITHOUT ROWID;

CREATE TABLE ads_ad_group_metrics_archive (
    store_id         INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       INTEGER NOT NULL,
    date             TEXT NOT NULL,
    campaign_id      INTEGER NOT NULL,
    ad_group_id      INTEGER NOT NULL,
    marketplace_id   TEXT NOT NULL,
    campaign_name    TEXT,
    ad_group_name    TEXT,
    ad_status        TEXT,
    currency         TEXT NOT NULL,
    impressions      INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    spend            TEXT NOT NULL DEFAULT '0',
    sales_7d         TEXT NOT NULL DEFAULT '0',
    orders_7d        INTEGER NOT NULL DEFAULT 0,
    units_7d         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    CONSTRAINT ads_ad_group_metrics_archive_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id)
) WITHOUT ROWID;

CREATE TABLE ads_targeting_metrics_archive (
    store_id         INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       INTEGER NOT NULL,
    date             TEXT NOT NULL,
    campaign_id      INTEGER NOT NULL,
    ad_group_id      INTEGER NOT NULL,
    keyword_id       INTEGER NOT NULL,
    marketplace_id   TEXT NOT NULL,
    keyword          TEXT,
    keyword_type     TEXT,
    match_type       TEXT,
    targeting        TEXT,
    currency         TEXT NOT NULL,
    impressions      INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    spend            TEXT NOT NULL DEFAULT '0',
    sales_7d         TEXT NOT NULL DEFAULT '0',
    orders_7d        INTEGER NOT NULL DEFAULT 0,
    units_7d         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    CONSTRAINT ads_targeting_metrics_archive_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id, keyword_id)
) WITHOUT ROWID;

CREATE TABLE ads_search_term_metrics_archive (
    store_id         INTEGER NOT NULL REFERENCES amazon_stores (id) ON DELETE CASCADE,
    profile_id       INTEGER NOT NULL,
    date             TEXT NOT NULL,
    campaign_id      INTEGER NOT NULL,
    ad_group_id      INTEGER NOT NULL,
    keyword_id       INTEGER NOT NULL,
    search_term      TEXT NOT NULL,
    marketplace_id   TEXT NOT NULL,
    keyword          TEXT,
    match_type       TEXT,
    currency         TEXT NOT NULL,
    impressions      INTEGER NOT NULL DEFAULT 0,
    clicks           INTEGER NOT NULL DEFAULT 0,
    spend            TEXT NOT NULL DEFAULT '0',
    sales_7d         TEXT NOT NULL DEFAULT '0',
    orders_7d        INTEGER NOT NULL DEFAULT 0,
    units_7d         INTEGER NOT NULL DEFAULT 0,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    archived_at TEXT NOT NULL,
    CONSTRAINT ads_search_term_metrics_archive_pkey PRIMARY KEY (store_id, profile_id, date, campaign_id, ad_group_id, keyword_id, search_term)
) WITHOUT ROWID;
