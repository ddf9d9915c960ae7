DROP TRIGGER audit_head_no_delete;
DROP TRIGGER audit_head_only_advances;
DROP TABLE audit_head;
DROP TRIGGER audit_events_no_delete;
DROP TRIGGER audit_events_no_update;
DROP TABLE audit_events;
