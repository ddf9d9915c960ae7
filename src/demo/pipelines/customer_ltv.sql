-- Customer lifetime value: what each customer has spent, how often and how recently, with
-- their rank in their country and their value decile. Read by the marketing audience and the
-- CRM dashboards. Runs nightly.
DROP TABLE IF EXISTS customer_ltv;

CREATE TABLE customer_ltv AS
WITH paid_orders AS (
    SELECT o.id, o.customer_id, o.ordered_at, o.total_cents
    FROM orders o
    WHERE o.status NOT IN ('cancelled', 'pending_payment', 'returned')
),
per_customer AS (
    SELECT
        customer_id,
        COUNT(*) AS order_count,
        SUM(total_cents) AS lifetime_cents,
        MIN(ordered_at) AS first_order_at,
        MAX(ordered_at) AS last_order_at
    FROM paid_orders
    GROUP BY customer_id
)
SELECT
    c.id AS customer_id,
    c.customer_ref,
    c.email,
    c.country,
    p.order_count,
    p.lifetime_cents,
    p.first_order_at,
    p.last_order_at,
    RANK() OVER (PARTITION BY c.country ORDER BY p.lifetime_cents DESC) AS country_rank,
    NTILE(10) OVER (ORDER BY p.lifetime_cents DESC) AS value_decile
FROM customers c
JOIN per_customer p ON p.customer_id = c.id;
