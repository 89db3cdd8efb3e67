-- Recomputes the whole chain: every row's hash from its fields and the
-- previous row's hash, seqs contiguous from 1.
WITH c AS (
  SELECT seq, row_hash, prev_hash, payload,
         lag(row_hash) OVER (ORDER BY seq) AS previous_row_hash,
         audit_row_hash(prev_hash, seq, event_id, stream, revision, recorded_at, payload) AS recomputed
  FROM audit_event
)
SELECT count(*) AS rows,
       count(*) FILTER (WHERE recomputed <> row_hash
                        OR (previous_row_hash IS NOT NULL AND previous_row_hash <> prev_hash)) AS broken,
       coalesce(max(seq), 0) = count(*) AS contiguous,
       (SELECT hash FROM chain_head) = (SELECT row_hash FROM audit_event ORDER BY seq DESC LIMIT 1) AS head_matches,
       pg_total_relation_size('audit_event') AS table_bytes,
       coalesce(avg(octet_length(payload::text)), 0)::int AS avg_payload_bytes
FROM c;
