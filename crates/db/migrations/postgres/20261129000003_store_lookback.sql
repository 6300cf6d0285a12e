-- Per-store restatement horizons (FR-2, FR-3): how many days a later business or
-- advertising sync re-pulls, and how old a day must be before it counts as final
-- (a final day fetched after it became final is not requested again). NULL uses
-- the configured default (sync.business_lookback_days, sync.ads_lookback_days).
-- 1..60: Amazon restates Sales & Traffic for about a week and grows attributed ad
-- sales for up to 30 days; 60 keeps the whole lookback inside every Ads report's
-- retention (search terms: 65 days) and a daily run's cost bounded.
ALTER TABLE amazon_stores
    ADD COLUMN business_lookback_days INTEGER
        CONSTRAINT amazon_stores_business_lookback_days_check CHECK (business_lookback_days BETWEEN 1 AND 60);
ALTER TABLE amazon_stores
    ADD COLUMN ads_lookback_days INTEGER
        CONSTRAINT amazon_stores_ads_lookback_days_check CHECK (ads_lookback_days BETWEEN 1 AND 60);
