"""Pure feature transforms behind features_topic_daily (the SQL aggregation itself lives in storage.features)."""
