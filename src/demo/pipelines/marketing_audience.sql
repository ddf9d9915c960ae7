-- The newsletter audience for the next campaign: customers who opted in to marketing, segmented
-- by value, and newsletter subscribers who are not customers. The mailing tool reads the
-- addresses as `contact_address`. Runs before each campaign, after customer_ltv.sql.
DROP TABLE IF EXISTS marketing_audience;

CREATE TABLE marketing_audience (
    contact_address TEXT NOT NULL,
    first_name TEXT,
    country TEXT,
    segment TEXT NOT NULL,
    lifetime_cents INTEGER
);

INSERT INTO marketing_audience (contact_address, first_name, country, segment, lifetime_cents)
SELECT
    c.email,
    c.first_name,
    c.country,
    CASE WHEN l.value_decile <= 2 THEN 'top_customers' ELSE 'customers' END,
    l.lifetime_cents
FROM customers c
LEFT JOIN customer_ltv l ON l.customer_id = c.id
WHERE c.marketing_opt_in = 1;

INSERT INTO marketing_audience (contact_address, first_name, country, segment, lifetime_cents)
SELECT lower(s.email), NULL, NULL, 'subscribers', NULL
FROM newsletter_subscriptions s
WHERE s.unsubscribed_at IS NULL
  AND s.customer_id IS NULL;

-- Customers who have not ordered for a year get the win-back campaign instead.
UPDATE marketing_audience
SET segment = 'lapsed'
WHERE contact_address IN (
    SELECT email FROM customer_ltv WHERE last_order_at < datetime('now', '-365 days')
);
