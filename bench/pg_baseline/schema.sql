-- The PostgreSQL baseline: what a hospital would otherwise build for an
-- audit trail. An append-only table whose rows are hash-chained by a
-- trigger: each row stores sha256(previous row hash || this row's fields).
-- The chain head is one row locked FOR UPDATE by every insert, so writers are
-- serialised until commit and the chain is well-defined (one order, no
-- forks); revisions per stream are assigned under the same lock, like
-- Vellum's. synchronous_commit stays on (the server is started with it).

CREATE TABLE chain_head (
  id   boolean PRIMARY KEY DEFAULT true CHECK (id),
  seq  bigint  NOT NULL,
  hash bytea   NOT NULL
);
INSERT INTO chain_head VALUES (true, 0, decode(repeat('00', 32), 'hex'));

CREATE TABLE audit_event (
  seq         bigint      PRIMARY KEY,
  event_id    uuid        NOT NULL UNIQUE,   -- the idempotency key
  stream      text        NOT NULL,
  revision    bigint      NOT NULL,
  recorded_at timestamptz NOT NULL,
  payload     jsonb       NOT NULL,
  prev_hash   bytea       NOT NULL,
  row_hash    bytea       NOT NULL
);
CREATE UNIQUE INDEX audit_event_stream_revision ON audit_event (stream, revision);

-- One encoder for the chained bytes, used by the trigger and by the check.
CREATE FUNCTION audit_row_hash(prev bytea, seq bigint, event_id uuid, stream text, revision bigint,
                               recorded_at timestamptz, payload jsonb)
RETURNS bytea LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT sha256(prev || int8send(seq) || uuid_send(event_id) || int8send(revision)
                || int8send((extract(epoch FROM recorded_at) * 1000000)::bigint)
                || convert_to(stream, 'UTF8') || '\x00'::bytea || convert_to(payload::text, 'UTF8'))
$$;

CREATE FUNCTION audit_event_chain() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  head chain_head%ROWTYPE;
BEGIN
  SELECT * INTO head FROM chain_head WHERE id FOR UPDATE;  -- held until commit
  NEW.seq := head.seq + 1;
  NEW.recorded_at := clock_timestamp();
  NEW.revision := coalesce((SELECT revision + 1 FROM audit_event
                            WHERE stream = NEW.stream ORDER BY revision DESC LIMIT 1), 0);
  NEW.prev_hash := head.hash;
  NEW.row_hash := audit_row_hash(head.hash, NEW.seq, NEW.event_id, NEW.stream, NEW.revision,
                                 NEW.recorded_at, NEW.payload);
  UPDATE chain_head SET seq = NEW.seq, hash = NEW.row_hash WHERE id;
  RETURN NEW;
END
$$;
CREATE TRIGGER audit_event_chain BEFORE INSERT ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_chain();

CREATE FUNCTION audit_event_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is append-only';
END
$$;
CREATE TRIGGER audit_event_no_update BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_refuse();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_event_refuse();

-- For comparison only: the same rows without the chain (no trigger, no
-- lock), to show what serialising the chain costs. Not the baseline.
CREATE TABLE audit_event_plain (
  seq         bigserial   PRIMARY KEY,
  event_id    uuid        NOT NULL UNIQUE,
  stream      text        NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  payload     jsonb       NOT NULL
);
CREATE INDEX audit_event_plain_stream ON audit_event_plain (stream, seq);
