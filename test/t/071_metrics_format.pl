# seongsu.metrics() is the Prometheus text exposition format (version
# 0.0.4), read here by a parser of that format written for this test (not
# a grep): HELP and TYPE lines, metric and label names, label values with
# their escapes, sample values, families kept together, summaries, no
# series twice.  The parser refuses malformed input (checked first), and
# the values read back equal the database's (counters, quantiles, live
# MAPE, alerts, a project name that needs escaping).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeongsuTest qw(load_synthetic_station);

# Parse an exposition: returns (families, error).  families: name => {type,
# help, samples => [{name, labels => {..}, value}]}.
sub parse_exposition
{
	my ($text) = @_;
	my (%fam, %series, %closed);
	my $current;
	my $name_re = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
	my $n = 0;
	return (undef, 'does not end with a line feed') if $text ne '' && $text !~ /\n\z/;
	for my $line (split /\n/, $text)
	{
		$n++;
		next if $line eq '';
		if ($line =~ /^#/)
		{
			if ($line =~ /^# (HELP|TYPE) ($name_re)(?: (.*))?$/)
			{
				my ($kw, $name, $rest) = ($1, $2, $3 // '');
				my $f = $fam{$name} //= { samples => [] };
				return (undef, "line $n: second $kw of $name") if defined $f->{ lc $kw };
				return (undef, "line $n: $kw of $name after its samples") if @{ $f->{samples} } || $closed{$name};
				if ($kw eq 'TYPE')
				{
					return (undef, "line $n: unknown type '$rest'")
					  unless $rest =~ /^(counter|gauge|histogram|summary|untyped)$/;
					$f->{type} = $rest;
				}
				else
				{
					(my $plain = $rest) =~ s/\\[\\n]//g;
					return (undef, "line $n: bad escape in HELP") if $plain =~ /\\/;
					($f->{help} = $rest) =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
				}
				$closed{$current} = 1 if defined $current && $current ne $name;
				$current = $name;
			}
			next;			# any other comment
		}
		# a sample: name, optional {labels}, value, optional timestamp
		$line =~ /^($name_re)/ or return (undef, "line $n: no metric name");
		my $sname = $1;
		my $rest = substr($line, length $sname);
		my %labels;
		if ($rest =~ s/^\{//)
		{
			while ($rest !~ s/^\}//)
			{
				$rest =~ s/^([a-zA-Z_][a-zA-Z0-9_]*)="// or return (undef, "line $n: bad label name");
				my $lname = $1;
				return (undef, "line $n: reserved label name $lname") if $lname =~ /^__/;
				return (undef, "line $n: label $lname twice") if exists $labels{$lname};
				my $value = '';
				while (1)
				{
					return (undef, "line $n: unterminated label value") if $rest eq '';
					my $c = substr($rest, 0, 1, '');
					last if $c eq '"';
					if ($c eq '\\')
					{
						my $e = substr($rest, 0, 1, '');
						return (undef, "line $n: bad escape \\$e in a label value") unless $e =~ /^[\\"n]$/;
						$value .= $e eq 'n' ? "\n" : $e;
					}
					else
					{
						$value .= $c;
					}
				}
				$labels{$lname} = $value;
				$rest =~ s/^,(?=[a-zA-Z_}])//;
				return (undef, "line $n: expected , or } after a label") unless $rest =~ /^[a-zA-Z_}]/;
			}
		}
		$rest =~ /^ ([^ ]+)(?: (-?[0-9]+))?$/ or return (undef, "line $n: bad value part '$rest'");
		my $v = $1;
		return (undef, "line $n: bad value '$v'")
		  unless $v =~ /^(?:[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|NaN|[+-]Inf)$/;
		# the family: the name itself, or a summary's or histogram's _sum / _count / _bucket
		my $fname = $sname;
		for my $suffix (qw(_sum _count _bucket))
		{
			(my $base = $sname) =~ s/\Q$suffix\E$//;
			$fname = $base if $base ne $sname && $fam{$base} && ($fam{$base}{type} // '') =~ /^(summary|histogram)$/;
		}
		my $f = $fam{$fname} //= { samples => [] };
		return (undef, "line $n: $sname after its family was closed") if $closed{$fname};
		$closed{$current} = 1 if defined $current && $current ne $fname;
		$current = $fname;
		return (undef, "line $n: a summary quantile sample without quantile")
		  if ($f->{type} // '') eq 'summary' && $sname eq $fname && !defined $labels{quantile};
		my $key = $sname . join(',', map { "$_=$labels{$_}" } sort keys %labels);
		return (undef, "line $n: series $key twice") if $series{$key}++;
		push @{ $f->{samples} }, { name => $sname, labels => \%labels, value => $v };
	}
	return (\%fam, undef);
}

# The parser can fail: each malformed exposition is refused.
my %bad = (
	'a label value with an unknown escape' => "# TYPE x gauge\nx{a=\"b\\q\"} 1\n",
	'an unterminated label value' => "# TYPE x gauge\nx{a=\"b} 1\n",
	'a bad value' => "# TYPE x gauge\nx 1,5\n",
	'a TYPE after the samples' => "x 1\n# TYPE x gauge\n",
	'an interleaved family' => "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a=\"1\"} 2\n",
	'a series twice' => "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",
	'an unknown type' => "# TYPE x meter\nx 1\n",
	'a bad metric name' => "# TYPE x gauge\n1x 1\n",
	'a summary without quantile' => "# TYPE s summary\ns 1\n",
	'no final line feed' => "# TYPE x gauge\nx 1",
	'a HELP with an unknown escape' => "# HELP x a\\q\n# TYPE x gauge\nx 1\n",);
for my $what (sort keys %bad)
{
	my ($f, $error) = parse_exposition($bad{$what});
	ok(defined $error, "the parser refuses $what" . ($error ? " ($error)" : ''));
}
my ($ok_fam, $ok_err) = parse_exposition("# HELP x a \\\\ b\\nc\n# TYPE x gauge\nx{a=\"q\\\"\\\\\\n\",b=\"\"} -1.5e+3\nx 7 1700000000000\n");
ok(!defined $ok_err && $ok_fam->{x}{samples}[0]{labels}{a} eq "q\"\\\n" && $ok_fam->{x}{help} eq "a \\ b\nc"
	  && $ok_fam->{x}{samples}[0]{value} == -1500, 'and reads escapes and values back');

my $node = PostgreSQL::Test::Cluster->new('metrics_format');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'daily_seongsu'\nseongsu.database = 'postgres'\n");
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }
q1('CREATE EXTENSION daily_seongsu');
load_synthetic_station($node, '메트릭역', '2023-01-01', '2025-03-31');
# a project whose name needs every escape of a label value
my $project = "we\"ird\\ \nproject";
q1("SELECT * FROM seongsu.train('메트릭역', '2호선', 'ridge', horizon => '1 day', train_to => '2025-01-31',
     project => E'we\"ird\\\\ \\nproject', force => true)");
is(q1("SELECT project = E'we\"ird\\\\ \\nproject' FROM seongsu.deployed_models"), 't', 'the odd project is deployed');
q1("SELECT sum(seongsu.publish_forecast('메트릭역', '2호선', d::date))
    FROM generate_series(date '2025-02-01', date '2025-03-31', interval '1 day') d");
# requests of the ingestion log: 3 answered, 1 with an error, 1 without an answer
q1("INSERT INTO seongsu.ingest_log (job_id, source, url, attempt, http_status, latency_ms, error) VALUES
    (1, 'seoul_daily', 'u', 1, 200, 100, NULL), (1, 'seoul_daily', 'u', 1, 200, 200, NULL),
    (1, 'seoul_daily', 'u', 1, 200, 400, NULL), (1, 'seoul_daily', 'u', 1, 500, 800, 'HTTP 500'),
    (1, 'seoul_daily', 'u', 2, NULL, 1600, 'timed out'), (2, 'kasi_holidays', 'u', 1, 200, 50, NULL)");
q1("SELECT count(*) FROM seongsu.evaluate_alerts()");
ok($node->poll_query_until('postgres',
		"SELECT count(*) > 0 FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest'"), 'the worker runs');

my $text = q1('SELECT seongsu.metrics()') . "\n";	# safe_psql drops the last line feed
my ($fam, $error) = parse_exposition($text);
ok(!defined $error, 'metrics() parses as the exposition format' . ($error ? ": $error" : ''));
$fam //= {};

my %want = (
	seongsu_up => 'gauge', seongsu_worker_up => 'gauge', seongsu_source_staleness_days => 'gauge',
	seongsu_ingest_requests_total => 'counter', seongsu_ingest_latency_seconds => 'summary', seongsu_jobs => 'gauge',
	seongsu_model_age_days => 'gauge', seongsu_model_live_mape => 'gauge', seongsu_drift_psi_max => 'gauge',
	seongsu_alerts_open => 'gauge', seongsu_forecast_age_days => 'gauge');
for my $name (sort keys %want)
{
	is($fam->{$name}{type}, $want{$name}, "$name is a $want{$name}");
	ok(length($fam->{$name}{help} // '') > 10, "$name has its HELP");
}
# the value of the sample of family $f named $s whose labels are %l (undef when none)
sub value_of
{
	my ($f, $s, %l) = @_;
	for my $x (@{ $fam->{$f}{samples} // [] })
	{
		next unless $x->{name} eq $s && keys %{ $x->{labels} } == keys %l;
		next if grep { ($x->{labels}{$_} // "\0") ne $l{$_} } keys %l;
		return $x->{value};
	}
	return undef;
}
is(value_of('seongsu_up', 'seongsu_up'), 1, 'seongsu_up 1');
is(value_of('seongsu_worker_up', 'seongsu_worker_up'), 1, 'the worker is up');
is(value_of('seongsu_ingest_requests_total', 'seongsu_ingest_requests_total', source => 'seoul_daily', outcome => $_->[0]),
	$_->[1], "requests of seoul_daily with outcome $_->[0]") for ([success => 3], [error => 1], [no_response => 1]);
is(value_of('seongsu_ingest_latency_seconds', 'seongsu_ingest_latency_seconds_count', source => 'seoul_daily'), 5, 'latency count');
cmp_ok(abs(value_of('seongsu_ingest_latency_seconds', 'seongsu_ingest_latency_seconds_sum', source => 'seoul_daily') - 3.1),
	'<', 1e-9, 'latency sum 3.1 s');
cmp_ok(abs(value_of('seongsu_ingest_latency_seconds', 'seongsu_ingest_latency_seconds', source => 'seoul_daily', quantile => '0.5') - 0.4),
	'<', 1e-9, 'median latency 0.4 s (of 0.1, 0.2, 0.4, 0.8, 1.6)');
ok(defined value_of('seongsu_ingest_latency_seconds', 'seongsu_ingest_latency_seconds', source => 'seoul_daily', quantile => $_),
	"quantile $_") for qw(0.9 0.99);
is(value_of('seongsu_jobs', 'seongsu_jobs', state => $_), 0, "jobs $_") for qw(pending running done failed);
my $age = value_of('seongsu_model_age_days', 'seongsu_model_age_days', project => $project);
ok(defined $age && $age >= 0 && $age < 1, 'the model age, under the project name read back through its escapes');
for my $w (qw(7d 28d 91d))
{
	my $mape = q1("SELECT mape FROM seongsu.live_accuracy WHERE role = 'champion' AND grain = 'daily'
	               AND horizon_days IS NULL AND window_days = " . substr($w, 0, -1));
	cmp_ok(abs(value_of('seongsu_model_live_mape', 'seongsu_model_live_mape', project => $project, role => 'champion', window => $w) - $mape),
		'<', 1e-9, "live MAPE over $w equals live_accuracy's");
}
ok(defined value_of('seongsu_drift_psi_max', 'seongsu_drift_psi_max', project => $project), 'the input drift of the project');
is(value_of('seongsu_alerts_open', 'seongsu_alerts_open', severity => 'critical')
	  + value_of('seongsu_alerts_open', 'seongsu_alerts_open', severity => 'warning'),
	q1('SELECT count(*) FROM seongsu.alerts WHERE resolved_at IS NULL'), 'open alerts');
is(value_of('seongsu_source_staleness_days', 'seongsu_source_staleness_days', source => 'seoul_daily'),
	q1("SELECT (now() AT TIME ZONE 'Asia/Seoul')::date - date '2025-03-31'"), 'staleness of seoul_daily');
is(value_of('seongsu_forecast_age_days', 'seongsu_forecast_age_days', station => '메트릭역 2호선'),
	q1("SELECT (now() AT TIME ZONE 'Asia/Seoul')::date - date '2025-03-31'"), 'the age of the latest forecast');

$node->stop;
done_testing();
