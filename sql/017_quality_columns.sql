-- Quality as data (docs/quality.md): the accuracy, loss and perplexity a
-- quantization report gives each method, as columns of bench_runs instead of
-- keys inside `extra`. NULL when the report does not contain the figure.
-- accuracy is the report's fraction (0–1); the accuracy series shows it in
-- points (× 100).
ALTER TABLE bench_runs ADD COLUMN IF NOT EXISTS accuracy Nullable(Float64);
ALTER TABLE bench_runs ADD COLUMN IF NOT EXISTS loss Nullable(Float64);
ALTER TABLE bench_runs ADD COLUMN IF NOT EXISTS perplexity Nullable(Float64);

-- Backfill the rows written before this migration from their `extra` JSON.
-- Idempotent: only rows whose column is still NULL and whose `extra` holds a
-- number under that key are touched, so a re-run (or a replica applying it
-- again) changes nothing. mutations_sync = 2 waits for the mutation on every
-- replica, so the columns are filled when `migrate` returns.
ALTER TABLE bench_runs UPDATE accuracy = JSONExtract(extra, 'accuracy', 'Nullable(Float64)')
  WHERE accuracy IS NULL AND JSONHas(extra, 'accuracy') AND isNotNull(JSONExtract(extra, 'accuracy', 'Nullable(Float64)'))
  SETTINGS mutations_sync = 2;
ALTER TABLE bench_runs UPDATE loss = JSONExtract(extra, 'loss', 'Nullable(Float64)')
  WHERE loss IS NULL AND JSONHas(extra, 'loss') AND isNotNull(JSONExtract(extra, 'loss', 'Nullable(Float64)'))
  SETTINGS mutations_sync = 2;
ALTER TABLE bench_runs UPDATE perplexity = JSONExtract(extra, 'perplexity', 'Nullable(Float64)')
  WHERE perplexity IS NULL AND JSONHas(extra, 'perplexity') AND isNotNull(JSONExtract(extra, 'perplexity', 'Nullable(Float64)'))
  SETTINGS mutations_sync = 2;
