-- Daily web-traffic summary for the shop's dashboard: sessions, page views, signed-in
-- customers and how many sessions reached the checkout. No IP addresses leave web_events.
DROP TABLE IF EXISTS web_traffic_daily;

CREATE TABLE web_traffic_daily AS
WITH sessions AS (
    SELECT
        session_id,
        date(MIN(occurred_at)) AS day,
        COUNT(*) AS page_views,
        MAX(customer_id) AS customer_id,
        MAX(CASE WHEN path LIKE '/checkout%' THEN 1 ELSE 0 END) AS reached_checkout
    FROM web_events
    GROUP BY session_id
)
SELECT
    day,
    COUNT(*) AS sessions,
    SUM(page_views) AS page_views,
    COUNT(DISTINCT customer_id) AS signed_in_customers,
    SUM(reached_checkout) AS checkout_sessions,
    ROUND(AVG(page_views), 2) AS avg_pages_per_session
FROM sessions
GROUP BY day;
