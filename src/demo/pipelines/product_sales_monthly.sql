-- Monthly revenue per product with the change on the month before and the running total.
DROP TABLE IF EXISTS product_sales_monthly;

CREATE TABLE product_sales_monthly AS
WITH monthly AS (
    SELECT
        p.id AS product_id,
        p.sku,
        p.category,
        strftime('%Y-%m', o.ordered_at) AS month,
        SUM(i.quantity) AS units,
        SUM(i.quantity * i.unit_price_cents) AS revenue_cents
    FROM order_items i
    JOIN orders o ON o.id = i.order_id
    JOIN products p ON p.id = i.product_id
    WHERE o.status IN ('shipped', 'delivered')
    GROUP BY p.id, p.sku, p.category, strftime('%Y-%m', o.ordered_at)
)
SELECT
    product_id,
    sku,
    category,
    month,
    units,
    revenue_cents,
    revenue_cents - LAG(revenue_cents) OVER (PARTITION BY product_id ORDER BY month) AS change_cents,
    SUM(revenue_cents) OVER (PARTITION BY product_id ORDER BY month) AS running_revenue_cents
FROM monthly;
