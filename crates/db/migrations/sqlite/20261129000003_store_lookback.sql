-- Per-store restatement horizons; see the PostgreSQL twin for their meaning.
ALTER TABLE amazon_stores
    ADD COLUMN business_lookback_days INTEGER CHECK (business_lookback_days BETWEEN 1 AND 60);
ALTER TABLE amazon_stores
    ADD COLUMN ads_lookback_days INTEGER CHECK (ads_lookback_days BETWEEN 1 AND 60);
