-- Finance's monthly reconciliation: orders whose payments do not add up to the order total.
-- The per-order payment totals are a temporary table, dropped at the end.
DROP TABLE IF EXISTS payment_mismatches;

CREATE TEMP TABLE payment_totals AS
SELECT
    order_id,
    SUM(amount_cents) AS paid_cents,
    COUNT(*) AS payments,
    MAX(payer_email) AS payer_email
FROM payments
GROUP BY order_id;

CREATE TABLE payment_mismatches AS
SELECT
    o.id AS order_id,
    o.customer_id,
    o.total_cents,
    t.paid_cents,
    t.payer_email,
    o.total_cents - COALESCE(t.paid_cents, 0) AS difference_cents
FROM orders o
LEFT JOIN payment_totals t ON t.order_id = o.id
WHERE o.status NOT IN ('cancelled', 'pending_payment')
  AND o.total_cents <> COALESCE(t.paid_cents, 0);

DROP TABLE payment_totals;
