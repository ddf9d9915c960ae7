-- Finance's monthly reconciliation: orders whose money needs attention — returned orders that
-- were paid (a refund is due) and orders whose payments do not add up to the order total. The
-- per-order payment totals are a temporary table, dropped at the end.
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
    CASE WHEN o.status = 'returned' THEN 'refund_due' ELSE 'amount_mismatch' END AS reason,
    CASE WHEN o.status = 'returned' THEN COALESCE(t.paid_cents, 0)
         ELSE o.total_cents - COALESCE(t.paid_cents, 0) END AS difference_cents
FROM orders o
LEFT JOIN payment_totals t ON t.order_id = o.id
WHERE (o.status = 'returned' AND COALESCE(t.paid_cents, 0) > 0)
   OR (o.status NOT IN ('cancelled', 'pending_payment', 'returned') AND o.total_cents <> COALESCE(t.paid_cents, 0));

DROP TABLE payment_totals;
