-- Anomalies per device, metric and severity for one day. Parameter: the day, 'YYYY-MM-DD'.
-- The day is the table's partition: the UTC day the anomaly arrived in the analytics zone, which is
-- the day it was detected except for detections in the delivery buffer's last minutes before midnight
-- (they arrive the next day; detected_at says when each was detected). Reads one partition.
SELECT
    device_id,
    metric,
    severity,
    count(*) AS anomalies,
    max(score) AS max_score,
    min(detected_at) AS first_detected_at,
    max(detected_at) AS last_detected_at
FROM "${database}"."${table}"
WHERE event_date = CAST(CAST(? AS date) AS varchar)  -- a string partition; the cast refuses a malformed day
  AND record_type = 'anomaly'
GROUP BY device_id, metric, severity
ORDER BY device_id, metric, severity
