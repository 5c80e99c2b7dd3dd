# SeongsuTest — what the TAP tests of test/t share: the loopback replay
# server of the APIs (test/replay/replay_server.py) and its fault rules, the
# loopback alert webhook (test/replay/webhook_sink.py), the real data folder
# when there is one, and the core fixtures (test/fixtures/seongsu.sql) when
# there is none.
package SeongsuTest;
use strict;
use warnings;
use Exporter 'import';
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use PostgreSQL::Test::Utils;
use Time::HiRes qw(usleep);

our @EXPORT_OK = qw(start_replay replay_urls set_faults fault_hits served reset_served data_dir load_fixtures close_to
  start_webhook_sink sink_posts set_sink_answers load_synthetic_station);

# The real data folder (DS_DATA, as test/check.sh sets it) when it holds the
# published files, else undef (then the tests use the replay server's
# synthetic series or the core fixtures).
sub data_dir
{
	my $d = $ENV{DS_DATA};
	return (defined $d && $d ne '' && -d "$d/seongsu") ? $d : undef;
}

# Load the core fixtures into database $db of $node through the importers
# (test/fixtures/seongsu.sql: 성수 2호선 2020-01-01 .. 2025-05-31, holidays
# 2014-2025, hours 2024-02 .. 2024-04, weather); returns the number of days
# of ridership then stored.
sub load_fixtures
{
	my ($node, $db) = @_;
	my $root = $ENV{DS_ROOT} // '.';
	$node->safe_psql($db, slurp_file("$root/test/fixtures/seongsu.sql"));
	return $node->safe_psql($db, 'SELECT count(*) FROM seongsu.ridership_daily');
}

# True when two numbers agree to 1e-9, relative to their size.
sub close_to
{
	my ($a, $b) = @_;
	return abs($a - $b) <= 1e-9 * (abs($a) + abs($b) + 1);
}

# Start the replay server (options: data => folder, or none for the synthetic
# series; seoul_key, dgk_key; extra => [more arguments]); returns its base URL.
# It is stopped when the test exits.
my @servers;
sub start_replay
{
	my (%o) = @_;
	my $root = $ENV{DS_ROOT} // '.';
	my $tmp = PostgreSQL::Test::Utils::tempdir;
	my $portfile = "$tmp/replay.port";
	my $log = "$tmp/replay.log";
	my @cmd = ('python3', "$root/test/replay/replay_server.py", '--port', '0', '--port-file', $portfile, '--quiet');
	push @cmd, $o{data} ? ('--data', $o{data}) : ('--synthetic');
	push @cmd, '--seoul-key', $o{seoul_key} if $o{seoul_key};
	push @cmd, '--data-go-kr-key', $o{dgk_key} if $o{dgk_key};
	push @cmd, @{ $o{extra} } if $o{extra};
	my $h = IPC::Run::start(\@cmd, '<', \undef, '>', $log, '2>&1');
	push @servers, $h;
	for (my $i = 0; $i < 600 && !-s $portfile; $i++)
	{
		usleep(100_000);
	}
	die "replay server did not write $portfile within 60 s:\n" . slurp_file($log) unless -s $portfile;
	my $port = slurp_file($portfile);
	chomp $port;
	return "http://127.0.0.1:$port";
}

# The settings that point the extension at the replay server at $base (every
# API's URL) with a short first retry delay, as postgresql.conf lines.
sub replay_urls
{
	my ($base) = @_;
	return join("\n", map { "seongsu.$_ = '$base'" } qw(seoul_api_url data_go_kr_url open_meteo_url open_meteo_archive_url))
	  . "\nseongsu.retry_base_ms = 20";
}

# Replace the fault rules of the replay server at $base.
sub set_faults
{
	my ($base, @rules) = @_;
	my $r = HTTP::Tiny->new(timeout => 30)->post("$base/_faults", {
		headers => { 'Content-Type' => 'application/json' },
		content => encode_json({ rules => \@rules }) });
	die "POST /_faults failed: $r->{status} $r->{content}" unless $r->{success};
	return;
}

# Hits of each fault rule of the replay server at $base, in order.
sub fault_hits
{
	my ($base) = @_;
	my $r = HTTP::Tiny->new(timeout => 30)->get("$base/_faults");
	die "GET /_faults failed: $r->{status}" unless $r->{success};
	return [ map { $_->{hits} } @{ decode_json($r->{content})->{rules} } ];
}

# Requests of route (e.g. CardSubwayStatsNew) the replay server at $base
# answered since its start or last reset_served.
sub served
{
	my ($base, $route) = @_;
	my $r = HTTP::Tiny->new(timeout => 30)->get("$base/_stats");
	die "GET /_stats failed: $r->{status}" unless $r->{success};
	return decode_json($r->{content})->{requests}{$route} // 0;
}

# Start counting the replay server's requests again.
sub reset_served
{
	my ($base) = @_;
	my $r = HTTP::Tiny->new(timeout => 30)->post("$base/_reset");
	die "POST /_reset failed: $r->{status}" unless $r->{success};
	return;
}

# Import a synthetic station $name on 2호선 into $node's database postgres:
# daily ridership from $from to $to (a weekly pattern with md5 noise),
# hourly counts of its last 90 days (for the hour shares) and Open-Meteo
# daily weather over the same days.
sub load_synthetic_station
{
	my ($node, $name, $from, $to) = @_;
	$node->safe_psql('postgres', <<"EOS");
SELECT seongsu.import_text('ridership_daily', 'date,line,station,boardings,alightings' || E'\n' ||
  string_agg(format('%s,2호선,$name,%s,%s', d, b, b + 900), E'\n' ORDER BY d))
FROM (SELECT d::date AS d, 30000 + 9000 * (extract(isodow FROM d) < 6)::int
             + ('x' || substr(md5(d::date::text), 1, 4))::bit(16)::int % 3000 AS b
      FROM generate_series(date '$from', date '$to', interval '1 day') d) s;
SELECT seongsu.import_text('ridership_hourly', 'service_date,line,station,hour,passengers' || E'\n' ||
  string_agg(format('%s,2호선,$name,%s,%s', d::date, h, 500 + 100 * h), E'\n' ORDER BY d, h))
FROM generate_series(date '$to' - 89, date '$to', interval '1 day') d, generate_series(5, 23) h;
SELECT seongsu.import_text('openmeteo_daily', 'date,temperature_2m_mean_c,precipitation_sum_mm,rain_sum_mm,snowfall_sum_cm' || E'\n' ||
  string_agg(format('%s,%s,0.0,0.0,0.0', d::date, 10 + (d::date - date '$from') % 7), E'\n'))
FROM generate_series(date '$from', date '$to', interval '1 day') d;
EOS
	return;
}

# Start the loopback webhook (test/replay/webhook_sink.py); returns its base
# URL.  It is stopped when the test exits.
sub start_webhook_sink
{
	my $root = $ENV{DS_ROOT} // '.';
	my $tmp = PostgreSQL::Test::Utils::tempdir;
	my $portfile = "$tmp/sink.port";
	my $log = "$tmp/sink.log";
	my $h = IPC::Run::start(['python3', "$root/test/replay/webhook_sink.py", '--port', '0',
			'--port-file', $portfile, '--quiet'], '<', \undef, '>', $log, '2>&1');
	push @servers, $h;
	for (my $i = 0; $i < 600 && !-s $portfile; $i++)
	{
		usleep(100_000);
	}
	die "webhook sink did not write $portfile within 60 s:\n" . slurp_file($log) unless -s $portfile;
	my $port = slurp_file($portfile);
	chomp $port;
	return "http://127.0.0.1:$port";
}

# Every POST the webhook sink at $base has received: [{path, content_type, body, status}, ...].
sub sink_posts
{
	my ($base) = @_;
	my $r = HTTP::Tiny->new(timeout => 30)->get("$base/_posts");
	die "GET /_posts failed: $r->{status}" unless $r->{success};
	return decode_json($r->{content});
}

# Answer the sink's next POSTs with these statuses (then 200), each after delay_ms.
sub set_sink_answers
{
	my ($base, $statuses, $delay_ms) = @_;
	my $r = HTTP::Tiny->new(timeout => 30)->post("$base/_answers", {
		headers => { 'Content-Type' => 'application/json' },
		content => encode_json({ statuses => $statuses, delay_ms => $delay_ms // 0 }) });
	die "POST /_answers failed: $r->{status}" unless $r->{success};
	return;
}

END { $_->kill_kill(grace => 5) for @servers; }

1;
