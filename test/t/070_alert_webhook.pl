# Alerts leave the database without blocking anyone (issue 15):
# evaluate_alerts sends NOTIFY seongsu_alerts and queues each new alert;
# the worker, woken at commit, POSTs it to the webhook (a loopback sink,
# test/replay/webhook_sink.py) exactly once; transient failures (500) are
# retried, permanent ones (404) are not; with no URL the alerts are
# skipped; a slow webhook does not slow the session down; the URL (it holds
# a token) never reaches the server log or a table, set as a stored secret
# or as the setting seongsu.alert_webhook_url.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time);
use SeongsuTest qw(start_webhook_sink sink_posts set_sink_answers);

my $sink = start_webhook_sink();
my $TOKEN = 'T0A1B2C3-secret-webhook-token';
my $url = "$sink/services/$TOKEN";

my $node = PostgreSQL::Test::Cluster->new('alert_webhook');
$node->init;
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'daily_seongsu'
seongsu.database = 'postgres'
seongsu.retry_base_ms = 100
seongsu.max_attempts = 3
log_min_messages = debug1
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
# (set_secret's own statement is logged under the tests' log_statement = all,
# as any statement is: the session turns that off, as the README says.)
sub set_url { $node->safe_psql('postgres', "SET log_statement = 'none'; SELECT seongsu.set_secret('alert_webhook_url', $_[0])"); }
set_url("'$url'");

sub q1 { return $node->safe_psql('postgres', $_[0]); }

# A failed job of a source raises one failed_job alert; evaluate and return
# the ids raised.
my $AT = '2025-02-01 09:00+09';
sub fail_job
{
	my ($source) = @_;
	q1("INSERT INTO seongsu.jobs (source, from_date, to_date, state, last_error, finished_at)
	    VALUES ('$source', '2025-01-01', '2025-01-31', 'failed', 'HTTP 503', '2025-02-01 08:00+09')");
	return raise();
}
sub raise
{
	return [ split /\n/, q1("SELECT id FROM seongsu.evaluate_alerts('$AT') WHERE resolved_at IS NULL ORDER BY id") ];
}
# Wait until the alert's outbox row has left pending; returns state|attempts|http_status.
sub settled
{
	my ($id) = @_;
	ok($node->poll_query_until('postgres', "SELECT state <> 'pending' FROM seongsu.alert_outbox WHERE alert_id = $id"),
		"alert $id handled by the worker");
	return q1("SELECT state || '|' || attempts || '|' || coalesce(http_status::text, '') FROM seongsu.alert_outbox WHERE alert_id = $id");
}
# The sink's POSTs of an alert id.
sub posts_of
{
	my ($id) = @_;
	return [ grep { ((eval { decode_json($_->{body}) } // {})->{alert}{id} // -1) == $id } @{ sink_posts($sink) } ];
}

# 1. New alerts: one NOTIFY and one POST each.  A station with one old day
# makes seoul_daily stale; holidays are unknown (kasi_holidays stale).
q1("SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\\n2025-01-02,2호선,성수,100,100')");
my ($rc, $out, $err) = $node->psql('postgres',
	"LISTEN seongsu_alerts; SELECT string_agg(id::text, ',' ORDER BY id) FROM seongsu.evaluate_alerts('$AT');");
my ($ids_line) = grep { /^[0-9,]+$/ } split /\n/, $out;
my @first = split /,/, $ids_line // '';
cmp_ok(scalar @first, '>=', 2, 'the first evaluation raises the stale sources: ' . scalar @first . ' alerts');
my @notes = $out =~ /Asynchronous notification "seongsu_alerts" with payload "(.*)" received/g;
is(scalar @notes, scalar @first, 'one NOTIFY seongsu_alerts per new alert');
my %noted = map { (decode_json($_)->{id} => 1) } @notes;
is_deeply([ sort { $a <=> $b } keys %noted ], [ sort { $a <=> $b } @first ], 'each NOTIFY carries its alert as JSON');
is(settled($_), 'sent|1|200', "alert $_ sent at the first try") for @first;
my $posts = sink_posts($sink);
is(scalar @$posts, scalar @first, 'one POST per new alert');
for my $p (@$posts)
{
	my $body = decode_json($p->{body});
	is($p->{path}, "/services/$TOKEN", 'posted to the stored URL');
	like($p->{content_type}, qr{^application/json}, 'as JSON');
	ok($body->{text} =~ /^\[WARNING\] daily_seongsu stale_source: / && $body->{content} eq $body->{text}
		  && $body->{alert}{kind} eq 'stale_source', 'Slack text, Discord content and the alert itself');
}

# 2. No duplicates: evaluating again raises nothing; the next new alert is
# the only further POST.
is(scalar @{ raise() }, 0, 'evaluating again raises nothing');
my ($job_alert) = @{ fail_job('kma_forecast') };
ok($job_alert, 'a failed job raises an alert');
is(settled($job_alert), 'sent|1|200', 'it is sent');
$posts = sink_posts($sink);
is(scalar @$posts, scalar @first + 1, 'one more POST, none repeated');
my %seen;
$seen{ decode_json($_->{body})->{alert}{id} }++ for @$posts;
is_deeply([ grep { $seen{$_} != 1 } keys %seen ], [], 'every alert posted exactly once');

# 3. A transient failure is retried: 500, then 200.
set_sink_answers($sink, [500]);
my ($retried) = @{ fail_job('openmeteo_forecast') };
is(settled($retried), 'sent|2|200', 'a 500 is retried and the alert sent at the second try');
is_deeply([ map { $_->{status} } @{ posts_of($retried) } ], [500, 200], 'two POSTs: one failed, one delivered');

# 4. A permanent failure is not: 404.
set_sink_answers($sink, [404]);
my ($refused) = @{ fail_job('kma_asos_hourly') };
is(settled($refused), 'failed|1|404', 'a 404 fails the alert at once');
is(q1("SELECT last_error FROM seongsu.alert_outbox WHERE alert_id = $refused"), 'HTTP 404', 'with its status');
is(scalar @{ posts_of($refused) }, 1, 'posted once');

# 5. A slow webhook does not slow the session: the POST waits 3 s, the
# evaluation does not.
set_sink_answers($sink, [200], 3000);
my $t0 = time;
my ($slow) = @{ fail_job('seoul_hour_profile') };
my $took = time - $t0;
cmp_ok($took, '<', 2.5, sprintf('evaluate_alerts returns in %.2f s while the webhook takes 3 s', $took));
is(settled($slow), 'sent|1|200', 'the slow webhook gets it');
set_sink_answers($sink, []);

# 6. An unreachable webhook: tried seongsu.max_attempts times, then failed;
# the error names no part of the URL.
my $TOKEN2 = 'Z9Y8X7-unreachable-token';
set_url("'http://127.0.0.1:1/hooks/$TOKEN2'");
my ($lost) = @{ fail_job('openmeteo_daily') };
like(settled($lost), qr/^failed\|3\|$/, 'a refused connection is retried, then fails');
my $lost_error = q1("SELECT last_error FROM seongsu.alert_outbox WHERE alert_id = $lost");
ok($lost_error ne '' && $lost_error !~ /\Q$TOKEN2\E|hooks/, "its error names no part of the URL: $lost_error");

# 7. The setting works too (with no stored secret); non-superusers cannot read it.
set_url('NULL');
$node->safe_psql('postgres', "ALTER SYSTEM SET seongsu.alert_webhook_url = '$sink/setting-hook'; SELECT pg_reload_conf();");
ok($node->poll_query_until('postgres', "SELECT current_setting('seongsu.alert_webhook_url') LIKE '%setting-hook'"),
	'the setting is reloaded');
my ($by_setting) = @{ fail_job('kasi_holidays') };
is(settled($by_setting), 'sent|1|200', 'an alert goes to the URL of the setting');
is($_->{path}, '/setting-hook', 'posted to the setting\'s URL') for @{ posts_of($by_setting) };
q1('CREATE ROLE webhook_reader LOGIN IN ROLE seongsu_reader');
($rc, $out, $err) = $node->psql('postgres', 'SHOW seongsu.alert_webhook_url', extra_params => [ '-U', 'webhook_reader' ]);
isnt($rc, 0, 'a reader cannot SHOW the webhook URL');
is($node->safe_psql('postgres', "SELECT count(*) FROM pg_settings WHERE name = 'seongsu.alert_webhook_url'",
		extra_params => [ '-U', 'webhook_reader' ]), '0', 'nor find it in pg_settings');

# 8. No URL: new alerts are skipped, not kept pending.
$node->safe_psql('postgres', "ALTER SYSTEM RESET seongsu.alert_webhook_url; SELECT pg_reload_conf();");
ok($node->poll_query_until('postgres', "SELECT current_setting('seongsu.alert_webhook_url') = ''"), 'the setting is gone');
my $count = scalar @{ sink_posts($sink) };
q1("INSERT INTO seongsu.jobs (source, from_date, to_date, state, last_error, finished_at)
    VALUES ('seoul_daily', '2025-01-01', '2025-01-31', 'failed', 'HTTP 503', '2025-02-01 08:00+09')");
my ($skipped) = @{ raise() };
like(settled($skipped), qr/^skipped\|0\|$/, 'with no URL an alert is skipped');
is(scalar @{ sink_posts($sink) }, $count, 'and nothing is posted');

# The stored URLs' tokens are nowhere: not in the server log, not in a table.
my $log = slurp_file($node->logfile);
unlike($log, qr/\Q$TOKEN\E/, 'the first token is not in the server log');
unlike($log, qr/\Q$TOKEN2\E/, 'the second token is not in the server log');
like($log, qr/alert \d+ could not be posted to the webhook/, 'failures are logged (without the URL)');
is(q1("SELECT count(*) FROM seongsu.alert_outbox o WHERE o::text LIKE '%$TOKEN%' OR o::text LIKE '%$TOKEN2%'"), '0',
	'the tokens are in no outbox row');

$node->stop;
done_testing();
