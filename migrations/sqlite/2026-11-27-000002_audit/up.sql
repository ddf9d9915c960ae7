-- The audit log (A1-A5): append-only, hash-chained events and the one-row head that
-- serialises appends. Custodian never updates or deletes an event; the triggers refuse it.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY NOT NULL CHECK (seq > 0),   -- gapless: 1, 2, 3, ...
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
    prev_hash TEXT NOT NULL CHECK (length(prev_hash) = 64),
    hash TEXT NOT NULL CHECK (length(hash) = 64)
);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, seq);
CREATE INDEX audit_events_actor_idx ON audit_events (actor, seq);
CREATE INDEX audit_events_action_idx ON audit_events (action, seq);
CREATE INDEX audit_events_occurred_idx ON audit_events (occurred_at);

CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only: DELETE is not allowed');
END;

-- The last event's sequence number and hash (0 and the genesis hash before the first event).
-- Every append reads and advances it in the appending transaction.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL CHECK (length(hash) = 64)
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TRIGGER audit_head_only_advances BEFORE UPDATE ON audit_head
WHEN NEW.id <> OLD.id OR NEW.seq <= OLD.seq
BEGIN
    SELECT RAISE(ABORT, 'audit_head only moves forward');
END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN
    SELECT RAISE(ABORT, 'audit_head cannot be deleted');
END;
