# pg_dump keeps the data: a database with ridership, weather, holidays,
# trained and deployed models, feature rows and a pending ingestion job is
# dumped (custom format) and restored into a new database: every table has
# the same rows (the seeded holiday once), the models are byte-identical,
# predictions are equal, and the worker of the restored database resumes
# the pending job.  Uses the replay server's synthetic series.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeongsuTest qw(start_replay replay_urls);

my $base = start_replay(seoul_key => 'SEOULKEY', dgk_key => 'DGKKEY');

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
# the worker serves the database the dump is restored into
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'daily_seongsu'
seongsu.database = 'restored'
seongsu.seoul_api_key = 'SEOULKEY'
seongsu.data_go_kr_key = 'DGKKEY'
@{[ replay_urls($base) ]}
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE DATABASE original');
$node->safe_psql('original', 'CREATE EXTENSION daily_seongsu');

# Data of every kind, two models (one deployed per project), feature rows, a pending job.
$node->safe_psql('original', q{
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
SELECT count(*) FROM seongsu.train(algorithm => 'ridge', horizon => '1 day', force => true);
SELECT count(*) FROM seongsu.train(algorithm => 'gbdt', horizon => '7 days', hyperparams => '{"n_estimators": 30}', force => true);
SELECT count(*) FROM seongsu.build_features(from_ts => '2024-12-01', to_ts => '2024-12-31');
SELECT seongsu.enqueue('seoul_daily', '2025-01-02', '2025-01-03');
});

# Every table of the extension, and how to compare its rows.
my @tables = split /\n/, $node->safe_psql('original',
	q{SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'seongsu'::regnamespace AND c.relkind = 'r' ORDER BY 1});
cmp_ok(scalar(@tables), '>=', 15, 'the extension has its tables');
sub fingerprint
{
	my ($db) = @_;
	my %f;
	for my $t (@tables)
	{
		# the seeded holiday is made anew by CREATE EXTENSION (its ingested_at differs)
		my $from = $t eq 'holidays' ? "(SELECT * FROM seongsu.holidays WHERE source <> 'seed')" : "seongsu.$t";
		$f{$t} = $node->safe_psql($db, "SELECT count(*) || ' ' || coalesce(md5(string_agg(md5(x::text), ',' ORDER BY md5(x::text))), '') FROM $from x");
	}
	return \%f;
}
my $before = fingerprint('original');
my $predictions = q{SELECT string_agg(round(seongsu.predict_daily(d::date)::numeric, 6)::text, ',' ORDER BY d)
	FROM generate_series(date '2024-12-20', date '2025-01-05', interval '1 day') d};
my $pred_before = $node->safe_psql('original', $predictions);
like($pred_before, qr/^[0-9.]+(,[0-9.]+){16}$/, 'predictions before the dump');

my $dump = PostgreSQL::Test::Utils::tempdir . '/original.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-f', $dump, '-d', $node->connstr('original') ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ], 'pg_restore');

my $after = fingerprint('restored');
for my $t (@tables)
{
	next if $t eq 'jobs' || $t eq 'ingest_log';	# the worker may already be at work
	is($after->{$t}, $before->{$t}, "$t: the same rows after the restore");
}
is($node->safe_psql('restored', q{SELECT count(*) FROM seongsu.holidays WHERE source = 'seed'}), '1',
	'the seeded holiday is there once');
is($node->safe_psql('restored', $predictions), $pred_before, 'the same predictions from the restored models');
is($node->safe_psql('restored', q{SELECT string_agg(md5(blob), ',' ORDER BY id) FROM seongsu.models WHERE blob IS NOT NULL}),
	$node->safe_psql('original', q{SELECT string_agg(md5(blob), ',' ORDER BY id) FROM seongsu.models WHERE blob IS NOT NULL}),
	'the model blobs are byte-identical');
# identity sequences continue after the restored ids
is($node->safe_psql('restored', q{SELECT seongsu.enqueue('seoul_daily', '2025-01-04') > max(id) FROM seongsu.jobs WHERE id < 1000000}),
	't', 'new ids continue after the restored ones');

# The worker of the restored database resumes the job that was pending.
$node->poll_query_until('restored', q{SELECT state = 'done' FROM seongsu.jobs WHERE from_date = '2025-01-02'})
  or diag($node->safe_psql('restored', 'SELECT * FROM seongsu.jobs'));
is($node->safe_psql('restored', q{SELECT state || ' ' || (rows_written > 0) FROM seongsu.jobs WHERE from_date = '2025-01-02'}),
	'done true', 'the restored worker ran the pending job');

$node->stop;
done_testing();
