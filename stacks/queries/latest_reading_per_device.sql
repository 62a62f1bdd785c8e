-- Latest reading per device: the newest event of every device that reported in the last
-- two days (older partitions are not scanned; see silent_devices for devices gone quiet).
SELECT
    device_id,
    max(event_time) AS event_time,
    max_by(ingested_at, event_time) AS ingested_at,
    max_by(metrics, event_time) AS metrics,
    max_by(attributes, event_time) AS attributes
FROM "${database}"."${table}"
WHERE event_date >= current_date - INTERVAL '1' DAY
GROUP BY device_id
ORDER BY device_id
