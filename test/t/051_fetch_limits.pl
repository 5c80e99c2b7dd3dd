# What a fetch may reach (issue 11, item 12): a redirect is followed only
# at the URL's own host and port, so an upstream (or whoever answers for it)
# cannot send the key-bearing URL elsewhere; a job's options reach a URL only
# in their documented forms, also when the job row was written directly.
# Two replay servers: the configured one and "another host" (another port).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use SeongsuTest qw(start_replay set_faults replay_urls);

my ($SEOUL, $DGK) = ('SeoulKey51', 'DgkKey51');
my $base = start_replay(seoul_key => $SEOUL, dgk_key => $DGK);
my $other = start_replay(seoul_key => $SEOUL, dgk_key => $DGK);
my $http = HTTP::Tiny->new(timeout => 30);

# The replay server's request counts by route.
sub requests
{
	my ($server) = @_;
	return decode_json($http->get("$server/_stats")->{content})->{requests};
}

my $node = PostgreSQL::Test::Cluster->new('fetch_limits');
$node->init;
$node->append_conf('postgresql.conf', <<"EOC");
log_statement = none
shared_preload_libraries = 'daily_seongsu'
seongsu.database = 'postgres'
@{[ replay_urls($base) ]}
seongsu.max_attempts = 2
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
$node->safe_psql('postgres', "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL'), seongsu.set_secret('data_go_kr_key', '$DGK')");
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest'})
  or BAIL_OUT('the ingestion worker did not start');

sub q1 { return $node->safe_psql('postgres', $_[0]); }

# Run a job through the worker: (id, final state, last_error).
sub run_job
{
	my ($source, $from, $options) = @_;
	my $id = q1("SELECT seongsu.enqueue('$source', '$from', NULL, '" . ($options // '{}') . "')");
	my $state = q1("SELECT seongsu.wait_for_job($id, '60 seconds')");
	return ($id, $state, q1("SELECT coalesce(last_error, '') FROM seongsu.jobs WHERE id = $id"));
}

# ---------------------------------------------------------------- redirects
set_faults($base, { match => 'CardSubwayStatsNew', day => '20240102', fault => 'redirect', to => $other });
my ($id, $st, $error) = run_job('seoul_daily', '2024-01-02');
is($st, 'failed', 'a redirect to another port fails the job');
like($error, qr{redirect to another host refused \(http://127\.0\.0\.1:\d+\)}, 'the error says so');
unlike($error, qr/\Q$SEOUL\E/, 'without the key');
is_deeply(requests($other), {}, 'the other server received nothing');
is(q1("SELECT string_agg(attempt || ':' || http_status, ',') FROM seongsu.ingest_log WHERE job_id = $id"), '1:302',
	'one attempt, logged with its 302, not retried');

for my $status (301, 303, 307, 308)
{
	set_faults($base, { match => 'getRestDeInfo', fault => 'redirect', to => $other, status => $status });
	($id, $st, $error) = run_job('kasi_holidays', '2024-03-01');
	is("$st " . ($error =~ /another host refused/ ? 'refused' : $error), 'failed refused', "a $status to another port is refused");
}
is_deeply(requests($other), {}, 'the other server still received nothing');

# The same server by another name is another host.
(my $by_name = $base) =~ s/127\.0\.0\.1/localhost/;
set_faults($base, { match => 'CardSubwayStatsNew', fault => 'redirect', to => $by_name });
($id, $st, $error) = run_job('seoul_daily', '2024-01-03');
like("$st $error", qr/^failed .*another host refused \(http:\/\/localhost:/, 'a redirect to another host name is refused');

# A redirect to the same host and port is followed (at most 3 in a row).
set_faults($base, { match => 'CardSubwayStatsNew', day => '20240104', fault => 'redirect', times => 2 });
($id, $st, $error) = run_job('seoul_daily', '2024-01-04');
is($st, 'done', 'two redirects at the same server are followed') or diag($error);
is(q1("SELECT http_status || ' ' || rows_written FROM seongsu.ingest_log WHERE job_id = $id"), '200 607',
	'one logged attempt, with the final answer and its rows');
set_faults($base, { match => 'CardSubwayStatsNew', day => '20240105', fault => 'redirect' });
($id, $st, $error) = run_job('seoul_daily', '2024-01-05');
like("$st $error", qr/^failed .*more than 3 redirects/, 'a redirect loop stops after 3');
is(decode_json($http->get("$base/_faults")->{content})->{rules}[0]{hits}, 4, 'after 4 answers');
set_faults($base);

# ---------------------------------------------------------------- options
my $asos_before = requests($base)->{getWthrDataList} // 0;
for my $bad ('{"station": "108&numOfRows=999"}', '{"station": "108#"}', '{"station": "108 "}')
{
	my ($ret, $out, $err) = $node->psql('postgres', "SELECT seongsu.enqueue('kma_asos_hourly', '2024-01-01', NULL, '$bad')");
	like($err, qr/option "station" must be a KMA station number/, "enqueue refuses $bad");
}
# a job row written directly (bypassing enqueue) is checked when it runs
# (an openmeteo job queued after it wakes the worker)
my $direct = q1(q{INSERT INTO seongsu.jobs (source, from_date, to_date, options)
	VALUES ('kma_asos_hourly', '2024-01-01', '2024-01-01', '{"station": "108&stnIds=90"}') RETURNING id});
q1(q{SELECT seongsu.enqueue('openmeteo_daily', '2024-01-01')});
is(q1("SELECT seongsu.wait_for_job($direct, '60 seconds')"), 'failed', 'a job row with a bad option fails');
like(q1("SELECT last_error FROM seongsu.jobs WHERE id = $direct"), qr/option "station" must be a KMA station number/,
	'naming the option');
is(requests($base)->{getWthrDataList} // 0, $asos_before, 'and sends nothing');

($id, $st, $error) = run_job('kma_asos_hourly', '2024-01-01', '{"station": 108}');
is($st, 'done', 'a station given as a JSON number works') or diag($error);
like(q1("SELECT url FROM seongsu.ingest_log WHERE job_id = $id"), qr/&stnIds=108$/, 'and is in the URL');
($id, $st, $error) = run_job('openmeteo_daily', '2024-01-01', '{"latitude": "37.55", "longitude": 127.05}');
is($st, 'done', 'latitude and longitude as text or number work') or diag($error);
like(q1("SELECT url FROM seongsu.ingest_log WHERE job_id = $id"), qr/latitude=37\.55&longitude=127\.05&/, 'and are in the URL');

# A bad setting is caught the same way (settings are the superuser's, but a
# typo must not reach a URL); run in a session of a database the worker does not serve.
q1('CREATE DATABASE session');
$node->safe_psql('session', 'CREATE EXTENSION daily_seongsu');
my ($ret, $out, $err) = $node->psql('session', q{SET seongsu.latitude = '37.5&daily=x';
	SELECT seongsu.enqueue('openmeteo_forecast', '2024-01-01'); SELECT seongsu.run_pending_jobs()});
like($err, qr/setting seongsu.latitude for option "latitude" must be a decimal number/,
	'a malformed seongsu.latitude stops the job');
is(requests($base)->{forecast} // 0, 0, 'before anything is sent');

$node->stop;
done_testing();
