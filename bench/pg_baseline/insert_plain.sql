-- pgbench script, comparison only: insert.sql into the table without the
-- hash chain (audit_event_plain), to show what the chain's lock costs.
\set stream random(0, 999)
\set session random(1, 40)
\set score random(0, 27)
INSERT INTO audit_event_plain (event_id, stream, payload)
VALUES (gen_random_uuid(), 'therapy-' || :stream,
        jsonb_build_object(
          'type', 'SessionDocumented',
          'expected_revision', 'any',
          'occurred_at', '2026-11-25T09:30:00Z',
          'author', jsonb_build_object('id', 'clin-0042', 'name', 'Dr. A. Example', 'role', 'psychotherapist'),
          'meaning', 'authored',
          'data', jsonb_build_object('session', :session, 'duration_minutes', 50, 'instrument', 'PHQ-9',
                                     'score', :score, 'note', repeat(md5(random()::text), 12))));
