# The ingestion worker against the loopback replay server (test/replay):
#  (a) a month of seoul_daily equals the published files' Seongsu rows, 607
#      stations a day (without the real data folder: the replay server's
#      synthetic series, and the Seongsu rows it serves, read in Perl);
#  (b) a year of kasi_holidays equals importing the same KASI files (without
#      them: importing the responses the replay server serves);
#  (c) every fault the replay server injects has its documented outcome
#      (transient ones retried, permanent ones fail at once, a failed job
#      writes no row, every attempt logged);
#  (d) the API keys never show in tables, logs, pg_stat_activity, error
#      messages or to a non-superuser, also when an upstream echoes the
#      request (with its key) in an error;
#  (e) seongsu.run_pending_jobs runs the same jobs in a server without the
#      worker (no shared_preload_libraries).
# Uses DS_DATA (the real data folder) when set and DS_ROOT (the test tree),
# as test/check.sh sets them.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use JSON::PP;
use SeongsuTest qw(start_replay set_faults fault_hits data_dir replay_urls);

my $data = data_dir();

my $SEOUL_KEY = 'SEOULKEY123';
my $DGK_KEY   = 'dgk+KEY/456==';
# every spelling of the keys that must never be stored or printed
my @SECRETS = ('SEOULKEY123', 'dgk+KEY/456==', 'dgk%2BKEY%2F456%3D%3D', 'dgk KEY/456==',
	'KEY/456', 'KEY%2F456', '456==', '456%3D%3D');

# ---------------------------------------------------------------- replay server
my $base = start_replay(data => $data, seoul_key => $SEOUL_KEY, dgk_key => $DGK_KEY);
note($data ? "the replay server serves the real data folder $data"
	: 'no real data folder: the replay server serves its synthetic series');
my $http = HTTP::Tiny->new(timeout => 30);

# Replace the replay server's fault rules.
sub faults { set_faults($base, @_); return; }

# The replay server's answer to a GET of path (no fault rules are set yet).
sub served_body
{
	my ($path) = @_;
	my $r = $http->get("$base$path");
	die "GET $path failed: $r->{status}" unless $r->{success};
	return $r->{content};
}

# ---------------------------------------------------------------- the cluster
my $conf = <<"EOC";
seongsu.seoul_api_key = '$SEOUL_KEY'
seongsu.data_go_kr_key = '$DGK_KEY'
@{[ replay_urls($base) ]}
seongsu.http_timeout_ms = 2000
seongsu.max_attempts = 4
# a failed run fails its job here (test/t/043 covers the job-level retry)
seongsu.job_max_attempts = 1
EOC
my $node = PostgreSQL::Test::Cluster->new('ingest');
$node->init;
$node->append_conf('postgresql.conf',
	"shared_preload_libraries = 'daily_seongsu'\nseongsu.database = 'postgres'\n$conf");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest'})
  or BAIL_OUT('the ingestion worker did not start');

# Reference databases: the same data imported from the published files
# (ref_card, ref_daily and ref_kasi), or without them, the KASI responses
# the replay server serves imported (ref_kasi).
for my $db ($data ? qw(ref_card ref_daily ref_kasi) : qw(ref_kasi))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db");
	$node->safe_psql($db, 'CREATE EXTENSION daily_seongsu');
}
if ($data)
{
	$node->safe_psql('ref_card',
		"SELECT seongsu.import_file('card_subway_month', '$data/seongsu/card_subway_month_2022-2024_selected_months.csv')");
	$node->safe_psql('ref_daily',
		"SELECT seongsu.import_file('ridership_daily', '$data/seongsu/daily_2022-11_2025-05.csv')");
	$node->safe_psql('ref_kasi', qq{
		SELECT sum(seongsu.import_file('kasi_holidays',
			format('%s/holidays/kasi_getRestDeInfo/%s/%s.json', '$data', y, lpad(m::text, 2, '0'))))
		FROM generate_series(2024, 2025) y, generate_series(1, 12) m});
}
else
{
	(my $key = $DGK_KEY) =~ s/([^A-Za-z0-9])/sprintf('%%%02X', ord $1)/ge;
	for my $y (2024, 2025)
	{
		for my $m (1 .. 12)
		{
			my $body = served_body(sprintf('/B090041/openapi/service/SpcdeInfoService/getRestDeInfo?serviceKey=%s'
				  . '&solYear=%d&solMonth=%02d&_type=json&numOfRows=100&pageNo=1', $key, $y, $m));
			$node->safe_psql('ref_kasi', "SELECT seongsu.import_text('kasi_holidays', \$kasi\$$body\$kasi\$)");
		}
	}
}

# Seongsu's published values (boardings|alightings) and 등록일자 by day,
# read in Perl: from the selected-months file, which covers every day of
# 2023-01 and 2024-01, or from the synthetic rows the replay server serves.
my (%truth, %registered);
if ($data)
{
	open(my $fh, '<', "$data/seongsu/card_subway_month_2022-2024_selected_months.csv") or die $!;
	while (my $line = <$fh>)
	{
		chomp $line;
		$line =~ s/\r$//;
		my @f = map { s/^"|"$//gr } split /,/, $line;
		next unless $f[0] =~ /^(\d{4})(\d\d)(\d\d)$/;
		$truth{"$1-$2-$3"} = "$f[3]|$f[4]";
	}
	close $fh;
}
else
{
	for my $month ('2023-01', '2024-01')
	{
		for my $d (1 .. 31)
		{
			my $day = sprintf('%s-%02d', $month, $d);
			(my $ymd = $day) =~ s/-//g;
			my $rows = JSON::PP->new->decode(served_body("/$SEOUL_KEY/json/CardSubwayStatsNew/1/1000/$ymd"))
			  ->{CardSubwayStatsNew}{row};
			my ($row) = grep { $_->{SBWY_ROUT_LN_NM} eq '2호선' && $_->{SBWY_STNS_NM} eq '성수' } @$rows;
			die "no Seongsu row served for $day" unless $row;
			$truth{$day} = "$row->{GTON_TNOPE}|$row->{GTOFF_TNOPE}";
			$registered{$day} = $row->{REG_YMD} =~ s/^(\d{4})(\d\d)(\d\d)$/$1-$2-$3/r;
		}
	}
}

# ---------------------------------------------------------------- helpers
sub q1 { my ($sql, $db) = @_; return $node->safe_psql($db // 'postgres', $sql); }

# Queue a job and wait (through the worker) for its final state.
sub run_job
{
	my ($source, $from, $to, $options) = @_;
	my $id = q1(sprintf("SELECT seongsu.enqueue('%s', '%s', %s, '%s')",
			$source, $from, $to ? "'$to'" : 'NULL', $options // '{}'));
	my $state = q1("SELECT seongsu.wait_for_job($id, '120 seconds')");
	return ($id, $state);
}

# The job's row as a hash.
sub job
{
	my ($id) = @_;
	my $r = q1("SELECT state, requests, rows_written, attempts, coalesce(last_error, '') "
		  . "FROM seongsu.jobs WHERE id = $id");
	my @f = split /\|/, $r, 5;
	return { state => $f[0], requests => $f[1], rows => $f[2], attempts => $f[3], error => $f[4] };
}

# The job's attempts at URLs containing $tail, as "attempt:http_status" ("none" = no response).
sub attempts
{
	my ($id, $tail) = @_;
	return [ split /\n/, q1("SELECT attempt || ':' || coalesce(http_status::text, 'none') "
		  . "FROM seongsu.ingest_log WHERE job_id = $id AND url LIKE '%$tail%' ORDER BY id") ];
}

# The API codes logged for the job's failed attempts at URLs containing $tail.
sub error_codes
{
	my ($id, $tail) = @_;
	return [ split /\n/, q1("SELECT coalesce(api_code, 'null') FROM seongsu.ingest_log "
		  . "WHERE job_id = $id AND url LIKE '%$tail%' AND error IS NOT NULL ORDER BY id") ];
}

# ridership_daily rows of the days [from, to].
sub day_rows
{
	my ($from, $to) = @_;
	$to //= $from;
	return q1("SELECT count(*) FROM seongsu.ridership_daily WHERE day BETWEEN '$from' AND '$to'");
}

# Seongsu's "boardings|alightings" on a day, or ''.
sub seongsu_on
{
	my ($day, $db) = @_;
	return q1("SELECT r.boardings || '|' || r.alightings FROM seongsu.ridership_daily r "
		  . "JOIN seongsu.stations s ON s.id = r.station_id "
		  . "WHERE s.line = '2호선' AND s.name = '성수' AND r.day = '$day'", $db);
}

# A digest of every station's row on the days [from, to] (natural keys, no ids).
sub day_digest
{
	my ($from, $to, $n, $db) = @_;
	return ($n // $node)->safe_psql($db // 'postgres',
		"SELECT count(*) || ':' || md5(string_agg(format('%s|%s|%s|%s|%s', s.line, s.name, r.day, r.boardings, r.alightings), ',' "
		  . "ORDER BY s.line, s.name, r.day)) FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id "
		  . "WHERE r.day BETWEEN '$from' AND '$to'");
}

# After a faulted job: its rows equal those of a clean run of the same day.
sub same_as_clean_run
{
	my ($day, $what) = @_;
	my $faulted = day_digest($day, $day);
	faults();
	q1("DELETE FROM seongsu.ridership_daily WHERE day = '$day'");
	my ($id, $state) = run_job('seoul_daily', $day);
	is($state, 'done', "$what: clean re-run of $day done");
	is($faulted, day_digest($day, $day), "$what: every row of $day equals a clean run");
	like($faulted, qr/^607:/, "$what: 607 rows on $day");
	is(seongsu_on($day), $truth{$day}, "$what: Seongsu on $day has the published values");
}

# Holidays of the months [from, to] as text, in db.
sub holidays
{
	my ($from, $to, $db) = @_;
	return q1("SELECT coalesce(string_agg(format('%s|%s|%s|%s', day, name, kind, is_holiday), E'\\n' ORDER BY day, name), '') "
		  . "FROM seongsu.holidays WHERE day BETWEEN '$from' AND '$to' AND source <> 'seed'", $db);
}

# ======================================================================
# (a) a month of seoul_daily through the worker
# ======================================================================
my ($jan, $st) = run_job('seoul_daily', '2023-01-01', '2023-01-31');
is($st, 'done', '(a) seoul_daily 2023-01 done');
my $j = job($jan);
is($j->{requests}, 31, '(a) one request per day');
is($j->{rows}, 31 * 607, '(a) rows_written = 31 x 607');
is($j->{attempts}, 1, '(a) run once');
is(q1("SELECT count(*) || ' ' || min(n) || ' ' || max(n) FROM (SELECT day, count(*) n FROM seongsu.ridership_daily "
	  . "WHERE day BETWEEN '2023-01-01' AND '2023-01-31' GROUP BY day) d"),
	'31 607 607', '(a) 31 days, 607 stations each');
is(q1('SELECT count(*) FROM seongsu.stations'), '607', '(a) 607 stations, no duplicates');
is(q1("SELECT count(*) FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id "
	  . "WHERE s.line = '2호선' AND s.name = '성수' AND day BETWEEN '2023-01-01' AND '2023-01-31'"),
	'31', '(a) Seongsu is one station (2호선 성수), 31 days');

my $seongsu_jan = "SELECT string_agg(format('%s|%s|%s', r.day, r.boardings, r.alightings), E'\\n' ORDER BY r.day) "
  . "FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id "
  . "WHERE s.line = '2호선' AND s.name = '성수' AND r.day BETWEEN '2023-01-01' AND '2023-01-31'";
my $got = q1($seongsu_jan);
my $registered_jan = "SELECT string_agg(r.day || ':' || coalesce(r.registered_on::text, 'null'), ',' ORDER BY r.day) "
  . "FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id "
  . "WHERE s.name = '성수' AND r.day BETWEEN '2023-01-01' AND '2023-01-31'";
if ($data)
{
	is($got, q1($seongsu_jan, 'ref_card'), '(a) Seongsu 2023-01 equals import_file(card_subway_month)');
	my $daily_days = q1("SELECT string_agg(quote_literal(day), ',') FROM seongsu.ridership_daily "
		  . "WHERE day BETWEEN '2023-01-01' AND '2023-01-31'", 'ref_daily');
	my $sub = "SELECT string_agg(format('%s|%s|%s', r.day, r.boardings, r.alightings), E'\\n' ORDER BY r.day) "
	  . "FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id "
	  . "WHERE s.line = '2호선' AND s.name = '성수' AND r.day IN ($daily_days)";
	is(q1($sub), q1($sub, 'ref_daily'), '(a) and import_file(ridership_daily) on the days it has');
	is(q1($registered_jan), q1($registered_jan, 'ref_card'), '(a) registered_on = REG_YMD = the file\'s 등록일자');
}
else
{
	is(q1($registered_jan), join(',', map { sprintf('2023-01-%02d:%s', $_, $registered{ sprintf('2023-01-%02d', $_) }) } 1 .. 31),
		'(a) registered_on = the served REG_YMD');
}
is($got, join("\n", map { sprintf('2023-01-%02d|%s', $_, $truth{ sprintf('2023-01-%02d', $_) }) } 1 .. 31),
	$data ? '(a) and the CSV read in Perl' : '(a) and the served Seongsu rows read in Perl');
is(q1("SELECT count(*) || ' ' || count(*) FILTER (WHERE http_status = 200 AND rows_parsed = 607 "
	  . "AND attempt = 1 AND error IS NULL AND url LIKE '$base/***/json/CardSubwayStatsNew/1/1000/202301__') "
	  . "FROM seongsu.ingest_log WHERE job_id = $jan"),
	'31 31', '(a) 31 log rows, one per day, key redacted in the URL');
is(q1("SELECT sum(rows_written) FROM seongsu.ingest_log WHERE job_id = $jan"), 31 * 607,
	'(a) log rows_written add up');
is(q1("SELECT string_agg(DISTINCT coalesce(api_code, 'null'), ',') FROM seongsu.ingest_log WHERE job_id = $jan"),
	'INFO-000', '(a) the API result code INFO-000 is logged for successful requests');

# Running the same range again changes nothing.
my $jan_digest = day_digest('2023-01-01', '2023-01-31');
like($jan_digest, qr/^18817:/, '(a) 18817 rows in January');
my ($again) = run_job('seoul_daily', '2023-01-01', '2023-01-31');
is(job($again)->{state}, 'done', '(a) a second run of the same days is done');
is(job($again)->{rows}, 0, '(a) and writes no row');
is(day_digest('2023-01-01', '2023-01-31'), $jan_digest, '(a) rows unchanged');

# ======================================================================
# (b) a year of holidays
# ======================================================================
my ($kasi, $kst) = run_job('kasi_holidays', '2024-01-01', '2024-12-31');
is($kst, 'done', '(b) kasi_holidays 2024 done');
is(job($kasi)->{requests}, 12, '(b) one request per month');
my $h2024 = holidays('2024-01-01', '2024-12-31');
isnt($h2024, '', '(b) 2024 has holidays');
is($h2024, holidays('2024-01-01', '2024-12-31', 'ref_kasi'),
	$data ? '(b) holidays 2024 equal importing the 12 KASI files' : '(b) holidays 2024 equal importing the 12 served responses');
is(q1("SELECT count(*) FROM seongsu.ingest_log WHERE job_id = $kasi AND url LIKE '%serviceKey=***&%' AND http_status = 200"),
	'12', '(b) 12 log rows, serviceKey redacted');

# ======================================================================
# (c) faults
# ======================================================================
my ($id, $r);

# http500 twice, then the answer: done after 3 attempts of that URL.
faults({ match => 'CardSubwayStatsNew', day => '20240102', fault => 'http500', times => 2 });
($id, $st) = run_job('seoul_daily', '2024-01-02');
is($st, 'done', 'http500 x2: done');
is_deeply(attempts($id, '/20240102'), [ '1:500', '2:500', '3:200' ], 'http500 x2: 3 logged attempts');
is(job($id)->{requests}, 3, 'http500 x2: jobs.requests counts the retries');
is(day_rows('2024-01-02'), 607, 'http500 x2: 607 rows');
is(seongsu_on('2024-01-02'), $truth{'2024-01-02'}, 'http500 x2: Seongsu values');

# http500 always: max_attempts (4) tries, then the whole job fails with no row.
faults({ match => 'CardSubwayStatsNew', day => '20240104', fault => 'http500' });
($id, $st) = run_job('seoul_daily', '2024-01-03', '2024-01-05');
is($st, 'failed', 'http500 always: failed');
is_deeply(attempts($id, '/20240104'), [ '1:500', '2:500', '3:500', '4:500' ],
	'http500 always: exactly max_attempts = 4 attempts');
is(day_rows('2024-01-03', '2024-01-05'), 0, 'http500 always: no row of any day of the job');
$j = job($id);
is($j->{rows}, 0, 'http500 always: rows_written 0');
like($j->{error}, qr/500/, 'http500 always: last_error says HTTP 500');
like($j->{error}, qr{/\*\*\*/json/CardSubwayStatsNew/1/1000/20240104}, 'http500 always: last_error names the (redacted) URL');
is(q1("SELECT count(*) FROM seongsu.ingest_log WHERE job_id = $id AND rows_written <> 0"), '0',
	'http500 always: no log row claims written rows');

# HTTP 404: permanent, no retry.
faults({ match => 'CardSubwayStatsNew', day => '20240106', fault => 'http500', status => 404 });
($id, $st) = run_job('seoul_daily', '2024-01-06');
is($st, 'failed', 'HTTP 404: failed');
is_deeply(attempts($id, '/20240106'), [ '1:404' ], 'HTTP 404: one attempt, not retried')
  or diag(q1("SELECT string_agg(attempt || ': ' || coalesce(error, ''), E'\\n' ORDER BY id) FROM seongsu.ingest_log WHERE job_id = $id"));
is(day_rows('2024-01-06'), 0, 'HTTP 404: no rows');

# HTTP 429 and 503: transient.
faults({ match => 'CardSubwayStatsNew', day => '20240106', fault => 'http500', status => 429, times => 1 },
	{ match => 'CardSubwayStatsNew', day => '20240107', fault => 'http500', status => 503, times => 1 });
($id, $st) = run_job('seoul_daily', '2024-01-06', '2024-01-07');
is($st, 'done', 'HTTP 429 / 503 once: done');
is_deeply(attempts($id, '/20240106'), [ '1:429', '2:200' ], 'HTTP 429: retried');
is_deeply(attempts($id, '/20240107'), [ '1:503', '2:200' ], 'HTTP 503: retried');
is(day_rows('2024-01-06', '2024-01-07'), 2 * 607, 'HTTP 429 / 503: all rows');

# hang past http_timeout_ms (2 s): the attempt times out, the retry succeeds.
faults({ match => 'CardSubwayStatsNew', day => '20240108', fault => 'hang', ms => 15000, times => 1 });
($id, $st) = run_job('seoul_daily', '2024-01-08');
is($st, 'done', 'hang: done');
is_deeply(attempts($id, '/20240108'), [ '1:none', '2:200' ], 'hang: a timed-out attempt (no status), then success');
$r = q1("SELECT latency_ms >= 1900 AND latency_ms < 10000, error FROM seongsu.ingest_log WHERE job_id = $id AND attempt = 1");
like($r, qr/^t\|.*time/i, 'hang: gave up after about http_timeout_ms, error says timeout');
is(seongsu_on('2024-01-08'), $truth{'2024-01-08'}, 'hang: Seongsu values');

# truncated bodies: short (valid HTTP, broken JSON) and lie (connection closed early).
faults({ match => 'CardSubwayStatsNew', day => '20240109', fault => 'truncate', mode => 'short', times => 1 },
	{ match => 'CardSubwayStatsNew', day => '20240110', fault => 'truncate', mode => 'lie', times => 1 });
($id, $st) = run_job('seoul_daily', '2024-01-09', '2024-01-10');
is($st, 'done', 'truncate short/lie: done');
is(scalar @{ attempts($id, '/20240109') }, 2, 'truncate short: retried once');
is(scalar @{ attempts($id, '/20240110') }, 2, 'truncate lie: retried once');
is(q1("SELECT count(*) FROM seongsu.ingest_log WHERE job_id = $id AND attempt = 1 AND error IS NOT NULL"), '2',
	'truncate: the first attempts carry an error');
is(day_rows('2024-01-09', '2024-01-10'), 2 * 607, 'truncate: all rows');
is(seongsu_on('2024-01-09') . ' ' . seongsu_on('2024-01-10'), "$truth{'2024-01-09'} $truth{'2024-01-10'}",
	'truncate: Seongsu values');

# Seoul quota/server errors in the RESULT envelope (HTTP 200): ERROR-500, ERROR-600, ERROR-601.
faults({ match => 'CardSubwayStatsNew', day => '20240111', fault => 'quota', times => 2 },
	{ match => 'CardSubwayStatsNew', day => '20240112', fault => 'seoul_error', code => 'ERROR-600', times => 1 },
	{ match => 'CardSubwayStatsNew', day => '20240113', fault => 'seoul_error', code => 'ERROR-601', times => 1 });
($id, $st) = run_job('seoul_daily', '2024-01-11', '2024-01-13');
is($st, 'done', 'Seoul ERROR-500/600/601: done');
is_deeply(attempts($id, '/20240111'), [ '1:200', '2:200', '3:200' ], 'quota (ERROR-500) x2: retried');
is_deeply(error_codes($id, '/20240111'), [ 'ERROR-500', 'ERROR-500' ], 'quota: ERROR-500 logged as api_code');
is_deeply(attempts($id, '/20240112'), [ '1:200', '2:200' ], 'ERROR-600: retried');
is_deeply(error_codes($id, '/20240112'), [ 'ERROR-600' ], 'ERROR-600 logged as api_code');
is_deeply(attempts($id, '/20240113'), [ '1:200', '2:200' ], 'ERROR-601: retried');
is(day_rows('2024-01-11', '2024-01-13'), 3 * 607, 'Seoul errors: all rows');

# A bad key (INFO-100) is permanent.
faults({ match => 'CardSubwayStatsNew', day => '20240114', fault => 'seoul_error', code => 'INFO-100' });
($id, $st) = run_job('seoul_daily', '2024-01-14');
is($st, 'failed', 'INFO-100: failed');
is_deeply(attempts($id, '/20240114'), [ '1:200' ], 'INFO-100: not retried');
is_deeply(error_codes($id, '/20240114'), [ 'INFO-100' ], 'INFO-100 logged as api_code');
is(day_rows('2024-01-14'), 0, 'INFO-100: no rows');

# No data (INFO-200) is success with no row.
faults({ match => 'CardSubwayStatsNew', day => '20240115', fault => 'nodata' });
($id, $st) = run_job('seoul_daily', '2024-01-15');
is($st, 'done', 'nodata: done');
is(job($id)->{rows}, 0, 'nodata: rows_written 0');
is(day_rows('2024-01-15'), 0, 'nodata: no rows');
is_deeply(attempts($id, '/20240115'), [ '1:200' ], 'nodata: one attempt');
is(q1("SELECT coalesce(api_code, 'null') || ' ' || (error IS NULL) FROM seongsu.ingest_log WHERE job_id = $id"),
	'INFO-200 true', 'nodata: INFO-200 logged, not as an error');
($id, $st) = run_job('seoul_daily', '2024-01-15', '2024-01-16');
is($st, 'done', 'nodata in a 2-day job: done');
is(day_rows('2024-01-15') . ' ' . day_rows('2024-01-16'), '0 607', 'nodata: the day without data has no row, the other 607');
is(job($id)->{rows}, 607, 'nodata: rows_written counts the other day');

# Bad values: "abc" in GTON_TNOPE fails the whole job at once, the error names the field and value.
faults({ match => 'CardSubwayStatsNew', day => '20240118', fault => 'wrong_types' });
($id, $st) = run_job('seoul_daily', '2024-01-17', '2024-01-19');
is($st, 'failed', 'wrong_types: failed');
is(scalar @{ attempts($id, '/20240118') }, 1, 'wrong_types: not retried');
is(day_rows('2024-01-17', '2024-01-19'), 0, 'wrong_types: no row of any day of the job');
$j = job($id);
like($j->{error}, qr/GTON_TNOPE|boardings/, 'wrong_types: error names the field');
like($j->{error}, qr/abc/, 'wrong_types: error names the value');

# A missing count: failed, no rows.
faults({ match => 'CardSubwayStatsNew', day => '20240120', fault => 'missing_fields' });
($id, $st) = run_job('seoul_daily', '2024-01-20');
is($st, 'failed', 'missing_fields: failed');
is(day_rows('2024-01-20'), 0, 'missing_fields: no rows');
like(job($id)->{error}, qr/GTON_TNOPE|boardings|missing/i, 'missing_fields: error names the field');

# Harmless variations: the values must come out exactly right.
my %harmless = (
	'20240121' => { fault => 'extra_fields' },
	'20240122' => { fault => 'float_counts' },
	'20240123' => { fault => 'string_counts' },
	'20240124' => { fault => 'duplicate_rows' },
	'20240125' => { fault => 'slow_drip', ms => 25, chunk => 4096 },
	'20240126' => { fault => 'latency', ms => 500 },
	'20240127' => { fault => 'duplicate_rows', row => 0 });
for my $d (sort keys %harmless)
{
	my $f = $harmless{$d}{fault};
	my $day = substr($d, 0, 4) . '-' . substr($d, 4, 2) . '-' . substr($d, 6, 2);
	faults({ match => 'CardSubwayStatsNew', day => $d, %{ $harmless{$d} } });
	($id, $st) = run_job('seoul_daily', $day);
	is($st, 'done', "$f: done") or diag(job($id)->{error});
	is(fault_hits($base)->[0], 1, "$f: the fault was served");
	is(job($id)->{rows}, 607, "$f: 607 rows written");
	is_deeply(attempts($id, "/$d"), [ '1:200' ], "$f: one attempt");
	if ($f eq 'latency')
	{
		cmp_ok(q1("SELECT latency_ms FROM seongsu.ingest_log WHERE job_id = $id"), '>=', 500,
			'latency: the logged latency includes the 500 ms delay');
	}
	same_as_clean_run($day, $f);
}

# The gateway's XML answer for a bad Seoul response: no row.
faults({ match => 'CardSubwayStatsNew', day => '20240128', fault => 'xml_error', code => 30 });
($id, $st) = run_job('seoul_daily', '2024-01-28');
is($st, 'failed', 'xml_error on a Seoul URL: failed');
is(day_rows('2024-01-28'), 0, 'xml_error on a Seoul URL: no rows');

# data.go.kr (KASI): quota code 22 (JSON and gateway XML) retried; code 30 permanent; 03 = no data.
faults({ match => 'solYear=2025&solMonth=01', fault => 'quota', times => 2 },
	{ match => 'solYear=2025&solMonth=02', fault => 'quota', mode => 'xml', times => 1 });
($id, $st) = run_job('kasi_holidays', '2025-01-01', '2025-02-28');
is($st, 'done', 'KASI quota 22 (json x2, xml x1): done');
is_deeply(attempts($id, 'solYear=2025&solMonth=01'), [ '1:200', '2:200', '3:200' ], 'quota 22 json: retried twice');
is_deeply(error_codes($id, 'solYear=2025&solMonth=01'), [ '22', '22' ], 'quota 22 json: code 22 logged');
is(scalar @{ attempts($id, 'solYear=2025&solMonth=02') }, 2, 'quota 22 xml: retried once');
is(holidays('2025-01-01', '2025-02-28'), holidays('2025-01-01', '2025-02-28', 'ref_kasi'), 'quota: holidays equal the files');

faults({ match => 'solYear=2025&solMonth=03', fault => 'xml_error', code => 30 });
($id, $st) = run_job('kasi_holidays', '2025-03-01', '2025-05-31');
is($st, 'failed', 'xml_error 30 (key not registered): failed');
is(scalar @{ attempts($id, 'solYear=2025&solMonth=03') }, 1, 'xml_error 30: not retried');
is(holidays('2025-03-01', '2025-05-31'), '', 'xml_error 30: no holiday of the job written');
isnt(holidays('2025-03-01', '2025-05-31', 'ref_kasi'), '', '(those months do have holidays)');

faults({ match => 'solYear=2025&solMonth=06', fault => 'nodata' });
($id, $st) = run_job('kasi_holidays', '2025-06-01');
is($st, 'done', 'KASI nodata (03): done');
is(job($id)->{rows}, 0, 'KASI nodata: 0 rows');
is(holidays('2025-06-01', '2025-06-30'), '', 'KASI nodata: no June holiday');

faults({ match => 'solYear=2025&solMonth=08', fault => 'wrong_types' });
($id, $st) = run_job('kasi_holidays', '2025-07-01', '2025-08-31');
is($st, 'failed', 'KASI wrong_types (locdate "abc"): failed');
like(job($id)->{error}, qr/locdate.*abc|abc.*locdate/s, 'KASI wrong_types: error names locdate and abc');
is(holidays('2025-07-01', '2025-08-31'), '', 'KASI wrong_types: no holiday written');

for my $v ([ '09', 'duplicate_rows' ], [ '10', 'string_counts' ], [ '11', 'extra_fields' ], [ '12', 'float_counts' ])
{
	my ($m, $f) = @$v;
	faults({ match => "solYear=2025&solMonth=$m", fault => $f });
	($id, $st) = run_job('kasi_holidays', "2025-$m-01");
	is($st, 'done', "KASI $f: done") or diag(job($id)->{error});
	is(fault_hits($base)->[0], 1, "KASI $f: the fault was served");
	my $last = q1("SELECT (date '2025-$m-01' + interval '1 month - 1 day')::date");
	is(holidays("2025-$m-01", $last), holidays("2025-$m-01", $last, 'ref_kasi'), "KASI $f: holidays equal the file");
}

# Open-Meteo: HTTP 429 (quota) is retried.
faults({ match => '/v1/archive', fault => 'quota', times => 1 });
($id, $st) = run_job('openmeteo_daily', '2023-03-01', '2023-03-31');
is($st, 'done', 'Open-Meteo 429: done');
is_deeply([ map { s/:.*//r } @{ attempts($id, '/v1/archive') } ], [ 1, 2 ], 'Open-Meteo 429: retried once');
is(q1("SELECT http_status FROM seongsu.ingest_log WHERE job_id = $id AND attempt = 1"), '429', 'Open-Meteo 429 logged');
is(q1("SELECT count(*) FROM seongsu.weather_daily WHERE source = 'open-meteo' AND day BETWEEN '2023-03-01' AND '2023-03-31'"),
	'31', 'Open-Meteo: 31 days');
faults();

# The other sources run too.
($id, $st) = run_job('seoul_hour_profile', '2022-03-01', '2022-03-31');
is($st, 'done', 'seoul_hour_profile: done') or diag(job($id)->{error});
is(q1("SELECT count(*) FROM seongsu.hour_profile h JOIN seongsu.stations s ON s.id = h.station_id "
	  . "WHERE s.name = '성수' AND month = '2022-03-01'"), '24', 'seoul_hour_profile: 24 Seongsu slots');
($id, $st) = run_job('kma_asos_hourly', '2024-01-01', '2024-01-03');
is($st, 'done', 'kma_asos_hourly: done') or diag(job($id)->{error});
is(q1("SELECT count(*) FROM seongsu.weather_hourly WHERE source = 'kma:108' "
	  . "AND ts >= '2024-01-01 00:00+09' AND ts < '2024-01-04 00:00+09'"), '72', 'kma_asos_hourly: 72 hours');
my $today = q1("SELECT (now() AT TIME ZONE 'Asia/Seoul')::date");
($id, $st) = run_job('kma_forecast', $today);
is($st, 'done', 'kma_forecast: done') or diag(job($id)->{error});
cmp_ok(job($id)->{rows}, '>', 0, 'kma_forecast: rows');
($id, $st) = run_job('openmeteo_forecast', $today);
is($st, 'done', 'openmeteo_forecast: done') or diag(job($id)->{error});
cmp_ok(job($id)->{rows}, '>', 0, 'openmeteo_forecast: rows');

# ======================================================================
# (d) the keys stay secret
# ======================================================================
# Catch the worker in the middle of a job (64 days, 1 s each, 8 at a time:
# about 8 s, each request well under the 2 s timeout), then look at
# pg_stat_activity.
faults({ match => 'CardSubwayStatsNew', fault => 'latency', ms => 1000 });
$id = q1("SELECT seongsu.enqueue('seoul_daily', '2024-02-01', '2024-04-04')");
ok($node->poll_query_until('postgres', "SELECT state = 'running' FROM seongsu.jobs WHERE id = $id"),
	'(d) job running');
my $activity = q1("SELECT string_agg(row_to_json(a)::text, E'\\n') FROM pg_stat_activity a");
like($activity, qr/daily_seongsu ingest/, '(d) the worker is in pg_stat_activity');
my ($ret, $out, $err) = $node->psql('postgres', "SELECT seongsu.wait_for_job($id, '0.3 seconds')");
isnt($ret, 0, '(d) wait_for_job times out on a running job');
like($err, qr/still running/, '(d) wait_for_job says the job is still running');
is(q1("SELECT seongsu.wait_for_job($id, '120 seconds')"), 'done', '(d) then done') or diag(job($id)->{error});
faults();

# Upstreams that echo the request in their error text: the key arrives raw,
# %-decoded and with '+' read as a space; each job fails and its error is
# kept with *** where the key was (the checks below look for every spelling).
faults({ match => 'CardSubwayStatsNew', day => '20240502', fault => 'echo' },
	{ match => 'solYear=2026&solMonth=01', fault => 'echo', mode => 'decoded' },
	{ match => 'solYear=2026&solMonth=02', fault => 'echo', mode => 'form' });
for my $echo ([ 'seoul_daily', '2024-05-02', qr{요청: /\*\*\*/json/CardSubwayStatsNew/1/1000/20240502} ],
	[ 'kasi_holidays', '2026-01-01', qr{_ERROR: /B090041/\S+serviceKey=\*\*\*&solYear=2026&solMonth=01} ],
	[ 'kasi_holidays', '2026-02-01', qr{_ERROR: /B090041/\S+serviceKey=\*\*\*&solYear=2026&solMonth=02} ])
{
	($id, $st) = run_job($echo->[0], $echo->[1]);
	is($st, 'failed', "(d) an echo of the request fails $echo->[0] $echo->[1]");
	like(job($id)->{error}, $echo->[2], '(d) its error keeps the echo, the key as ***');
}
is_deeply(fault_hits($base), [ 1, 1, 1 ], '(d) each echo was served');
faults();

# Error messages of every kind, as superuser and as an operator.
q1('CREATE ROLE op LOGIN IN ROLE seongsu_operator; CREATE ROLE reader LOGIN IN ROLE seongsu_reader');
my $errors = '';
for my $sql (
	"SELECT seongsu.enqueue('nope', '2024-01-01')",
	"SELECT seongsu.enqueue('seoul_daily', '2024-01-02', '2024-01-01')",
	"SELECT seongsu.enqueue('seoul_daily', '1990-01-01', '2024-01-01')",
	"SELECT seongsu.wait_for_job(-1)",
	"SELECT 1/0")
{
	($ret, $out, $err) = $node->psql('postgres', $sql);
	isnt($ret, 0, "(d) error expected: $sql");
	$errors .= $err;
}
my %as_op;
for my $sql (
	'SHOW seongsu.seoul_api_key',
	'SHOW seongsu.data_go_kr_key',
	"SELECT current_setting('seongsu.seoul_api_key')",
	"SELECT current_setting('seongsu.data_go_kr_key', true)",
	"SELECT count(*) FROM pg_settings WHERE name LIKE 'seongsu.%key%'",
	'SHOW ALL',
	"SELECT string_agg(url || coalesce(error, ''), ' ') FROM seongsu.ingest_log",
	"SELECT seongsu.enqueue('seoul_daily', '2024-01-02', '2024-01-01')")
{
	my ($rt, $o, $e) = $node->psql('postgres', $sql, extra_params => [ '-U', 'op' ]);
	$as_op{$sql} = [ $rt, $o ];
	$errors .= "$o\n$e";
}
is($as_op{"SELECT count(*) FROM pg_settings WHERE name LIKE 'seongsu.%key%'"}[1], '0',
	'(d) pg_settings hides the keys from a non-superuser');
for my $sql ('SHOW seongsu.seoul_api_key', 'SHOW seongsu.data_go_kr_key', "SELECT current_setting('seongsu.seoul_api_key')")
{
	my ($rt, $o) = @{ $as_op{$sql} };
	ok($rt != 0 || $o eq '' || $o =~ /^\*+$/, "(d) non-superuser: $sql gives an error or a masked value");
}
($ret, $out, $err) = $node->psql('postgres', 'SELECT count(*) FROM seongsu.ingest_log', extra_params => [ '-U', 'reader' ]);
cmp_ok($out, '>', 0, '(d) a reader sees the log (and, below, no key in it)');

my %stored = (
	'ingest_log' => q1("SELECT string_agg(row_to_json(l)::text, E'\\n') FROM seongsu.ingest_log l"),
	'jobs' => q1("SELECT string_agg(row_to_json(j)::text, E'\\n') FROM seongsu.jobs j"),
	'pg_stat_activity' => $activity,
	'error messages' => $errors,
	'server log' => slurp_file($node->logfile));
for my $where (sort keys %stored)
{
	my @leaks = grep { index(lc $stored{$where}, lc $_) >= 0 } @SECRETS;
	is("@leaks", '', "(d) no API key in $where");
}
like($stored{ingest_log}, qr{/\*\*\*/json/}, '(d) Seoul URLs are logged with ***');
like($stored{ingest_log}, qr{serviceKey=\*\*\*}, '(d) data.go.kr URLs are logged with serviceKey=***');
cmp_ok(length $stored{'server log'}, '>', 1000, '(d) the server log was read');

# ======================================================================
# (e) run_pending_jobs in a server without the worker
# ======================================================================
my $plain = PostgreSQL::Test::Cluster->new('nopreload');
$plain->init;
$plain->append_conf('postgresql.conf', $conf);
$plain->start;
($ret, $out, $err) = $plain->psql('postgres', 'CREATE EXTENSION daily_seongsu');
is($ret, 0, '(e) CREATE EXTENSION works without shared_preload_libraries') or diag($err);
if ($ret != 0)
{
	# nothing else of (e) can run
	$plain->stop;
	$node->stop;
	done_testing();
	exit;
}
is($plain->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest'"),
	'0', '(e) no worker in this server');
my $e1 = $plain->safe_psql('postgres', "SELECT seongsu.enqueue('seoul_daily', '2023-01-01', '2023-01-07')");
($ret, $out, $err) = $plain->psql('postgres', "SELECT seongsu.wait_for_job($e1, '0.2 seconds')");
like($err, qr/run_pending_jobs/, '(e) wait_for_job without a worker hints at run_pending_jobs');
faults({ match => 'CardSubwayStatsNew', day => '20230105', fault => 'http500', times => 2 });
is($plain->safe_psql('postgres', 'SELECT seongsu.run_pending_jobs()'), '1', '(e) run_pending_jobs ran 1 job');
is($plain->safe_psql('postgres', "SELECT state || ' ' || rows_written || ' ' || requests FROM seongsu.jobs WHERE id = $e1"),
	'done ' . (7 * 607) . ' 9', '(e) done, 7 x 607 rows, 9 requests (2 retries)');
is($plain->safe_psql('postgres', "SELECT string_agg(attempt || ':' || http_status, ',' ORDER BY id) FROM seongsu.ingest_log "
	  . "WHERE job_id = $e1 AND url LIKE '%/20230105'"), '1:500,2:500,3:200', '(e) the same retries in a session');
is(day_digest('2023-01-01', '2023-01-07', $plain), day_digest('2023-01-01', '2023-01-07'),
	'(e) the same rows as the worker wrote');
faults();
my $e2 = $plain->safe_psql('postgres', "SELECT seongsu.enqueue('kasi_holidays', '2024-01-01', '2024-12-31')");
is($plain->safe_psql('postgres', 'SELECT seongsu.run_pending_jobs(5)'), '1', '(e) kasi job run in session');
is($plain->safe_psql('postgres', "SELECT seongsu.wait_for_job($e2)"), 'done', '(e) wait_for_job sees it done');
is($plain->safe_psql('postgres', "SELECT coalesce(string_agg(format('%s|%s|%s|%s', day, name, kind, is_holiday), E'\\n' ORDER BY day, name), '') "
	  . "FROM seongsu.holidays WHERE day BETWEEN '2024-01-01' AND '2024-12-31' AND source <> 'seed'"),
	$h2024, '(e) the same holidays as the worker wrote');
is($plain->safe_psql('postgres', 'SELECT seongsu.run_pending_jobs()'), '0', '(e) nothing left');
my $plain_log = slurp_file($plain->logfile);
is(join(' ', grep { index(lc $plain_log, lc $_) >= 0 } @SECRETS), '', '(e) no API key in that server\'s log');

$plain->stop;
$node->stop;
done_testing();
