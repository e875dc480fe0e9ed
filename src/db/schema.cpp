// The schema, as ordered migrations. Never edit a released migration: add a
// new one. Each runs in its own transaction.
#include "catalog/db/migrations.hpp"

namespace catalog::db {

const std::vector<Migration>& all_migrations() {
  static const std::vector<Migration> migrations = {
      {1, "items", R"sql(
CREATE TABLE items (
  id          uuid PRIMARY KEY,
  name        varchar(255) NOT NULL,
  description text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- newest-first keyset paging: ORDER BY created_at DESC, id DESC
CREATE INDEX items_created_at_id_idx ON items (created_at DESC, id DESC);
)sql"},
      {2, "catalog", R"sql(
CREATE TABLE jobs (
  id         text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  source     text NOT NULL,
  uri        text NOT NULL,
  options    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The durable run queue and history. Workers claim with FOR UPDATE SKIP LOCKED.
CREATE TABLE job_runs (
  id              uuid PRIMARY KEY,
  job_id          text NOT NULL,
  status          text NOT NULL CHECK (status IN ('queued','running','succeeded','failed','skipped','cancelled')),
  force           boolean NOT NULL DEFAULT false,
  source_uri      text,            -- exact object for feed uploads; else resolved at start
  source_etag     text,
  source_size     bigint,
  options         jsonb NOT NULL DEFAULT '{}'::jsonb,  -- job options snapshot
  bytes_read      bigint NOT NULL DEFAULT 0,
  rows_read       bigint NOT NULL DEFAULT 0,
  inserted        bigint NOT NULL DEFAULT 0,
  updated         bigint NOT NULL DEFAULT 0,
  unchanged       bigint NOT NULL DEFAULT 0,
  rejected        bigint NOT NULL DEFAULT 0,
  deleted         bigint NOT NULL DEFAULT 0,
  error           text,
  cancel_requested boolean NOT NULL DEFAULT false,
  worker_id       text,
  heartbeat_at    timestamptz,
  queued_at       timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  finished_at     timestamptz
);
CREATE INDEX job_runs_job_queued_idx ON job_runs (job_id, queued_at DESC);
CREATE INDEX job_runs_queue_idx ON job_runs (queued_at) WHERE status IN ('queued','running');
-- at most one active run per job, enforced by the database itself
CREATE UNIQUE INDEX job_runs_one_active_idx ON job_runs (job_id) WHERE status IN ('queued','running');

CREATE TABLE run_rejects (
  run_id  uuid NOT NULL REFERENCES job_runs(id) ON DELETE CASCADE,
  line    bigint NOT NULL,
  reason  text NOT NULL,
  raw     text,
  PRIMARY KEY (run_id, line)
);

CREATE TABLE feeds (
  id          uuid PRIMARY KEY,
  job_id      text NOT NULL,
  uri         text NOT NULL,
  file_name   text NOT NULL,
  bytes       bigint NOT NULL,
  sha256      text NOT NULL,
  uploaded_at timestamptz NOT NULL DEFAULT now(),
  run_id      uuid REFERENCES job_runs(id) ON DELETE SET NULL
);
CREATE INDEX feeds_uploaded_at_idx ON feeds (uploaded_at DESC, id DESC);

-- source and sku compare bytewise (COLLATE "C"): keys are identifiers, and
-- memcmp keeps the primary key cheap to maintain and probe on million-row loads.
CREATE TABLE products (
  source       text COLLATE "C" NOT NULL,
  sku          text COLLATE "C" NOT NULL,
  name         text NOT NULL,
  description  text,
  brand        text,
  category     text,
  price        numeric(12,2),
  currency     char(3),
  availability text,
  attributes   jsonb NOT NULL DEFAULT '{}'::jsonb,
  content_hash bigint NOT NULL,   -- hash of the normalised row; equal hash = unchanged
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  deleted_at   timestamptz,
  last_run_id  uuid,
  PRIMARY KEY (source, sku)
);
-- GET /products. Every index is paid by the ETL on each inserted or changed
-- row, and first loads have a budget (docs/etl.md), so the set is lean:
-- the PK serves source (+ sku order) and /products/{source}/{sku};
-- (sku, source) the default sku order and the sku filter; (updated_at, ...)
-- updated_since and its sort; brand, category and availability are
-- single-column (deduplicated, cheap to maintain) for their filters, the
-- (sku, source) index giving the order. The name and price sorts and `q`
-- need their own indexes: without them every page of a 1M-row catalog is a
-- full top-N sort (1.5 s) and a rare `q` a full scan (1.2 s); with them a
-- page is a few ms (docs/products-api.md has the EXPLAIN evidence).
CREATE INDEX products_sku_idx ON products (sku, source);
CREATE INDEX products_updated_at_idx ON products (updated_at, source, sku);
CREATE INDEX products_name_idx ON products (name, source, sku);
CREATE INDEX products_price_idx ON products (price, source, sku);
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_brand_idx ON products (brand);
CREATE INDEX products_category_idx ON products (category);
CREATE INDEX products_availability_idx ON products (availability);
)sql"},
      {3, "products_by_source", R"sql(
-- products becomes one partition per source. A source's first load then goes
-- into a fresh table that gets its indexes by bulk builds (sorting) when it is
-- attached, instead of nine retail index insertions per row (docs/etl.md:
-- 28 s -> 17 s for 1M rows), and a run's key load reads only its own source.
-- Partitions are named by products_partition_name(); rows for a source that
-- has no partition are refused, so writers other than the ETL call
-- products_ensure_partition(source) first.
ALTER TABLE products RENAME TO products_unpartitioned;
ALTER TABLE products_unpartitioned DROP CONSTRAINT products_pkey;
DROP INDEX products_sku_idx, products_updated_at_idx, products_name_idx, products_price_idx,
  products_name_trgm_idx, products_brand_idx, products_category_idx, products_availability_idx;

-- Same columns, types, collations, NOT NULLs and defaults as migration 2.
CREATE TABLE products (LIKE products_unpartitioned INCLUDING DEFAULTS) PARTITION BY LIST (source);

-- Readable for operators (psql \d+ products), unique by the hash suffix,
-- always within the 63-byte identifier limit.
CREATE FUNCTION products_partition_name(src text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT 'products_' || left(btrim(regexp_replace(lower(src), '[^a-z0-9]+', '_', 'g'), '_'), 40) || '_' ||
         left(md5(src), 8)
$$;

-- An empty partition with every index, unless the source has one already.
CREATE FUNCTION products_ensure_partition(src text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := products_partition_name(src);
BEGIN
  IF to_regclass(quote_ident(part)) IS NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF products FOR VALUES IN (%L)', part, src);
  END IF;
  RETURN part;
END $$;

-- A first load: a plain table, not yet part of products, with a CHECK that
-- already implies the partition bound (so attaching it needs no scan).
CREATE FUNCTION products_begin_bulk_load(src text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := products_partition_name(src);
BEGIN
  EXECUTE format('CREATE TABLE %I (LIKE products INCLUDING DEFAULTS, CONSTRAINT bulk_load_source CHECK (source = %L))',
                 part, src);
  RETURN part;
END $$;

-- Attaching builds the partition's indexes from products' definitions.
CREATE FUNCTION products_attach_bulk_load(src text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE format('ALTER TABLE products ATTACH PARTITION %I FOR VALUES IN (%L)', products_partition_name(src), src);
END $$;

-- The rows move before the indexes exist, so each partition's indexes are
-- built by sorting, not row by row.
SELECT products_ensure_partition(source) FROM (SELECT DISTINCT source FROM products_unpartitioned) AS s;
INSERT INTO products SELECT * FROM products_unpartitioned;
DROP TABLE products_unpartitioned;
-- The same lean index set as migration 2, kept on every partition.
ALTER TABLE products ADD PRIMARY KEY (source, sku);
CREATE INDEX products_sku_idx ON products (sku, source);
CREATE INDEX products_updated_at_idx ON products (updated_at, source, sku);
CREATE INDEX products_name_idx ON products (name, source, sku);
CREATE INDEX products_price_idx ON products (price, source, sku);
CREATE INDEX products_name_trgm_idx ON products USING gin (name gin_trgm_ops);
CREATE INDEX products_brand_idx ON products (brand);
CREATE INDEX products_category_idx ON products (category);
CREATE INDEX products_availability_idx ON products (availability);
)sql"},
      {4, "products_parallel_first_load", R"sql(
-- A first load now builds its partition's indexes before attaching it, on
-- two connections at once (docs/etl.md), so its table is committed, still
-- unattached, while they build. The CHECK that marks such a table gets a
-- name of its own: a table that has it and is not attached is what a killed
-- first load left behind, and is safe to drop; any other unattached table of
-- a partition's name belongs to an operator and is left alone.
CREATE OR REPLACE FUNCTION products_begin_bulk_load(src text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := products_partition_name(src);
BEGIN
  EXECUTE format('CREATE TABLE %I (LIKE products INCLUDING DEFAULTS, '
                 'CONSTRAINT first_load_in_progress CHECK (source = %L))', part, src);
  RETURN part;
END $$;

-- 'attached', 'missing', 'interrupted' (a first load's table that was never
-- attached) or 'detached' (an unattached table of that name, not ours).
CREATE FUNCTION products_partition_state(src text) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
  SELECT CASE
    WHEN t.rel IS NULL THEN 'missing'
    WHEN EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = t.rel AND inhparent = 'products'::regclass)
      THEN 'attached'
    WHEN EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = t.rel AND conname = 'first_load_in_progress')
      THEN 'interrupted'
    ELSE 'detached'
  END
  FROM (SELECT to_regclass(quote_ident(products_partition_name(src))) AS rel) AS t
$$;

-- Drops the source's first-load table if it was never attached.
CREATE FUNCTION products_discard_first_load(src text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
  IF products_partition_state(src) <> 'interrupted' THEN
    RETURN false;
  END IF;
  EXECUTE format('DROP TABLE %I', products_partition_name(src));
  RETURN true;
END $$;

-- An index's definition without its name and table ("USING btree (source,
-- sku)"): what a partition's index must share with products' to be adopted.
CREATE FUNCTION products_index_shape(idx oid) RETURNS text
LANGUAGE sql STABLE STRICT AS $$
  SELECT substring(pg_get_indexdef(idx) FROM 'USING .*$')
$$;

-- One CREATE INDEX per index of products, for the first-load table, derived
-- from the catalog so an index added later is built the same way. Slowest
-- first (GIN, then the widest B-trees), so two connections share them evenly.
CREATE FUNCTION products_first_load_indexes(src text) RETURNS SETOF text
LANGUAGE sql STABLE STRICT AS $$
  SELECT format('CREATE %sINDEX ON %I %s', CASE WHEN i.indisunique THEN 'UNIQUE ' ELSE '' END,
                products_partition_name(src), products_index_shape(i.indexrelid))
  FROM pg_index AS i
  JOIN pg_class AS c ON c.oid = i.indexrelid
  JOIN pg_am AS a ON a.oid = c.relam
  WHERE i.indrelid = 'products'::regclass
  ORDER BY a.amname = 'btree', i.indnatts DESC, c.relname
$$;

-- Attaching adopts the indexes built beforehand (products' primary key needs
-- a constraint on the partition, on the unique index defined like the
-- parent's) and builds any that are missing. The CHECK has done its job (no
-- validation scan) and goes.
CREATE OR REPLACE FUNCTION products_attach_bulk_load(src text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  part text := products_partition_name(src);
  key_index text;
BEGIN
  SELECT c.relname INTO key_index
  FROM pg_index AS i JOIN pg_class AS c ON c.oid = i.indexrelid
  WHERE i.indrelid = to_regclass(quote_ident(part)) AND i.indisunique AND NOT i.indisprimary
    AND products_index_shape(i.indexrelid) =
        (SELECT products_index_shape(k.indexrelid) FROM pg_index AS k
         WHERE k.indrelid = 'products'::regclass AND k.indisprimary)
  LIMIT 1;
  IF key_index IS NOT NULL THEN
    EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY USING INDEX %I', part, key_index);
  END IF;
  EXECUTE format('ALTER TABLE products ATTACH PARTITION %I FOR VALUES IN (%L)', part, src);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT first_load_in_progress', part);
END $$;

-- Waits for a first load of the same source (the ETL's per-source lock) and
-- replaces what an interrupted one left.
CREATE OR REPLACE FUNCTION products_ensure_partition(src text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := products_partition_name(src);
BEGIN
  PERFORM pg_advisory_xact_lock(1163152433, hashtext(src));
  PERFORM products_discard_first_load(src);
  IF products_partition_state(src) = 'missing' THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF products FOR VALUES IN (%L)', part, src);
  END IF;
  RETURN part;
END $$;

-- Partitions first-loaded under migration 3 kept their CHECK; it is redundant
-- with the partition bound.
DO $$
DECLARE
  part regclass;
BEGIN
  FOR part IN
    SELECT conrelid::regclass FROM pg_constraint
    WHERE conname = 'bulk_load_source'
      AND conrelid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = 'products'::regclass)
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT bulk_load_source', part);
  END LOOP;
END $$;
)sql"},
      {5, "runs_newest_first", R"sql(
-- GET /runs: every job's runs newest first, keyset (queued_at, id), alone or
-- with a status filter (a job filter uses job_runs_job_queued_idx).
CREATE INDEX job_runs_queued_at_id_idx ON job_runs (queued_at DESC, id DESC);
CREATE INDEX job_runs_status_queued_at_id_idx ON job_runs (status, queued_at DESC, id DESC);
)sql"},
      {6, "job_runs_products_source", R"sql(
-- The products source a run loaded into: the unchanged-source shortcut holds
-- only when the job still loads into that source. Runs before this migration
-- loaded into their job's current source.
ALTER TABLE job_runs ADD COLUMN products_source text;
UPDATE job_runs r SET products_source = j.source FROM jobs j WHERE j.id = r.job_id AND r.status = 'succeeded';
)sql"},
      {7, "catalog_versions", R"sql(
-- ETags of GET /products* and GET /items*: every committed write of a scope's
-- rows sets its version to a fresh value of one sequence, in the writing
-- transaction, so a version never repeats. Scopes: 'items', 'products' (any
-- source) and 'products:<source>'.
CREATE SEQUENCE catalog_version_seq;
CREATE TABLE catalog_versions (
  scope   text PRIMARY KEY,
  version bigint NOT NULL
);
)sql"},
      {8, "api_keys", R"sql(
-- Per-partner API keys (DESIGN.md "Auth"). Only the SHA-256 of the secret is
-- stored; a revoked key keeps its row (and its name) for the audit trail.
CREATE TABLE api_keys (
  name          text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  secret_sha256 text NOT NULL UNIQUE CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
  scopes        text[] NOT NULL CHECK (cardinality(scopes) > 0),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);
-- Who queued a run / uploaded a feed: a key name, 'api_token', or 'cli'.
ALTER TABLE job_runs ADD COLUMN triggered_by text;
ALTER TABLE feeds ADD COLUMN uploaded_by text;
)sql"},
      {9, "catalog_versions_notify", R"sql(
-- Every change of a catalog version is announced on channel catalog_versions
-- (payload "<version> <scope>"), whoever commits it: the API, a `run-job`
-- task, an operator's SQL. Each serving process keeps the versions in memory
-- from these (db::VersionCache) and answers If-None-Match without a query.
-- NOTIFY is sent at commit, so listeners never see an uncommitted version. A
-- scope too long for a payload (8000 bytes) sends an empty one: "re-read".
CREATE FUNCTION catalog_versions_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF octet_length(NEW.scope) < 7000 THEN
    PERFORM pg_notify('catalog_versions', NEW.version::text || ' ' || NEW.scope);
  ELSE
    PERFORM pg_notify('catalog_versions', '');
  END IF;
  RETURN NULL;
END
$$;
-- Not for the items scope: item writes are frequent, and a NOTIFY holds a
-- database-wide lock from the notifying commit's pre-commit to its end (POST
-- /items measured 27 % slower with it). Other processes see item versions at
-- their next full read (every second); the writing process at once.
CREATE TRIGGER catalog_versions_notify AFTER INSERT OR UPDATE ON catalog_versions
  FOR EACH ROW WHEN (NEW.scope <> 'items') EXECUTE FUNCTION catalog_versions_notify();
-- A scope's versions must grow in commit order, or a cache that keeps the
-- larger of what it hears would miss a write for good. A value drawn before
-- the row lock (an older binary's bump during a rolling deploy, an operator's
-- `SET version = EXCLUDED.version`) could commit after a larger one: every
-- update therefore draws its version here, under the row lock.
CREATE FUNCTION catalog_versions_in_commit_order() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := nextval('catalog_version_seq');
  RETURN NEW;
END
$$;
CREATE TRIGGER catalog_versions_in_commit_order BEFORE UPDATE ON catalog_versions
  FOR EACH ROW EXECUTE FUNCTION catalog_versions_in_commit_order();
)sql"},
      {10, "products_partition_bounds_not_valid", R"sql(
-- Migrations 10-12 move products' secondary indexes onto its partitions
-- (12 says why) without blocking readers for a scan of the catalogue: 12
-- detaches and re-attaches every partition, and a re-attach skips its
-- validation scan when a valid CHECK equal to the partition's bound exists.
-- Adding that CHECK validated would scan each partition holding an ACCESS
-- EXCLUSIVE lock, so it is added NOT VALID here (a catalog change) and
-- validated in 11 under a lock that lets reads and writes through.
-- A run holding a partition makes this wait: give up after 5 s rather than
-- queue every reader behind it (the service retries on its next start).
SET LOCAL lock_timeout = '5s';
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT c.oid::regclass AS part, pg_get_partition_constraintdef(c.oid) AS constraintdef
           FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
           WHERE i.inhparent = 'products'::regclass LOOP
    EXECUTE format('ALTER TABLE %s ADD CONSTRAINT products_m10_bound CHECK (%s) NOT VALID', p.part, p.constraintdef);
  END LOOP;
END $$;
)sql"},
      {11, "products_partition_bounds_validate", R"sql(
-- VALIDATE scans each partition under SHARE UPDATE EXCLUSIVE: reads, the
-- ETL's COPY and UPDATEs go on meanwhile.
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT conrelid::regclass AS part FROM pg_constraint
           WHERE conname = 'products_m10_bound' AND NOT convalidated LOOP
    EXECUTE format('ALTER TABLE %s VALIDATE CONSTRAINT products_m10_bound', p.part);
  END LOOP;
END $$;
)sql"},
      {12, "products_secondary_indexes_per_partition", R"sql(
-- products to itself for catalog changes only (no scan, thanks to 10-11);
-- but never wait behind a long run with every reader queued behind us.
DO $$
BEGIN
  SET LOCAL lock_timeout = '5s';
  LOCK TABLE products IN ACCESS EXCLUSIVE MODE;
EXCEPTION WHEN lock_not_available THEN
  RAISE EXCEPTION 'migration 12 needs products to itself for a moment, but an ETL run or a long query holds it: '
    'start the service again when no run is active';
END $$;
-- A first load's rows become visible as soon as they have their key: the
-- run attaches the new table with its primary key only, commits, and builds
-- the secondary indexes afterwards on the attached partition (docs/etl.md
-- "First load"). ATTACH PARTITION builds every index products itself has
-- (valid or not), so the secondary indexes stop being products' own: each
-- partition owns them, named by PostgreSQL, and their definitions live here.
-- The planner only ever uses a partition's own indexes, so plans are the same.

-- The secondary indexes every partition gets, slowest to build first (two
-- connections share the list evenly). products_index_shape() spelling.
CREATE FUNCTION products_secondary_index_shapes() RETURNS SETOF text
LANGUAGE sql IMMUTABLE AS $$
  VALUES ('USING gin (name gin_trgm_ops)'), ('USING btree (name, source, sku)'),
         ('USING btree (updated_at, source, sku)'), ('USING btree (price, source, sku)'),
         ('USING btree (sku, source)'), ('USING btree (brand)'), ('USING btree (category)'),
         ('USING btree (availability)')
$$;

-- One CREATE INDEX per secondary index the source's table lacks (none valid
-- of that shape): what a first load builds, and what a run after an
-- interrupted one builds again.
CREATE FUNCTION products_missing_indexes(src text) RETURNS SETOF text
LANGUAGE sql STABLE STRICT AS $$
  SELECT format('CREATE INDEX ON %I %s', products_partition_name(src), s.shape)
  FROM products_secondary_index_shapes() WITH ORDINALITY AS s(shape, n)
  WHERE to_regclass(quote_ident(products_partition_name(src))) IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM pg_index AS i
                    WHERE i.indrelid = to_regclass(quote_ident(products_partition_name(src))) AND i.indisvalid
                      AND products_index_shape(i.indexrelid) = s.shape)
  ORDER BY s.n
$$;

-- The key, then the attach (which builds any index products itself has
-- beyond its primary key, e.g. one an operator added), in the load's own
-- transaction. The CHECK spared the attach its scan and goes.
CREATE OR REPLACE FUNCTION products_attach_bulk_load(src text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  part text := products_partition_name(src);
BEGIN
  EXECUTE format('ALTER TABLE %I ADD PRIMARY KEY (source, sku)', part);
  EXECUTE format('ALTER TABLE products ATTACH PARTITION %I FOR VALUES IN (%L)', part, src);
  EXECUTE format('ALTER TABLE %I DROP CONSTRAINT first_load_in_progress', part);
END $$;

-- Partitions created for other writers get the secondary indexes at once
-- (an empty table: instant).
CREATE OR REPLACE FUNCTION products_ensure_partition(src text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  part text := products_partition_name(src);
  stmt text;
BEGIN
  PERFORM pg_advisory_xact_lock(1163152433, hashtext(src));
  PERFORM products_discard_first_load(src);
  IF products_partition_state(src) = 'missing' THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF products FOR VALUES IN (%L)', part, src);
    FOR stmt IN SELECT products_missing_indexes(src) LOOP
      EXECUTE stmt;
    END LOOP;
  END IF;
  RETURN part;
END $$;

DROP FUNCTION products_first_load_indexes(text);

-- Existing partitions keep their rows and indexes: detaching one leaves its
-- indexes in place as its own, dropping products' secondary indexes then
-- drops nothing else, and re-attaching adopts only the primary key. The
-- CHECK of migrations 10-11 spares the re-attach its scan (a partition made
-- since, by an older binary, is scanned).
CREATE TEMP TABLE products_m10 ON COMMIT DROP AS
  SELECT c.oid::regclass AS part, pg_get_expr(c.relpartbound, c.oid) AS bound,
         pg_get_partition_constraintdef(c.oid) AS constraintdef
  FROM pg_inherits AS i JOIN pg_class AS c ON c.oid = i.inhrelid
  WHERE i.inhparent = 'products'::regclass;
DO $$
DECLARE
  p record;
BEGIN
  FOR p IN SELECT * FROM products_m10 LOOP
    EXECUTE format('ALTER TABLE products DETACH PARTITION %s', p.part);
  END LOOP;
  DROP INDEX IF EXISTS products_sku_idx, products_updated_at_idx, products_name_idx, products_price_idx,
    products_name_trgm_idx, products_brand_idx, products_category_idx, products_availability_idx;
  FOR p IN SELECT * FROM products_m10 LOOP
    EXECUTE format('ALTER TABLE products ATTACH PARTITION %s %s', p.part, p.bound);
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS products_m10_bound', p.part);
  END LOOP;
END $$;
)sql"},
      {13, "api_keys_notify", R"sql(
-- A change of what a key opens is announced on channel api_keys (payload: the
-- key's name), whoever commits it: DELETE /keys on any task, `catalog-api keys
-- revoke`, an operator's SQL. Each serving process's listener (the one of
-- catalog_versions) drops its cached look-ups of that key at once
-- (auth::KeyStore), so a revocation stops the key on every task together.
-- last_used_at updates are not announced (UPDATE OF skips them).
CREATE FUNCTION api_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('api_keys', OLD.name);
  RETURN NULL;
END
$$;
CREATE TRIGGER api_keys_notify AFTER UPDATE OF name, secret_sha256, scopes, expires_at, revoked_at OR DELETE
  ON api_keys FOR EACH ROW EXECUTE FUNCTION api_keys_notify();
)sql"},
      {14, "job_runs_phase", R"sql(
-- 'indexes' once a run's rows are committed and it builds the secondary
-- indexes: if its worker dies then, the stale check ends the run with its
-- recorded counts instead of re-queueing it (docs/etl.md "First load").
ALTER TABLE job_runs ADD COLUMN phase text;
)sql"},
      {15, "run_notifications", R"sql(
-- Webhooks owed when a run ends (docs/runbook.md "Notifications"): queued in
-- the run's finishing transaction, claimed by any task's delivery worker with
-- SKIP LOCKED. `sending` rows carry a lease in next_attempt_at: a worker that
-- died mid-attempt leaves its row claimable again once the lease is over.
CREATE TABLE run_notifications (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  run_id uuid NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
  url text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  last_error text,
  last_http_status integer,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  UNIQUE (run_id, url)
);
CREATE INDEX run_notifications_due_idx ON run_notifications (next_attempt_at) WHERE status IN ('pending', 'sending');
)sql"},
      {16, "job_runs_queue_per_job", R"sql(
-- Runs pinned to an object (feed uploads, S3 events, POST /feeds/{id}/run)
-- queue behind a job's active run instead of being refused: two files that
-- arrive together get one run each, in order. Still one running run per
-- job; a plain trigger still needs the job idle (checked under the job's row
-- lock; the index below is the backstop).
ALTER TABLE job_runs ADD COLUMN pinned boolean NOT NULL DEFAULT false;
UPDATE job_runs SET pinned = true WHERE id IN (SELECT run_id FROM feeds WHERE run_id IS NOT NULL);
DROP INDEX job_runs_one_active_idx;
CREATE UNIQUE INDEX job_runs_one_running_idx ON job_runs (job_id) WHERE status = 'running';
CREATE UNIQUE INDEX job_runs_one_queued_trigger_idx ON job_runs (job_id) WHERE status = 'queued' AND NOT pinned;
)sql"},
      {17, "run_changes", R"sql(
-- Dry runs and the per-run change log (docs/change-log.md). A dry run runs
-- the whole pipeline and writes nothing to products; it never counts as a
-- job's last succeeded run. first_load: the run loaded a source that had no
-- rows, and recorded only its count. delete_guard: what the mass-delete
-- guard would have said of a dry run (a real run fails with it).
ALTER TABLE job_runs ADD COLUMN dry_run boolean NOT NULL DEFAULT false,
  ADD COLUMN first_load boolean NOT NULL DEFAULT false,
  ADD COLUMN delete_guard text;
-- What each run changed (or would): one row per key, written set-based in
-- the run's own transaction. fields: for updated/revived rows, each changed
-- field's {"before", "after"}. Keyset-paged by sku within a run; a
-- product's history goes through (source, sku).
CREATE TABLE run_changes (
  run_id uuid NOT NULL REFERENCES job_runs (id) ON DELETE CASCADE,
  sku    text COLLATE "C" NOT NULL,
  source text COLLATE "C" NOT NULL,
  kind   text NOT NULL CHECK (kind IN ('inserted', 'updated', 'deleted', 'revived')),
  fields jsonb,
  PRIMARY KEY (run_id, sku)
);
CREATE INDEX run_changes_product_idx ON run_changes (source, sku);
-- Retention (RUN_RETENTION_DAYS) finds old finished runs by this.
CREATE INDEX job_runs_finished_idx ON job_runs (finished_at) WHERE finished_at IS NOT NULL;
)sql"},
      {18, "run_changes_statement_cascade", R"sql(
-- The change log's foreign key checked job_runs once per recorded row (a
-- trigger call and a row lock each: a third of the log's cost, docs/
-- performance.md). Rows are only ever written by their own run, whose row
-- exists; what the key still did, deleting a run's changes with the run, is
-- now one statement per DELETE of job_runs, whichever way runs are deleted.
ALTER TABLE run_changes DROP CONSTRAINT run_changes_run_id_fkey;
CREATE FUNCTION job_runs_delete_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM run_changes AS c USING deleted_runs AS d WHERE c.run_id = d.id;
  RETURN NULL;
END $$;
CREATE TRIGGER job_runs_delete_changes AFTER DELETE ON job_runs
  REFERENCING OLD TABLE AS deleted_runs FOR EACH STATEMENT EXECUTE FUNCTION job_runs_delete_changes();
)sql"},
  };
  return migrations;
}

}  // namespace catalog::db
