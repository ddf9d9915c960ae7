DROP TABLE audit_head;
DROP FUNCTION audit_head_only_advances();
DROP TABLE audit_events;
DROP FUNCTION audit_events_append_only();
