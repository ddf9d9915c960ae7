-- Open support tickets with the customer's contact details, exported daily to the outsourced
-- help desk.
DROP TABLE IF EXISTS support_export;

CREATE TABLE support_export AS
SELECT
    t.id AS ticket_id,
    t.opened_at,
    t.channel,
    t.subject,
    c.customer_ref,
    c.first_name || ' ' || c.last_name AS customer_name,
    c.email AS reply_to,
    c.phone,
    (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id) AS orders_placed,
    CAST(julianday('now') - julianday(t.opened_at) AS INTEGER) AS days_open
FROM support_tickets t
LEFT JOIN customers c ON c.id = t.customer_id
WHERE t.closed_at IS NULL;
