# API keys (issue 11, items 3 and 10): where they live, who can see them,
# and that an upstream echoing the request leaves them nowhere.
#  (a) keys stored with seongsu.set_secret: the worker, and run_pending_jobs
#      called by an operator who cannot read them, fetch with them (the
#      replay server accepts only the right keys);
#  (b) a plain role, an operator and a reader find no key in SHOW,
#      current_setting, pg_settings or any table or view of the extension
#      (listed from the catalog); seongsu.secrets and set_secret are closed
#      to them; a role the owner grants EXECUTE can store a key, not read it;
#  (c) precedence: the stored secret, then vault.decrypted_secrets (a
#      stand-in of supabase_vault's view), then the setting, which warns
#      once per process (to the client; to the log in the worker); a vault
#      view that an ordinary role owns is ignored and its functions never run;
#  (d) pg_dump by the owner holds the keys; by anyone else, no key (with
#      or without --exclude-table-data=seongsu.secrets);
#  (e) an upstream that echoes the request URL in its error (raw,
#      %-decoded, with '+' read as a space, cut short by a truncated
#      message) leaves no key in ingest_log, jobs or the server log.
# Uses the replay server's synthetic series (no data folder needed).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use HTTP::Tiny;
use IPC::Run;
use JSON::PP;
use SeongsuTest qw(start_replay set_faults replay_urls);

my $SEOUL = 'SeoulKey0123456789';
my $DGK   = 'dgk+Key/0123456789==';
my ($SEOUL_ENC, $DGK_ENC) = ($SEOUL, 'dgk%2BKey%2F0123456789%3D%3D');
# every spelling of the keys, compared without regard to case
my @SPELLINGS = ($SEOUL, $DGK, $DGK_ENC, 'dgk Key/0123456789==', 'Key/0123456789', 'Key%2F0123456789',
	'0123456789==', '0123456789%3D%3D');

my $base = start_replay(seoul_key => $SEOUL, dgk_key => $DGK);
my $http = HTTP::Tiny->new(timeout => 30);

# The key spellings found in $text, and the 6-character pieces of the keys
# (as sent: raw and %-encoded) found in it with their case.
sub leaks
{
	my ($text) = @_;
	my @found = grep { index(lc $text, lc $_) >= 0 } @SPELLINGS;
	for my $k ($SEOUL, $DGK, $DGK_ENC)
	{
		for my $i (0 .. length($k) - 6)
		{
			my $piece = substr($k, $i, 6);
			push @found, "piece:$piece" if index($text, $piece) >= 0;
		}
	}
	return join(' ', @found);
}

# log_statement = none: the statements of this test carry keys (set_secret's
# arguments), and the server log must show what the extension writes there.
my $conf = <<"EOC";
log_statement = none
@{[ replay_urls($base) ]}
seongsu.max_attempts = 2
EOC
my $node = PostgreSQL::Test::Cluster->new('secrets');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'daily_seongsu'\nseongsu.database = 'postgres'\n$conf");
$node->start;
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
$node->poll_query_until('postgres',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest'})
  or BAIL_OUT('the ingestion worker did not start');

sub q1 { my ($n, $sql, @o) = @_; return $n->safe_psql('postgres', $sql, @o); }

# Queue a job, wait for it through the worker; returns (id, final state).
sub worker_job
{
	my ($source, $from, $to) = @_;
	my $id = q1($node, "SELECT seongsu.enqueue('$source', '$from', " . ($to ? "'$to'" : 'NULL') . ')');
	return ($id, q1($node, "SELECT seongsu.wait_for_job($id, '60 seconds')"));
}

# ======================================================================
# (a) stored keys, used by the worker and by run_pending_jobs
# ======================================================================
my ($ret, $out, $err) = $node->psql('postgres', q{SELECT seongsu.enqueue('seoul_daily', '2024-01-02')});
like($err, qr/needs the API key seoul_api_key.*set_secret/s, '(a) without a key, enqueue names set_secret');
q1($node, "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL'), seongsu.set_secret('data_go_kr_key', '$DGK')");
my ($id, $st) = worker_job('seoul_daily', '2024-01-02', '2024-01-03');
is($st, 'done', '(a) the worker fetched seoul_daily with the stored key');
is(q1($node, "SELECT count(*) > 1000 FROM seongsu.ridership_daily"), 't', '(a) and wrote its rows');
($id, $st) = worker_job('kasi_holidays', '2024-05-01');
is($st, 'done', '(a) the worker fetched kasi_holidays with the stored data.go.kr key');
q1($node, "SELECT seongsu.set_secret('seoul_api_key', 'WRONG-KEY-0000')");
($id, $st) = worker_job('seoul_daily', '2024-01-04');
is($st, 'failed', '(a) with a wrong stored key the replay server refuses (INFO-100)');
like(q1($node, "SELECT last_error FROM seongsu.jobs WHERE id = $id"), qr/INFO-100/, '(a) the error says why');
q1($node, "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL')");
($id, $st) = worker_job('seoul_daily', '2024-01-04');
is($st, 'done', '(a) a changed key is used by the next job');

# run_pending_jobs in a server without the worker, by an operator.
my $plain = PostgreSQL::Test::Cluster->new('nopreload');
$plain->init;
$plain->append_conf('postgresql.conf', $conf);
$plain->start;
q1($plain, 'CREATE EXTENSION daily_seongsu');
q1($plain, "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL'), seongsu.set_secret('data_go_kr_key', '$DGK')");
q1($plain, 'CREATE ROLE op LOGIN IN ROLE seongsu_operator; CREATE ROLE reader LOGIN IN ROLE seongsu_reader; '
	  . 'CREATE ROLE plain LOGIN; CREATE ROLE keeper LOGIN');
my @as_op = (extra_params => [ '-U', 'op' ]);
q1($plain, q{SELECT seongsu.enqueue('seoul_daily', '2024-01-02'), seongsu.enqueue('kasi_holidays', '2024-05-01')}, @as_op);
is(q1($plain, 'SELECT seongsu.run_pending_jobs()', @as_op), '2', '(a) an operator ran 2 jobs with run_pending_jobs');
is(q1($plain, q{SELECT string_agg(state, ',' ORDER BY id) FROM seongsu.jobs}), 'done,done',
	'(a) both fetched with the stored keys');

# ======================================================================
# (b) nobody else sees a key
# ======================================================================
my @relations = split /\n/, q1($plain, q{
	SELECT c.oid::regclass FROM pg_class c
	JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'daily_seongsu'
	WHERE c.relkind IN ('r', 'v', 'm', 'p') ORDER BY 1});
cmp_ok(scalar @relations, '>', 15, '(b) the extension\'s tables and views, from the catalog');
ok((grep { $_ eq 'seongsu.secrets' } @relations), '(b) seongsu.secrets among them');
for my $role (qw(plain op reader))
{
	my $seen = '';
	my $readable = 0;
	for my $sql ('SHOW seongsu.seoul_api_key', 'SHOW seongsu.data_go_kr_key',
		"SELECT current_setting('seongsu.seoul_api_key', true), current_setting('seongsu.data_go_kr_key', true)",
		q{SELECT string_agg(name || '=' || coalesce(setting, ''), ' ') FROM pg_settings}, 'SHOW ALL')
	{
		($ret, $out, $err) = $plain->psql('postgres', $sql, extra_params => [ '-U', $role ]);
		$seen .= "$out\n$err\n";
	}
	for my $rel (@relations)
	{
		($ret, $out, $err) = $plain->psql('postgres', "SELECT string_agg(t::text, E'\\n') FROM $rel t",
			extra_params => [ '-U', $role ]);
		$seen .= "$out\n$err\n";
		$readable++ if $ret == 0;
		like($err, qr/permission denied/, "(b) $role cannot read seongsu.secrets") if $rel eq 'seongsu.secrets';
	}
	($ret, $out, $err) = $plain->psql('postgres', "SELECT seongsu.set_secret('seoul_api_key', 'ROLE-KEY-$role')",
		extra_params => [ '-U', $role ]);
	like($err, qr/permission denied/, "(b) $role cannot call set_secret");
	$seen .= "$out\n$err\n";
	is(leaks($seen), '', "(b) $role sees no key in settings, in " . scalar(@relations) . ' relations or in errors');
	note("$role read $readable of " . scalar(@relations) . ' relations');
	cmp_ok($readable, '>', 10, "(b) $role reads the extension's tables") if $role ne 'plain';
}
my $all = '';
for my $rel (grep { $_ ne 'seongsu.secrets' } @relations)
{
	$all .= q1($plain, "SELECT string_agg(t::text, E'\\n') FROM $rel t") . "\n";
}
is(leaks($all), '', '(b) no key in any other table or view, as a superuser');
like($all, qr/\*\*\*/, '(b) (whose log has the redacted URLs)');

# The owner grants EXECUTE (as an after-create script does for Supabase's postgres role).
q1($plain, 'GRANT USAGE ON SCHEMA seongsu TO keeper; GRANT EXECUTE ON FUNCTION seongsu.set_secret(text, text) TO keeper');
($ret, $out, $err) = $plain->psql('postgres', "SELECT seongsu.set_secret('data_go_kr_key', '$DGK')",
	extra_params => [ '-U', 'keeper' ]);
is($ret, 0, '(b) a role granted EXECUTE stores a key') or diag($err);
($ret, $out, $err) = $plain->psql('postgres', 'SELECT value FROM seongsu.secrets', extra_params => [ '-U', 'keeper' ]);
like($err, qr/permission denied for table secrets/, '(b) but cannot read it back');
is(leaks("$out$err"), '', '(b) nor see it in the error');

# ======================================================================
# (c) precedence: stored, vault, setting
# ======================================================================
q1($plain, q{
	CREATE SCHEMA vault;
	CREATE TABLE vault.secrets (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), name text UNIQUE,
	  description text NOT NULL DEFAULT '', secret text NOT NULL, key_id uuid, nonce bytea,
	  created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
	CREATE VIEW vault.decrypted_secrets AS
	  SELECT id, name, description, secret, secret AS decrypted_secret, key_id, nonce, created_at, updated_at
	  FROM vault.secrets});

# One session: set up, queue a seoul_daily job, run it; returns (state, stderr).
sub session_job
{
	my ($setup, $day) = @_;
	my ($rt, $o, $e) = $plain->psql('postgres', "$setup;
		SELECT seongsu.enqueue('seoul_daily', '$day');
		SELECT seongsu.run_pending_jobs();
		SELECT state FROM seongsu.jobs ORDER BY id DESC LIMIT 1");
	my @lines = split /\n/, $o;
	return ($lines[-1] // '', $e);
}

my ($state, $warn) = session_job("INSERT INTO vault.secrets (name, secret) VALUES ('seoul_api_key', 'VAULT-WRONG-1');
	SET seongsu.seoul_api_key = 'SETTING-WRONG-1'", '2024-01-05');
is($state, 'done', '(c) the stored key comes first (vault and setting hold wrong keys)');
like($warn, qr/WARNING:  the API key seoul_api_key is set as the setting seongsu.seoul_api_key.*setting is ignored.*set_secret/s,
	'(c) a key in a setting warns even when unused, naming set_secret');
q1($plain, "SELECT seongsu.set_secret('seoul_api_key', NULL); UPDATE vault.secrets SET secret = '$SEOUL'");
($state, $warn) = session_job("SET seongsu.seoul_api_key = 'SETTING-WRONG-2'", '2024-01-06');
is($state, 'done', '(c) without a stored key, the vault\'s comes next (the setting holds a wrong key)');
q1($plain, "UPDATE vault.secrets SET secret = 'VAULT-WRONG-2'");
($state, $warn) = session_job("SET seongsu.seoul_api_key = 'SETTING-WRONG-3'", '2024-01-07');
is($state, 'failed', '(c) (a wrong vault key fails the job: the vault is really read)');
q1($plain, 'DELETE FROM vault.secrets');
($state, $warn) = session_job("SET seongsu.seoul_api_key = '$SEOUL';
	SELECT seongsu.enqueue('seoul_daily', '2024-01-08')", '2024-01-09');
is($state, 'done', '(c) the setting comes last, and works');
my @warnings = ($warn =~ /WARNING:  the API key seoul_api_key/g);
is(scalar @warnings, 1, '(c) one WARNING for two enqueues and a run in one session');
like($warn, qr/The setting is used because no stored or vault secret/, '(c) saying the setting is used');
is(q1($plain, q{SELECT string_agg(state, ',' ORDER BY id) FROM seongsu.jobs WHERE from_date IN ('2024-01-08', '2024-01-09')}),
	'done,done', '(c) both jobs of that session done');
($ret, $out, $err) = $plain->psql('postgres', q{SELECT seongsu.enqueue('seoul_daily', '2024-01-10')});
like($err, qr/needs the API key seoul_api_key/, '(c) with none of the three, enqueue refuses');

# A vault that cannot answer is skipped with a WARNING.
q1($plain, q{CREATE FUNCTION vault.broken() RETURNS text LANGUAGE plpgsql AS $$
	BEGIN RAISE EXCEPTION 'pgsodium: no server key'; END $$;
	CREATE OR REPLACE VIEW vault.decrypted_secrets AS
	  SELECT id, name, description, secret, vault.broken() AS decrypted_secret, key_id, nonce, created_at, updated_at
	  FROM vault.secrets;
	INSERT INTO vault.secrets (name, secret) VALUES ('seoul_api_key', 'VAULT-WRONG-3')});
q1($plain, "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL')");
($state, $warn) = session_job('SELECT 1', '2024-01-10');
is($state, 'done', '(c) a vault view that raises an error does not stop a job with a stored key');
like($warn, qr/WARNING:  could not read vault.decrypted_secrets: pgsodium: no server key/, '(c) it warns');

# In the worker: a setting warns once, in the server log.
$node->append_conf('postgresql.conf', "seongsu.data_go_kr_key = 'SETTING-WRONG-4'");
$node->reload;
my $log_at = -s $node->logfile;
$node->poll_query_until('postgres', q{SELECT current_setting('seongsu.data_go_kr_key') = 'SETTING-WRONG-4'});
my @states;
for my $m ('06', '07')
{
	push @states, (worker_job('kasi_holidays', "2024-$m-01"))[1];
}
is("@states", 'done done', '(c) the worker still uses the stored key, not the setting');
my $worker = q1($node, q{SELECT pid FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest'});
my $worker_log = substr(slurp_file($node->logfile), $log_at);
@warnings = ($worker_log =~ /\[$worker\] WARNING:  the API key data_go_kr_key is set as the setting/g);
is(scalar @warnings, 1, '(c) the worker warned once in the log for two jobs');

# A vault view that an ordinary role owns is never read: its functions
# would run with the rights of the extension's owner (a superuser).
q1($node, q{
	CREATE ROLE mallory NOSUPERUSER;
	CREATE SCHEMA vault AUTHORIZATION mallory;
	SET ROLE mallory;
	CREATE SEQUENCE vault.calls;
	CREATE FUNCTION vault.key() RETURNS text LANGUAGE plpgsql AS $$
	BEGIN
	  PERFORM pg_catalog.nextval('vault.calls');
	  BEGIN
	    ALTER ROLE mallory SUPERUSER;
	  EXCEPTION WHEN insufficient_privilege THEN NULL;
	  END;
	  RETURN current_setting('test.key', true);
	END $$;
	CREATE VIEW vault.decrypted_secrets AS
	  SELECT 'seoul_api_key'::text AS name, vault.key() AS decrypted_secret;
	RESET ROLE});
q1($node, "SELECT seongsu.set_secret('seoul_api_key', NULL)");
($ret, $out, $err) = $node->psql('postgres', "SET test.key = '$SEOUL'; SELECT seongsu.enqueue('seoul_daily', '2024-01-11')");
like($err, qr/needs the API key seoul_api_key/, '(c) a vault view owned by an ordinary role is ignored');
q1($node, "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL')");
($id, $st) = worker_job('seoul_daily', '2024-01-11');
is($st, 'done', '(c) (the worker runs jobs beside it)');
is(q1($node, 'SELECT is_called FROM vault.calls'), 'f', '(c) its function was never called');
is(q1($node, q{SELECT rolsuper FROM pg_roles WHERE rolname = 'mallory'}), 'f', '(c) its owner is no superuser');

# ======================================================================
# (d) pg_dump
# ======================================================================
q1($plain, "SELECT seongsu.set_secret('seoul_api_key', '$SEOUL'); DROP SCHEMA vault CASCADE");
my ($dump, $dump_err) = ('', '');
IPC::Run::run([ 'pg_dump', '-d', $plain->connstr('postgres') ], '>', \$dump, '2>', \$dump_err);
like($dump, qr/\Q$SEOUL\E/, '(d) a dump by the owner (a superuser) holds the stored key');
for my $role (qw(op reader))
{
	my @cmd = ('pg_dump', '-U', $role, '-d', $plain->connstr('postgres'));
	($dump, $dump_err) = ('', '');
	my $ok = IPC::Run::run(\@cmd, '>', \$dump, '2>', \$dump_err);
	ok(!$ok, "(d) a dump by $role fails");
	# (at seongsu.secrets, or before it at a sequence not granted to the role)
	like($dump_err, qr/permission denied for (table secrets|sequence \w+)/, "(d) at what it may not read");
	is(leaks("$dump$dump_err"), '', "(d) and holds no key");
	($dump, $dump_err) = ('', '');
	IPC::Run::run([ @cmd, '--exclude-table-data=seongsu.secrets' ], '>', \$dump, '2>', \$dump_err);
	unlike($dump_err, qr/table secrets/, "(d) $role with --exclude-table-data=seongsu.secrets passes that table");
	is(leaks("$dump$dump_err"), '', "(d) and holds no key");
}

# ======================================================================
# (e) an upstream that echoes the request
# ======================================================================
# Each job is one request answered by an echo of its URL (key included);
# the KASI ones move the key across the end of the 255-byte message with
# the dots of `pad`.
my @jobs;
my @rules = ({ match => 'CardSubwayStatsNew', day => '20240112', fault => 'echo' },
	{ match => 'solYear=2023&solMonth=01', fault => 'echo', mode => 'decoded' },
	{ match => 'solYear=2023&solMonth=02', fault => 'echo', mode => 'form' });
push @jobs, "('seoul_daily', '2024-01-12')", "('kasi_holidays', '2023-01-01')", "('kasi_holidays', '2023-02-01')";
my $pad = 90;
for my $y (2021, 2022)
{
	for my $m (1 .. 12)
	{
		push @rules, { match => sprintf('solYear=%d&solMonth=%02d', $y, $m), fault => 'echo', pad => $pad };
		push @jobs, sprintf("('kasi_holidays', '%d-%02d-01')", $y, $m);
		$pad += 3;
	}
}
set_faults($base, @rules);
my $first = q1($node, 'SELECT max(id) + 1 FROM seongsu.jobs');
q1($node, 'SELECT seongsu.enqueue(s, d::date) FROM (VALUES ' . join(', ', @jobs) . ') AS j(s, d)');
ok($node->poll_query_until('postgres', "SELECT count(*) = 0 FROM seongsu.jobs WHERE id >= $first AND state IN ('pending', 'running')"),
	'(e) the echo jobs ran');
is(q1($node, "SELECT string_agg(DISTINCT state, ',') FROM seongsu.jobs WHERE id >= $first"), 'failed',
	'(e) every echo answer failed its job (permanent error)');
my $hits = decode_json($http->get("$base/_faults")->{content})->{rules};
is(join(',', map { $_->{hits} } @$hits), join(',', (1) x scalar @rules), '(e) every echo was served once');
my %stored = (
	'ingest_log' => q1($node, "SELECT string_agg(row_to_json(l)::text, E'\\n') FROM seongsu.ingest_log l WHERE job_id >= $first"),
	'jobs' => q1($node, "SELECT string_agg(row_to_json(j)::text, E'\\n') FROM seongsu.jobs j WHERE id >= $first"),
	'the server log' => slurp_file($node->logfile),
	'the other server log' => slurp_file($plain->logfile));
for my $where (sort keys %stored)
{
	is(leaks($stored{$where}), '', "(e) no key in $where");
}
my @errors = split /\n/, q1($node, "SELECT error FROM seongsu.ingest_log WHERE job_id >= $first ORDER BY id");
is(scalar @errors, scalar @rules, '(e) one logged error per echo');
like($errors[0], qr/seoul open data error ERROR-300: .* 요청: \/\*\*\*\/json\/CardSubwayStatsNew/,
	'(e) the Seoul echo is kept, its key replaced by ***');
like($errors[1], qr/serviceKey=\*\*\*&solYear=2023&solMonth=01/, '(e) the %-decoded echo too');
like($errors[2], qr/serviceKey=\*\*\*&solYear=2023&solMonth=02/, '(e) and the one with + read as a space');
cmp_ok(scalar(grep { /\.{90}.*\*\*\*$/ } @errors), '>=', 5, '(e) keys cut short at the end of a message are redacted');
cmp_ok(scalar(grep { /serviceKey=\*\*\*&solYear/ } @errors), '>=', 5, '(e) as are whole ones before the end');
set_faults($base);

$plain->stop;
$node->stop;
done_testing();
