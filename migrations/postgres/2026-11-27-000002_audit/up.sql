-- The audit log (A1-A5): append-only, hash-chained events and the one-row head that
-- serialises appends. Custodian never updates or deletes an event; the triggers refuse UPDATE,
-- DELETE and TRUNCATE (A2), whichever role asks, unless a superuser disables them.
CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY CHECK (seq > 0),              -- gapless: 1, 2, 3, ...
    occurred_at TIMESTAMP NOT NULL,                      -- UTC, to the microsecond
    actor TEXT NOT NULL,                                 -- a username, 'system' or 'anonymous'
    actor_role TEXT,
    action TEXT NOT NULL,                                -- dotted: dataset.update, login.failure, ...
    entity_type TEXT NOT NULL,
    entity_id TEXT,
    before_json TEXT,                                    -- canonical JSON (sorted keys), never personal data
    after_json TEXT,
    reason TEXT,
    request_id TEXT,
    prev_hash TEXT NOT NULL CHECK (char_length(prev_hash) = 64),
    hash TEXT NOT NULL CHECK (char_length(hash) = 64)
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, seq);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);

CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;
-- Statement-level, so that even a statement that matches no row is refused.
CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The last event's sequence number and hash (0 and the genesis hash before the first event).
-- Every append locks it (SELECT ... FOR UPDATE) and advances it in the appending transaction.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL CHECK (char_length(hash) = 64)
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE FUNCTION audit_head_only_advances() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.id <> OLD.id OR NEW.seq <= OLD.seq THEN
        RAISE EXCEPTION 'audit_head only moves forward (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER audit_head_only_advances BEFORE UPDATE OR DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_head_only_advances();
CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
