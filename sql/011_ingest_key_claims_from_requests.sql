-- Idempotency-Keys are now decided by ingest_key_claims alone: a retry whose
-- key is claimed with its body checks that its rows are stored (ui_events is
-- the record), and ingest_requests is no longer written. Every key recorded
-- there becomes a claim of its body, so a key recorded before this migration
-- keeps refusing another body; run twice, it only adds copies of the same
-- claims, which change nothing. (ingest_requests stays: dead letters spooled
-- by earlier versions still write it on replay; its TTL empties it.)
INSERT INTO ingest_key_claims (route, idempotency_key, body_sha256, claimed_at)
SELECT route, idempotency_key, body_sha256, received_at
FROM ingest_requests FINAL;
