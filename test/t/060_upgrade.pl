# Upgrades (issue 17, item 2; docs/releasing.md).  For every released
# version whose install script is installed (releases/daily_seongsu--X.sql),
# a cluster gets that version, filled through its own API with data of
# every kind: ridership, weather, holidays, two trained and deployed models,
# feature rows, a job run by run_pending_jobs (with the current library: it
# must serve the old installation until it is updated) and a pending one,
# pg_cron schedules, a secret where the version has set_secret.  Then
# ALTER EXTENSION daily_seongsu UPDATE, and:
#  - the schema equals a fresh install of default_version in a second
#    cluster: pg_dump --schema-only --binary-upgrade (which, unlike a plain
#    dump, writes every member of the extension, their comments, grants and
#    initial privileges) and pg_dumpall --roles-only, normalized only for
#    what differs between any two clusters (see normalize_dump), plus the
#    configuration tables with their pg_dump conditions;
#  - the rows the install script seeds equal the fresh install's;
#  - every row of every table is unchanged, the models predict the same
#    values as before the update, the pending job runs;
#  - the pg_cron jobs are those schedule_ingestion would create now.
# A change to src/sql without its upgrade script fails here and prints the
# schema diff (fresh install vs updated).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use IPC::Run;
use SeongsuTest qw(start_replay replay_urls);

my $SEOUL = 'UpgradeSeoulKey';
my $DGK   = 'UpgradeDataGoKrKey';
my $base  = start_replay(seoul_key => $SEOUL, dgk_key => $DGK);
my $DB    = 'seongsu';

# A started cluster with the library and pg_cron preloaded and database $DB
# holding pg_cron.  The worker serves database postgres, where the extension
# never is, so nothing but the test writes the tables.
sub new_node
{
	my ($name) = @_;
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'daily_seongsu,pg_cron'
cron.database_name = '$DB'
seongsu.database = 'postgres'
seongsu.seoul_api_key = '$SEOUL'
seongsu.data_go_kr_key = '$DGK'
@{[ replay_urls($base) ]}
EOC
	$node->start;
	$node->safe_psql('postgres', "CREATE DATABASE $DB");
	$node->safe_psql($DB, 'CREATE EXTENSION pg_cron');
	return $node;
}

# ---------------------------------------------------------------- the fresh install
my $fresh = new_node('fresh');
$fresh->safe_psql($DB, 'CREATE EXTENSION daily_seongsu');
my $current = $fresh->safe_psql($DB, q{SELECT extversion FROM pg_extension WHERE extname = 'daily_seongsu'});
is($current, $fresh->safe_psql($DB, q{SELECT default_version FROM pg_available_extensions WHERE name = 'daily_seongsu'}),
	"a fresh install is the default version ($current)");
my @releases = split /\n/, $fresh->safe_psql($DB, qq{
	SELECT version FROM pg_available_extension_versions
	WHERE name = 'daily_seongsu' AND version <> '$current'
	ORDER BY pg_catalog.string_to_array(version, '.')::integer[]});
ok(@releases >= 1, 'at least one earlier release is installed: ' . join(', ', @releases));
for my $r (@releases)
{
	is($fresh->safe_psql($DB, qq{SELECT path IS NOT NULL FROM pg_extension_update_paths('daily_seongsu')
		WHERE source = '$r' AND target = '$current'}), 't', "$r has an update path to $current");
}

# The standard output of a command that must succeed.
sub output_of
{
	my (@cmd) = @_;
	my ($out, $err) = ('', '');
	IPC::Run::run(\@cmd, '>', \$out, '2>', \$err) or die "@cmd failed: $err";
	return $out;
}

# The schema of database $DB of $node as text that two clusters can share
# (file $label in the test's folder).  pg_dump --binary-upgrade dumps each
# member of the extension (a plain dump writes only CREATE EXTENSION);
# --extension=daily_seongsu leaves pg_cron out, not other objects.
sub schema_of
{
	my ($node, $label) = @_;
	my $dump = output_of('pg_dump', '--schema-only', '--binary-upgrade', '--extension=daily_seongsu',
		'-d', $node->connstr($DB));
	my $roles = output_of('pg_dumpall', '--roles-only', '-d', $node->connstr('postgres'));
	my $config = $node->safe_psql($DB, q{
		SELECT string_agg(format('%s %s', c::regclass, coalesce(nullif(w, ''), '(all rows)')), E'\n'
		                  ORDER BY c::regclass::text)
		FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(c, w)
		WHERE e.extname = 'daily_seongsu'});
	my $text = normalize_dump($dump)
	  . "\n-- roles (pg_dumpall --roles-only)\n" . normalize_dump($roles)
	  . "\n-- configuration tables of the extension, with the rows pg_dump keeps\n$config\n";
	open(my $fh, '>', "$PostgreSQL::Test::Utils::tmp_check/$label.sql") or die "$label.sql: $!";
	print $fh $text;
	close($fh);
	return $text;
}

# What differs between any two clusters and says nothing about the schema:
sub normalize_dump
{
	my ($t) = @_;
	# the random key pg_dump (15.14+, 17.6+) draws for \restrict on each run
	$t =~ s/^\\(un|)restrict \S+$/\\$1restrict KEY/mg;
	# the OIDs and relfilenodes the server assigned (binary-upgrade calls)
	$t =~ s/^SELECT pg_catalog\.binary_upgrade_set_next_\w+\(.*\);\n//mg;
	# transaction counters, and toast tables named by OID
	$t =~ s/relfrozenxid = '\d+', relminmxid = '\d+'/relfrozenxid = 'N', relminmxid = 'N'/g;
	$t =~ s/^WHERE oid = '\d+';$/WHERE oid = 'OID';/mg;
	# the configuration tables as OIDs in the order they were marked (listed
	# by name at the end instead)
	$t =~ s/(binary_upgrade_create_empty_extension\('daily_seongsu', '[^']*', \w+, '[^']*'), .*?, (ARRAY\[)/$1, CONFIG, $2/g;
	# sequence positions: the ids used so far, data rather than schema
	$t =~ s/^(SELECT pg_catalog\.setval\('[^']+'), \d+, (true|false)\);$/$1, N);/mg;
	# a column an update dropped: physically still there, invisible to SQL
	$t =~ s/^    "\.{8}pg\.dropped\.\d+\.{8}" [^\n]*\n//mg;
	$t =~ s/,\n\);/\n);/g;
	$t =~ s/^-- For binary upgrade, recreate dropped column\.\n(?:.*\n)*?ALTER TABLE ONLY [^\n]* DROP COLUMN "\.{8}pg\.dropped\.\d+\.{8}";\n//mg;
	return $t;
}

# Every table of the extension with its columns (as now).
sub table_columns
{
	my ($node) = @_;
	my %cols;
	for (split /\n/, $node->safe_psql($DB, q{
		SELECT c.relname || '|' || string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
		FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		WHERE c.relnamespace = 'seongsu'::regnamespace AND c.relkind = 'r'
		GROUP BY c.relname}))
	{
		my ($t, $c) = split /\|/, $_, 2;
		$cols{$t} = $c;
	}
	return \%cols;
}

# Row count and a hash of the rows of each table, over the given columns.
sub fingerprint
{
	my ($node, $cols) = @_;
	my %f;
	for my $t (sort keys %$cols)
	{
		$f{$t} = $node->safe_psql($DB, "SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(x::text), ',' "
			  . "ORDER BY md5(x::text))), '') FROM (SELECT $cols->{$t} FROM seongsu.$t) x");
	}
	return \%f;
}

# The rows the install script seeds (those of a configuration table that
# its pg_dump condition leaves out), without the columns that record when
# a row was written (default now(), or the version stamp of a versioned
# table, seongsu.version_stamp(...)).
sub seeded_rows
{
	my ($node) = @_;
	my %s;
	for (split /\n/, $node->safe_psql($DB, q{
		SELECT c.relname || '|' || substr(w, 7) || '|'
		       || (SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum)
		           FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
		           WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		             AND pg_get_expr(d.adbin, d.adrelid) IS DISTINCT FROM 'now()'
		             AND coalesce(pg_get_expr(d.adbin, d.adrelid), '') !~ '^seongsu\.version_stamp\(')
		FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS u(oid, w), pg_class c
		WHERE e.extname = 'daily_seongsu' AND c.oid = u.oid AND w LIKE 'WHERE %'}))
	{
		my ($t, $cond, $c) = split /\|/, $_, 3;
		$s{$t} = $node->safe_psql($DB, "SELECT count(*) || E'\\n' || coalesce(string_agg(x::text, E'\\n' ORDER BY x::text), '') "
			  . "FROM (SELECT $c FROM seongsu.$t WHERE ($cond) IS NOT TRUE) x");
	}
	return \%s;
}

# The observations every installation gets (the same in the fresh install
# the snapshots are compared with), through the import API 0.1.0 has too.
my $IMPORTS = q{
SELECT seongsu.import_text('ridership_daily', 'date,line,station,boardings,alightings' || E'\n' ||
  string_agg(format('%s,2호선,성수,%s,%s', to_char(d, 'YYYY-MM-DD'), b, b + 900), E'\n' ORDER BY d))
FROM (SELECT d, 30000 + 9000 * (extract(isodow FROM d) < 6)::int + ((d::date - date '2022-01-01') * 37 % 1009) AS b
      FROM generate_series(date '2022-01-01', date '2024-12-31', interval '1 day') d) s;
SELECT seongsu.import_text('ridership_hourly', 'service_date,line,station,hour,passengers' || E'\n' ||
  string_agg(format('%s,2호선,성수,%s,%s', to_char(d, 'YYYY-MM-DD'), h, 500 + 100 * h), E'\n' ORDER BY d, h))
FROM generate_series(date '2024-11-01', date '2024-12-31', interval '1 day') d, generate_series(5, 23) h;
SELECT seongsu.import_text('openmeteo_daily', 'date,temperature_2m_mean_c,precipitation_sum_mm,rain_sum_mm,snowfall_sum_cm' || E'\n' ||
  string_agg(format('%s,%s,0.5,0.5,0.0', to_char(d, 'YYYY-MM-DD'), (d::date - date '2024-01-01') % 9), E'\n'))
FROM generate_series(date '2024-01-01', date '2024-12-31', interval '1 day') d;
SELECT seongsu.import_text('kasi_holidays', '{"response":{"header":{"resultCode":"00","resultMsg":"NORMAL SERVICE."},"body":{"items":{"item":{"dateKind":"01","dateName":"성탄절","isHoliday":"Y","locdate":20241225,"seq":1}},"numOfRows":100,"pageNo":1,"totalCount":1}}}');
};
# and the ingestion job run on them
my $JOB = q{SELECT seongsu.enqueue('seoul_daily', '2025-01-01', '2025-01-02')};
my $PREDICTIONS = q{SELECT string_agg(format('%s %s %s', d::date, round(seongsu.predict_daily(d::date)::numeric, 6),
		seongsu.crowd_level(d + interval '8 hours')), ',' ORDER BY d)
	FROM generate_series(date '2024-12-20', date '2025-01-05', interval '1 day') d};
my $HOURS = q{SELECT string_agg(round(seongsu.predict_crowd(t)::numeric, 6)::text, ',' ORDER BY t)
	FROM generate_series(timestamptz '2024-12-30 06:00+09', '2024-12-30 23:00+09', interval '1 hour') t};
my $CRON = q{SELECT string_agg(format('%s|%s|%s', jobname, schedule, command), E'\n' ORDER BY jobname)
	FROM cron.job WHERE username = current_user};
my $fresh_schema = schema_of($fresh, "fresh-$current");
my $fresh_seeded = seeded_rows($fresh);
my $fresh_cron = $fresh->safe_psql($DB,
	q{SELECT string_agg(format('%s|%s|%s', job_name, schedule, command), E'\n' ORDER BY job_name)
	  FROM seongsu.ingestion_schedule(seoul_daily_days => 5)});

# The same observations and ingestion job in a database of their own in the
# fresh cluster: the snapshot of its data is the one an updated
# installation holding the same rows must hash to.
# (a snapshot of the default scope, its id and then its hash and row counts)
sub snapshot_of
{
	my ($node, $db) = @_;
	my $id = $node->safe_psql($db, 'SELECT seongsu.snapshot()');
	return ($id, $node->safe_psql($db, "SELECT content_hash || ' ' || row_counts::text FROM seongsu.snapshots WHERE snapshot_id = $id"));
}
$fresh->safe_psql('postgres', 'CREATE DATABASE same_data');
$fresh->safe_psql('same_data', 'CREATE EXTENSION daily_seongsu');
$fresh->safe_psql('same_data', $IMPORTS);
$fresh->safe_psql('same_data', "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL')");
my $fresh_job = $fresh->safe_psql('same_data', $JOB);
$fresh->safe_psql('same_data', 'SELECT seongsu.run_pending_jobs()');
is($fresh->safe_psql('same_data', "SELECT state FROM seongsu.jobs WHERE id = $fresh_job"), 'done',
	"$current: the same data and job in a fresh install (database same_data)");
my (undef, $fresh_snapshot) = snapshot_of($fresh, 'same_data');
like($fresh_snapshot, qr/^[0-9a-f]{64} \{.*"ridership_daily": [1-9]/, "... whose snapshot has the rows ($fresh_snapshot)");

for my $r (@releases)
{
	my $node = new_node("from_" . ($r =~ s/\W/_/gr));
	$node->safe_psql($DB, "CREATE EXTENSION daily_seongsu VERSION '$r'");
	is($node->safe_psql($DB, q{SELECT extversion FROM pg_extension WHERE extname = 'daily_seongsu'}), $r,
		"$r installed with the current library (every C function it declares exists)");

	# Data of every kind, through $r's own API.
	$node->safe_psql($DB, $IMPORTS);
	$node->safe_psql($DB, q{
SELECT count(*) FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', force => true);
SELECT count(*) FROM seongsu.train(algorithm => 'gbdt', horizon => '7 days', hyperparams => '{"n_estimators": 30}', force => true);
SELECT seongsu.deploy(min(id)) FROM seongsu.models;
SELECT count(*) FROM seongsu.build_features(from_ts => '2024-12-01', to_ts => '2024-12-31');
});
	if ($node->safe_psql($DB, q{SELECT to_regprocedure('seongsu.set_secret(text, text)') IS NOT NULL}) eq 't')
	{
		$node->safe_psql($DB, "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL')");
	}
	# a job run now, by the current library on the $r installation
	my (undef, $done, $enqueue_err) = $node->psql($DB, $JOB);
	like($done, qr/^\d+$/, "$r: the current library enqueues a job on the $r installation") or diag($enqueue_err);
	if ($node->safe_psql($DB, q{SELECT to_regclass('seongsu.secrets') IS NULL}) eq 't')
	{
		like($enqueue_err, qr/HINT:  Update the extension with ALTER EXTENSION daily_seongsu UPDATE, then/,
			"$r keeps its keys in settings: the warning about them says to update first");
	}
	my (undef, undef, $run_err) = $node->psql($DB, 'SELECT seongsu.run_pending_jobs()');
	# (id 0, no job, when enqueue failed)
	is($node->safe_psql($DB, "SELECT state || ' ' || (rows_written > 0) || ' ' || coalesce(last_error, '') FROM seongsu.jobs WHERE id = 0$done"),
		'done true ', "$r: ... and runs it") or diag($run_err);
	# and one left pending across the update
	my $pending = $node->safe_psql($DB, q{SELECT seongsu.enqueue('seoul_daily', '2025-01-03', '2025-01-04')});
	# pg_cron jobs as this version schedules them, made inactive so that none
	# runs during the test
	$node->safe_psql($DB, q{SELECT count(*) FROM seongsu.schedule_ingestion(seoul_daily_days => 5);
		SELECT count(cron.alter_job(jobid, active => false)) FROM cron.job});

	# 0.1.0 let seongsu_operator write seongsu.jobs directly: rows breaking
	# the CHECKs 0.2.0 adds stop the update (and leave 0.1.0 as it was)
	# with a message naming them, until they are deleted.
	if ($r eq '0.1.0')
	{
		my $ids = $node->safe_psql($DB, q{
			INSERT INTO seongsu.jobs (source, from_date, to_date, options)
			VALUES ('seoul_daily', '2024-01-01', '2024-01-02', '[]'), ('seoul_daily', '-infinity', '2024-01-02', '{}'),
			       ('seoul_daily', '1990-01-01', '2024-01-02', '{}')
			RETURNING id});
		my $idlist = join(', ', split /\n/, $ids);
		my ($ret, $out, $err) = $node->psql($DB, 'ALTER EXTENSION daily_seongsu UPDATE');
		like($err, qr/ERROR:  cannot update daily_seongsu to 0\.2\.0: 3 rows of seongsu\.jobs break the checks 0\.2\.0 adds\n/,
			'0.1.0: jobs that break the new checks stop the update');
		like($err, qr/DETAIL:  Jobs \Q$idlist\E have /, '... naming them');
		like($err, qr/HINT:  Delete these jobs/, '... with a hint');
		is($node->safe_psql($DB, q{SELECT extversion FROM pg_extension WHERE extname = 'daily_seongsu'}), '0.1.0',
			'... and 0.1.0 stays installed');
		$node->safe_psql($DB, "DELETE FROM seongsu.jobs WHERE id IN ($idlist)");
	}

	my $cols = table_columns($node);
	my $before = fingerprint($node, $cols);
	my $pred_before = $node->safe_psql($DB, $PREDICTIONS);
	my $hours_before = $node->safe_psql($DB, $HOURS);
	like($pred_before, qr/^(\S+ [0-9.]+ \S+,){16}\S+ [0-9.]+ \S+$/, "$r: the deployed models predict");

	# ------------------------------------------------------------ the update
	my ($ret, $out, $err) = $node->psql($DB, 'ALTER EXTENSION daily_seongsu UPDATE');
	if (!is($ret, 0, "$r: ALTER EXTENSION daily_seongsu UPDATE"))
	{
		diag($err);
		$node->stop;
		next;
	}
	is($node->safe_psql($DB, q{SELECT extversion FROM pg_extension WHERE extname = 'daily_seongsu'}), $current,
		"$r: updated to $current");

	my $schema = schema_of($node, "from-$r-to-$current");
	if (!is($schema eq $fresh_schema ? 'equal' : 'different', 'equal',
			"$r updated to $current: the schema equals a fresh install of $current"))
	{
		my $dir = $PostgreSQL::Test::Utils::tmp_check;
		my ($diff) = run_command([ 'diff', '-U4', '--label', "fresh install of $current",
			'--label', "$r updated to $current", "$dir/fresh-$current.sql", "$dir/from-$r-to-$current.sql" ]);
		# (diff exits 1 when the files differ: run_command ignores the status)
		diag("schema diff (- fresh install, + updated; both dumps in $dir):\n$diff");
	}
	my $seeded = seeded_rows($node);
	is_deeply($seeded, $fresh_seeded, "$r updated: the seeded rows equal a fresh install's");

	my $after = fingerprint($node, $cols);
	for my $t (sort keys %$before)
	{
		is($after->{$t}, $before->{$t}, "$r updated: seongsu.$t keeps its rows ($before->{$t})");
	}
	is($node->safe_psql($DB, $PREDICTIONS), $pred_before, "$r updated: the same daily predictions and levels");
	is($node->safe_psql($DB, $HOURS), $hours_before, "$r updated: the same hourly predictions");
	is($node->safe_psql($DB, $CRON), $fresh_cron,
		"$r updated: the pg_cron jobs are those schedule_ingestion makes in $current (the update added the new ones)");

	# the rows $r wrote are versions: a snapshot of them hashes as the same
	# rows in a fresh install do, and reads back through the history
	my ($snapshot_id, $snapshot) = snapshot_of($node, $DB);
	is($snapshot, $fresh_snapshot, "$r updated: seongsu.snapshot() of the same data has the fresh install's content hash");
	is($node->safe_psql($DB, "SELECT seongsu.verify_snapshot($snapshot_id)"), 't',
		"$r updated: ... and reads back (verify_snapshot)");
	# the models $r stored are the first versions of their projects
	is($node->safe_psql($DB, q{SELECT string_agg(format('%s v%s', g.model_id, g.version), ', ' ORDER BY g.model_id)
		FROM seongsu.model_versions g}),
		$node->safe_psql($DB, q{SELECT string_agg(format('%s v%s', id, n), ', ' ORDER BY id)
		FROM (SELECT id, row_number() OVER (PARTITION BY project ORDER BY id) AS n FROM seongsu.models) m}),
		"$r updated: its models are versions of their projects (seongsu.model_versions)");

	# the updated installation works on: the pending job runs, a model trains
	$node->safe_psql($DB, 'SELECT seongsu.run_pending_jobs()');
	is($node->safe_psql($DB, "SELECT state || ' ' || (rows_written > 0) FROM seongsu.jobs WHERE id = $pending"),
		'done true', "$r updated: the job left pending runs");
	my ($trained, $run) = split /\|/, $node->safe_psql($DB,
		q{SELECT count(*), max(run_id) FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', force => true)});
	cmp_ok($trained, '>=', 1, "$r updated: a model trains");
	like($run // '', qr/^\d+$/, "$r updated: ... and train returns its run");
	is($node->safe_psql($DB, qq{SELECT r.status || ' ' || r.extension_version || ' ' || (r.snapshot_id IS NOT NULL)
		|| ' ' || (g.version = 1 + (SELECT count(*) FROM seongsu.models m WHERE m.project = g.project AND m.id < g.model_id))
		|| ' ' || EXISTS (SELECT FROM seongsu.runs c WHERE c.parent_run_id = r.run_id)
		FROM seongsu.runs r JOIN seongsu.model_registry g ON g.model_id = r.model_id
		WHERE r.run_id = $run AND r.parent_run_id IS NULL}),
		"finished $current true true true",
		"$r updated: ... tracked in seongsu.runs (finished, on a snapshot, with its candidates), its model the next version of its project");
	$node->stop;
}

$fresh->stop;
done_testing();
