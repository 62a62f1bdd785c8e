-- Hourly aggregates per device and metric for one day. Parameter: the day, 'YYYY-MM-DD'.
-- Reads one event_date partition and three columns (device_id, event_time, metrics).
SELECT
    device_id,
    date_trunc('hour', event_time) AS hour,
    metric,
    count(*) AS readings,
    avg(value) AS avg_value,
    min(value) AS min_value,
    max(value) AS max_value
FROM "${database}"."${table}"
CROSS JOIN UNNEST(metrics) AS reading (metric, value)
WHERE event_date = CAST(? AS date)
GROUP BY device_id, date_trunc('hour', event_time), metric
ORDER BY device_id, hour, metric
