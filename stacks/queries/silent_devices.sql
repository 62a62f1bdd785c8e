-- Devices silent for at least N hours: last reading within the past 30 days but none for N
-- hours. Parameter: N (hours). Devices silent for more than 30 days are outside the scan.
SELECT
    device_id,
    max(event_time) AS last_seen,
    date_diff('hour', max(event_time), CAST(current_timestamp AT TIME ZONE 'UTC' AS timestamp)) AS hours_silent
FROM "${database}"."${table}"
WHERE event_date >= current_date - INTERVAL '30' DAY
GROUP BY device_id
HAVING max(event_time) < CAST(current_timestamp AT TIME ZONE 'UTC' AS timestamp) - ? * INTERVAL '1' HOUR
ORDER BY last_seen
