-- Data versioning: the revision history of the observed data, content-
-- addressed snapshots (the hash recomputed here in plain SQL from the
-- documented serialization), diffs, as-of reads that hash back, training
-- on a past snapshot, reproduction, lineage, and the errors.  Runs on the
-- real data models.sql left; prints no ids or instants (TimeZone is
-- PST8PDT here, and the results must not depend on it).
SET client_min_messages = warning;
\set SHOW_CONTEXT never

-- The content hash in plain SQL (test/fixtures/content_hash.sql, from
-- README "Data versioning"): pg_temp.content_hash(station, line).
\getenv abs_srcdir PG_ABS_SRCDIR
\i :abs_srcdir/test/fixtures/content_hash.sql

-- An error as (sqlstate, message, detail, hint), with the given ids named
-- <id1>, <id2>... (ids depend on what ran before).
CREATE FUNCTION pg_temp.error_of(q text, VARIADIC ids bigint[] DEFAULT '{}')
  RETURNS TABLE (sqlstate text, message text, detail text, hint text) LANGUAGE plpgsql AS $$
DECLARE
  s text; m text; d text; h text;
BEGIN
  EXECUTE q;
  RETURN QUERY SELECT 'none'::text, NULL::text, NULL::text, NULL::text;
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
  FOR i IN 1 .. coalesce(array_length(ids, 1), 0) LOOP
    m := replace(m, ' ' || ids[i] || ' ', ' <id' || i || '> ');
  END LOOP;
  RETURN QUERY SELECT s, m, d, h;
END
$$;

-- A model trained before anything changes records its snapshot.
SELECT model_id AS m0, (metrics->>'snapshot_id')::bigint AS s0
FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31', project => 'versions', force => true) \gset
SELECT md5(blob) AS blob0 FROM seongsu.models WHERE id = :m0 \gset

-- Same content, same snapshot, whatever the session's settings; the hash
-- is the one plain SQL computes from the documented serialization.
SELECT seongsu.snapshot() AS s1 \gset
SELECT seongsu.snapshot(to_date => '2024-05-31') = :s0 AS same_as_the_models, seongsu.snapshot() = :s1 AS same_again;
SET TimeZone = 'Asia/Seoul';
SET DateStyle = 'SQL, DMY';
SET extra_float_digits = -10;
SELECT seongsu.snapshot() = :s1 AS same_under_other_settings,
       (SELECT content_hash FROM seongsu.snapshots WHERE snapshot_id = :s1) = pg_temp.content_hash('성수', '2호선') AS hash_as_documented;
RESET TimeZone;
RESET DateStyle;
RESET extra_float_digits;
SELECT (SELECT content_hash FROM seongsu.snapshots WHERE snapshot_id = :s1) = pg_temp.content_hash('성수', '2호선') AS hash_under_pst8pdt,
       (SELECT row_counts->'ridership_daily' = to_jsonb((SELECT count(*) FROM seongsu.ridership_daily d
                                                          JOIN seongsu.stations s ON s.id = d.station_id
                                                          WHERE s.name = '성수' AND s.line = '2호선'))
        FROM seongsu.snapshots WHERE snapshot_id = :s1) AS counts_match;
-- A range covers whole months from 862 days before from_date (what the
-- loaders can reach) to to_date: a narrower content, another snapshot.
SELECT seongsu.snapshot(from_date => '2024-01-01', to_date => '2024-05-31') AS s_range \gset
SELECT :s_range <> :s1 AS another_snapshot,
       (row_counts->>'ridership_daily')::int = (SELECT count(*) FROM seongsu.ridership_daily d JOIN seongsu.stations s ON s.id = d.station_id
                                               WHERE s.name = '성수' AND d.day <= '2024-05-31'
                                                 AND d.day >= make_date(extract(year FROM date '2024-01-01' - 862)::int,
                                                                        extract(month FROM date '2024-01-01' - 862)::int, 1)) AS range_rows
FROM seongsu.snapshots WHERE snapshot_id = :s_range;

-- A revision: a later registration of one day.  Exactly one history row
-- keeps the previous version, current until the new one's stamp.
SELECT d.boardings AS old_b, d.alightings AS old_a, d.ingested_at AS old_stamp,
       (SELECT count(*) FROM seongsu.ridership_daily_history) AS hist0
FROM seongsu.ridership_daily d JOIN seongsu.stations s ON s.id = d.station_id
WHERE s.name = '성수' AND d.day = '2024-04-10' \gset
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-04-10,2호선,성수,'
                           || :old_b + 1000 || ',' || :old_a + 2000) AS written;
SELECT (SELECT count(*) FROM seongsu.ridership_daily_history) - :hist0 AS new_history_rows,
       h.boardings = :old_b AND h.alightings = :old_a AS previous_values,
       h.ingested_at = :'old_stamp' AND h.valid_to = d.ingested_at AND h.ingested_at < h.valid_to AS its_interval
FROM seongsu.ridership_daily_history h
JOIN seongsu.ridership_daily d ON d.station_id = h.station_id AND d.day = h.day
WHERE h.day = '2024-04-10' ORDER BY h.valid_to DESC LIMIT 1;
-- The same file again writes nothing: no row, no history, the same snapshot.
SELECT count(*) AS hist1 FROM seongsu.ridership_daily_history \gset
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-04-10,2호선,성수,'
                           || :old_b + 1000 || ',' || :old_a + 2000) AS written_again;
SELECT seongsu.snapshot() AS s2 \gset
SELECT count(*) - :hist1 AS history_rows_after_reimport, :s2 <> :s1 AS new_snapshot,
       seongsu.snapshot() = :s2 AS same_id,
       (SELECT content_hash FROM seongsu.snapshots WHERE snapshot_id = :s2) = pg_temp.content_hash('성수', '2호선') AS hash_as_documented
FROM seongsu.ridership_daily_history;
-- The diff lists exactly that day, with its values before and after.
SELECT table_name, key, change, old = jsonb_build_object('day', '2024-04-10', 'boardings', :old_b, 'alightings', :old_a) AS old_ok,
       new = jsonb_build_object('day', '2024-04-10', 'boardings', :old_b + 1000, 'alightings', :old_a + 2000) AS new_ok
FROM seongsu.diff_snapshots(:s1, :s2);
SELECT count(*) AS reverse_rows, bool_and(change = 'changed') AS changed FROM seongsu.diff_snapshots(:s2, :s1);
SELECT count(*) AS same_snapshot_rows FROM seongsu.diff_snapshots(:s2, :s2);

-- Read back as of their instants, through the history, both hash to their
-- content_hash; a row written with an old stamp of its own would make the
-- earlier one fail (and train refuse it).
SELECT seongsu.verify_snapshot(:s1) AS s1_reads_back, seongsu.verify_snapshot(:s2) AS s2_reads_back;
BEGIN;
INSERT INTO seongsu.ridership_daily (station_id, day, boardings, alightings, source, ingested_at)
SELECT id, '2009-01-01', 1, 1, 'test', '2001-01-01' FROM seongsu.stations WHERE name = '성수' AND line = '2호선';
SELECT seongsu.verify_snapshot(:s1) AS reads_back_with_a_forged_stamp;
\x
SELECT * FROM pg_temp.error_of(format('SELECT seongsu.train(algorithm => %L, snapshot => %s)', 'ridge', :s1), :s1);
\x
ROLLBACK;

-- Training on the earlier snapshot after the revision gives the model
-- trained before it, byte for byte; on the current data, another model.
SELECT model_id AS m1, deployed FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31',
                                                 project => 'versions', snapshot => :s0) \gset
SELECT :'deployed' AS deployed_on_a_past_snapshot,
       (SELECT md5(blob) FROM seongsu.models WHERE id = :m1) = :'blob0' AS same_bytes_as_before,
       (SELECT metrics->>'snapshot_id' FROM seongsu.models WHERE id = :m1)::bigint = :s0 AS records_it;
SELECT model_id AS m2 FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31',
                                        project => 'versions', force => true) \gset
SELECT (SELECT md5(blob) FROM seongsu.models WHERE id = :m2) <> :'blob0' AS current_data_differs,
       (SELECT metrics->>'snapshot_id' FROM seongsu.models WHERE id = :m2)::bigint = seongsu.snapshot(to_date => '2024-05-31') AS records_the_new_snapshot;
-- reproduce_model refits from the stored parameters on the recorded
-- snapshot: identical; with a stored parameter changed, not, and it says why.
SELECT identical, reason, new_model_id <> :m0 AS new_model,
       (SELECT count(*) FROM seongsu.deployments WHERE model_id = new_model_id) AS deployments
FROM seongsu.reproduce_model(:m0);
UPDATE seongsu.models SET hyperparams = jsonb_set(hyperparams, '{alpha}', '2') WHERE id = :m1;
SELECT identical, reason FROM seongsu.reproduce_model(:m1);
-- a random forest and a gbdt too (seeds; the gbdt's stored tree count is its refit's)
SELECT r.identical, r.reason
FROM seongsu.train(algorithm => 'random_forest', horizon => '7 days', train_to => '2024-05-31', project => 'versions rf',
                   hyperparams => '{"n_trees": 10}', force => true) t, seongsu.reproduce_model(t.model_id) r;
SELECT r.identical, r.reason
FROM seongsu.train(algorithm => 'gbdt', horizon => '7 days', train_to => '2024-05-31', project => 'versions gbdt',
                   hyperparams => '{"n_estimators": 80, "learning_rate": 0.1}', force => true) t, seongsu.reproduce_model(t.model_id) r;

-- Revisions of the other tables: a corrected weather value, a removed
-- holiday; an UPDATE that changes nothing keeps the stamp and the history.
SELECT count(*) AS hist_w FROM seongsu.weather_daily_history \gset
UPDATE seongsu.weather_daily SET temp_mean_c = temp_mean_c WHERE day = '2024-04-10';
SELECT count(*) - :hist_w AS history_of_a_no_op_update FROM seongsu.weather_daily_history;
UPDATE seongsu.weather_daily SET temp_mean_c = temp_mean_c + 1 WHERE day = '2024-04-10' AND source = 'open-meteo';
DELETE FROM seongsu.holidays WHERE day = '2024-05-05';
SELECT seongsu.snapshot() AS s3 \gset
SELECT table_name, key, change, old - 'day' AS old, new - 'day' AS new FROM seongsu.diff_snapshots(:s2, :s3)
ORDER BY table_name, key;
SELECT seongsu.verify_snapshot(:s2) AND seongsu.verify_snapshot(:s3) AS both_read_back,
       (SELECT content_hash FROM seongsu.snapshots WHERE snapshot_id = :s3) = pg_temp.content_hash('성수', '2호선') AS hash_as_documented;
-- Training on the first snapshot still gives the first model: the weather
-- (and its climatology) and the holidays are read as of it too.
SELECT model_id AS m3 FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31',
                                        project => 'versions', snapshot => :s0) \gset
SELECT (SELECT md5(blob) FROM seongsu.models WHERE id = :m3) = :'blob0' AS same_bytes_after_all_revisions;
SELECT identical FROM seongsu.reproduce_model(:m0);
-- Stored parameters read back exactly (an alpha that %g would round).
SELECT r.identical, r.reason
FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', train_to => '2024-05-31', project => 'versions alpha',
                   hyperparams => '{"alpha": 1.23456789, "target": "ratio"}', force => true) t, seongsu.reproduce_model(t.model_id) r;

-- reproduce(run_id): a train() call's run reproduced after a new day has
-- arrived and an old one was revised (in a transaction: the data then come
-- back as they were) is identical, as a run of its own that stored a new,
-- undeployed version of the project, tagged with what it reproduces.
SELECT run_id AS r_all, model_id AS m_all FROM seongsu.train(algorithm => 'ridge', horizon => '1 day',
                                                           project => 'versions all', force => true) \gset
BEGIN;
SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n'
                           '2025-06-01,2호선,성수,50000,51000\n2025-05-20,2호선,성수,1,2') AS new_and_revised;
SELECT run_id AS rr, model_id AS mr, identical, reason IS NULL AS no_reason FROM seongsu.reproduce(:r_all) \gset
SELECT :'identical' AS identical, :'no_reason' AS no_reason, :mr <> :m_all AS new_model,
       (SELECT m.blob = o.blob FROM seongsu.models m, seongsu.models o WHERE m.id = :mr AND o.id = :m_all) AS same_bytes,
       r.parent_run_id IS NULL AS own_run, r.status, r.algorithm, r.model_id = :mr AS run_has_the_model,
       r.snapshot_id = o.snapshot_id AS on_the_runs_snapshot, r.params = o.params AS same_params,
       r.tags->>'seongsu.reproduces_run' = :'r_all' AS tagged_with_the_run,
       r.tags->>'seongsu.reproduces_model' = :'m_all' AS tagged_with_the_model,
       (SELECT v.run_id = :rr AND v.deployed = false FROM seongsu.model_versions v WHERE v.model_id = :mr) AS undeployed_version,
       (SELECT max(day) FROM seongsu.ridership_daily d JOIN seongsu.stations s ON s.id = d.station_id WHERE s.name = '성수') AS data_now_to
FROM seongsu.runs r JOIN seongsu.runs o ON o.run_id = :r_all WHERE r.run_id = :rr;
ROLLBACK;
-- The candidate that stored the model reproduces it too; one that was only
-- backtested stored none: an error naming what to reproduce instead.
SELECT c.run_id AS c_stored FROM seongsu.runs c WHERE c.parent_run_id = :r_all AND c.model_id = :m_all \gset
SELECT c.run_id AS c_unstored FROM seongsu.runs c WHERE c.parent_run_id = :r_all AND c.model_id IS NULL LIMIT 1 \gset
SELECT identical, reason FROM seongsu.reproduce(:c_stored);
\x
SELECT sqlstate, message, detail, replace(replace(hint, :'c_stored', '<stored>'), :'r_all', '<call>') AS hint
FROM pg_temp.error_of(format('SELECT seongsu.reproduce(%s)', :c_unstored), :c_unstored);
\x
-- A run trained by another build of the extension: false, with the reason
-- (the bytes of the refit are compared all the same).
BEGIN;
UPDATE seongsu.runs SET build = 'another-build' WHERE run_id = :r_all;
SELECT run_id AS rb, identical, reason FROM seongsu.reproduce(:r_all) \gset
SELECT :'identical' AS identical, replace(replace(:'reason', r.build, '<this build>'), 'run ' || :'r_all' || ' ', 'run <run> ') AS reason,
       r.tags->>'seongsu.reproduces_run' = :'r_all' AS tagged_with_the_run
FROM seongsu.runs r WHERE r.run_id = :rb;
ROLLBACK;
\set VERBOSITY default
SELECT * FROM seongsu.reproduce(-1);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- Lineage: every row of the snapshot, by table, source and write.
SELECT l.table_name, sum(l.rows) = (s.row_counts->>l.table_name)::bigint AS all_rows, count(*) > 0 AS writes,
       bool_and(l.first_day <= l.last_day) AS days_ordered
FROM seongsu.lineage(:s3) l, seongsu.snapshots s WHERE s.snapshot_id = :s3
GROUP BY l.table_name, s.row_counts ORDER BY l.table_name;
SELECT source, rows, first_day, last_day FROM seongsu.lineage(:s3)
WHERE table_name = 'ridership_daily' AND first_day = '2024-04-10' AND last_day = '2024-04-10';

-- Lineage from a model: its candidate run, its call, its snapshot and the
-- writes of the snapshot's rows (exactly seongsu.lineage of the snapshot);
-- a reproduction's model leads to the reproduction's run, on the same data.
SELECT g.run_id AS m0_run, r.parent_run_id AS m0_call FROM seongsu.model_registry g JOIN seongsu.runs r ON r.run_id = g.run_id
WHERE g.model_id = :m0 \gset
SELECT count(*) > 0 AS has_rows, bool_and(run_id = :m0_run) AS its_run, bool_and(call_run_id = :m0_call) AS its_call,
       bool_and(snapshot_id = :s0) AS its_snapshot,
       NOT EXISTS (SELECT table_name, source, written_at, rows, first_day, last_day, job_id FROM seongsu.model_lineage(:m0)
                   EXCEPT ALL SELECT * FROM seongsu.lineage(:s0))
       AND NOT EXISTS (SELECT * FROM seongsu.lineage(:s0) EXCEPT ALL
                       SELECT table_name, source, written_at, rows, first_day, last_day, job_id FROM seongsu.model_lineage(:m0)) AS the_snapshots_writes
FROM seongsu.model_lineage(:m0);
SELECT run_id AS rr2, model_id AS mr2 FROM seongsu.reproduce(:m0_call) \gset
SELECT bool_and(run_id = :rr2) AS the_reproductions_run, bool_and(call_run_id = :rr2) AS its_own_call,
       bool_and(snapshot_id = :s0) AS the_same_snapshot
FROM seongsu.model_lineage(:mr2);
\set VERBOSITY default
SELECT * FROM seongsu.model_lineage(-1);
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse

-- Every station at once.
SELECT seongsu.snapshot(station => NULL, line => NULL) AS s_all \gset
SELECT (SELECT content_hash FROM seongsu.snapshots WHERE snapshot_id = :s_all) = pg_temp.content_hash(NULL, NULL) AS all_stations_as_documented,
       seongsu.verify_snapshot(:s_all) AS reads_back;

-- The chunk cache is only a cache: emptied, the same snapshot.
DELETE FROM seongsu.snapshot_chunks;
SELECT seongsu.snapshot() = :s3 AS same_without_cache, seongsu.snapshot() = :s3 AS same_from_cache;

-- Bad input.
\set VERBOSITY default
SELECT seongsu.verify_snapshot(-1);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM seongsu.lineage(-1);
\echo :LAST_ERROR_SQLSTATE
SELECT model_id FROM seongsu.train(algorithm => 'ridge', snapshot => -1);
\echo :LAST_ERROR_SQLSTATE
SELECT seongsu.snapshot('없는역', '2호선');
\echo :LAST_ERROR_SQLSTATE
SELECT seongsu.snapshot(NULL, '99호선');
\echo :LAST_ERROR_SQLSTATE
SELECT seongsu.snapshot('성수', NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT seongsu.snapshot(from_date => '2024-02-01', to_date => '2024-01-01');
\echo :LAST_ERROR_SQLSTATE
SELECT seongsu.snapshot(from_date => '1990-01-01', to_date => '1990-12-31');
\echo :LAST_ERROR_SQLSTATE
SELECT seongsu.snapshot(to_date => 'infinity');
\echo :LAST_ERROR_SQLSTATE
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT seongsu.snapshot();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT model_id FROM seongsu.train(station => '성수', algorithm => 'ridge', snapshot => :s_range, train_from => '2020-01-01');
\echo :LAST_ERROR_SQLSTATE
\x
SELECT * FROM pg_temp.error_of(format('SELECT seongsu.train(station => %L, snapshot => %s)', '강남', :s3), :s3);
\x
SELECT * FROM seongsu.reproduce_model(-1);
\echo :LAST_ERROR_SQLSTATE
UPDATE seongsu.models SET metrics = metrics - 'snapshot_id' WHERE id = :m2;
\x
SELECT * FROM pg_temp.error_of(format('SELECT seongsu.reproduce_model(%s)', :m2), :m2);
\x
SELECT seongsu.purge_history(now() + interval '1 day');
\echo :LAST_ERROR_SQLSTATE

-- Purged history: purging what ended before s3's instant leaves s3
-- readable; earlier snapshots can no longer be read, and are never handed
-- out again for their content.
SELECT seongsu.purge_history((SELECT as_of FROM seongsu.snapshots WHERE snapshot_id = :s3)) > 0 AS purged;
SELECT seongsu.verify_snapshot(:s3) AS s3_reads_back,
       (SELECT count(*) FROM seongsu.snapshots WHERE snapshot_id IN (:s1, :s2) AND purged_at IS NOT NULL) AS purged_snapshots;
\x
SELECT * FROM pg_temp.error_of(format('SELECT seongsu.verify_snapshot(%s)', :s1), :s1);
SELECT * FROM pg_temp.error_of(format('SELECT seongsu.diff_snapshots(%s, %s)', :s3, :s2), :s2, :s3);
\x
-- all that ended before this transaction (older_than may not lie after now())
SELECT seongsu.purge_history(now()) >= 0 AS purged_all,
       seongsu.snapshot() <> :s3 AS a_new_row_for_purged_content;
\set VERBOSITY terse

-- Privileges: readers read the history and the snapshots and call the
-- read-only functions; only functions write them; nothing for PUBLIC.
SELECT c.relname, has_table_privilege('seongsu_reader', c.oid, 'SELECT') AS reader_reads,
       has_table_privilege('seongsu_operator', c.oid, 'INSERT, UPDATE, DELETE') AS operator_writes
FROM pg_class c WHERE c.relnamespace = 'seongsu'::regnamespace AND c.relkind = 'r'
  AND (c.relname LIKE '%\_history' OR c.relname LIKE 'snapshot%') ORDER BY 1;
SELECT p.proname, has_function_privilege('seongsu_reader', p.oid, 'EXECUTE') AS reader,
       has_function_privilege('seongsu_operator', p.oid, 'EXECUTE') AS operator
FROM pg_proc p WHERE p.pronamespace = 'seongsu'::regnamespace
  AND p.proname IN ('snapshot', 'verify_snapshot', 'diff_snapshots', 'lineage', 'model_lineage', 'purge_history', 'reproduce_model', 'reproduce', 'version_stamp')
ORDER BY 1;

DELETE FROM seongsu.deployments WHERE project LIKE 'versions%';
DELETE FROM seongsu.models WHERE project LIKE 'versions%';
