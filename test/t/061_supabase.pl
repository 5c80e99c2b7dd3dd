# Supabase (issue 17, item 3): the extension as a self-hosted Supabase runs
# it, with supautils itself (test/vendor/supautils, built here against this
# server and preloaded beside daily_seongsu), Supabase's roles made as its
# init scripts make them, and the cluster's bootstrap superuser named
# supabase_admin; supautils' after-create script is the installed
# <sharedir>/daily_seongsu/after-create.sql, reached through a link as a
# custom image would.
#  (a) CREATE EXTENSION by the non-superuser postgres: supautils creates it
#      as supabase_admin and runs the after-create script, which grants
#      what exists: first without Supabase's API roles (nothing fails), then
#      again after DROP EXTENSION with them;
#  (b) service_role, through authenticator, imports a synthetic series and
#      trains (the operator's rights);
#  (c) anon, through authenticator with SET ROLE (and SET LOCAL ROLE /
#      set_config('role', ..., true) in a transaction, as PostgREST does):
#      every seongsu_api function answers what its seongsu counterpart
#      answers (forecast page by page), the shared model cache serves it
#      under SECURITY DEFINER, a hostile search_path changes nothing; it can
#      use no table and no function of schema seongsu; absurd ranges are
#      refused with 22008 (bad pages 22023) and a hint in under 50 ms;
#  (d) authenticated like anon; authenticator alone (NOINHERIT) nothing;
#  (e) service_role enqueues (the worker fetches with the key postgres
#      stored) but reads no key; postgres stores a key, cannot read it, and
#      grants seongsu_api_user to a role of its own (ADMIN OPTION) though
#      supautils keeps it from granting to anon itself;
#  (f) the privileges of every object of the extension name only the
#      extension's roles (postgres only on schema seongsu and set_secret);
#      seongsu_api_user has nothing but schema seongsu_api.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Cwd qw(abs_path);
use File::Copy qw(copy);
use IPC::Run;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeongsuTest qw(start_replay replay_urls);

my $KEY = 'SupaSeoulKey0123';
my $base = start_replay(seoul_key => $KEY, dgk_key => 'SupaDgkKey0123');

# ----------------------------------------------------------------------
# supautils, built against this server
# ----------------------------------------------------------------------
my $root = $ENV{DS_ROOT} // '.';
# (absolute: the server reads it from its data folder; 17's tempdir may be relative)
my $build = abs_path(PostgreSQL::Test::Utils::tempdir);
my ($make_out, $make_err) = ('', '');
IPC::Run::run([ 'cp', '-R', "$root/test/vendor/supautils/.", $build ], '>', \$make_out, '2>', \$make_err)
  or BAIL_OUT("cannot copy test/vendor/supautils: $make_err");
# (its own flags without -Werror: a newer compiler's warning in a test tool must not stop the test)
IPC::Run::run([ 'make', '-C', $build, '-s', 'PG_CONFIG=pg_config', 'PG_CFLAGS=-std=c11 -Wno-declaration-after-statement -Wno-vla -Wno-long-long' ], '>', \$make_out, '2>', \$make_err)
  or do { diag("$make_out\n$make_err"); BAIL_OUT('supautils did not build (the compiler\'s output is above)'); };
ok(-f "$build/supautils.so", 'supautils built against this server');

# The custom scripts folder: a link to the installed folder, as a custom image makes it.
my ($sharedir) = run_command([ 'pg_config', '--sharedir' ]);
chomp $sharedir;
ok(-f "$sharedir/daily_seongsu/after-create.sql", 'make install put daily_seongsu/after-create.sql in the share folder');
my $scripts = abs_path(PostgreSQL::Test::Utils::tempdir);
symlink("$sharedir/daily_seongsu", "$scripts/daily_seongsu") or BAIL_OUT("symlink: $!");

my $node = PostgreSQL::Test::Cluster->new('supabase');
$node->init(extra => [ '-U', 'supabase_admin' ]);
$ENV{PGUSER} = 'supabase_admin';
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = '$build/supautils, daily_seongsu'
supautils.superuser = 'supabase_admin'
supautils.privileged_role = 'postgres'
supautils.privileged_extensions = 'daily_seongsu'
supautils.extension_custom_scripts_path = '$scripts'
supautils.reserved_roles = 'supabase_admin, authenticator, service_role, authenticated, anon'
supautils.reserved_memberships = 'pg_read_server_files, pg_write_server_files, pg_execute_server_program, authenticator'
seongsu.database = 'postgres'
@{[ replay_urls($base) ]}
log_statement = none
EOC
$node->start;

# A statement's output, as a role (default: supabase_admin, the superuser).
sub q1
{
	my ($sql, $role) = @_;
	return $node->safe_psql('postgres', $sql, extra_params => [ '-U', $role // 'supabase_admin' ]);
}

# (ret, stdout, stderr) of statements run as a role, without dying.
sub try_as
{
	my ($role, $sql) = @_;
	return $node->psql('postgres', $sql, extra_params => [ '-U', $role, '-v', 'VERBOSITY=verbose' ]);
}

# The members of role $1 (as "member" or "member*" with ADMIN OPTION).
sub members
{
	return q1("SELECT string_agg(m.rolname || CASE WHEN a.admin_option THEN '*' ELSE '' END, ',' ORDER BY m.rolname)
	           FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member
	           WHERE r.rolname = '$_[0]'");
}

# Supabase's postgres role: no superuser, CREATEROLE (migrations/db: demote-postgres).
q1(q{CREATE ROLE postgres LOGIN CREATEROLE CREATEDB REPLICATION BYPASSRLS;
	GRANT ALL ON DATABASE postgres TO postgres});
is(q1(q{SELECT rolsuper FROM pg_roles WHERE rolname = 'postgres'}), 'f', 'postgres is no superuser');

# ======================================================================
# (a) CREATE EXTENSION by postgres, through supautils
# ======================================================================
my ($ret, $out, $err) = try_as('postgres', 'CREATE EXTENSION daily_seongsu');
is($ret, 0, '(a) postgres creates the extension (a privileged extension of supautils)') or diag($err);
is(q1(q{SELECT extowner::regrole FROM pg_extension WHERE extname = 'daily_seongsu'}), 'supabase_admin',
	'(a) as supabase_admin');
is(q1(q{SELECT nspowner::regrole FROM pg_namespace WHERE nspname = 'seongsu_api'}), 'supabase_admin',
	'(a) which owns schema seongsu_api');
for my $r (qw(seongsu_reader seongsu_operator seongsu_api_user))
{
	like(members($r), qr/(^|,)postgres\*(,|$)/, "(a) the after-create script granted $r to postgres WITH ADMIN OPTION");
}
is(q1(q{SELECT has_function_privilege('postgres', 'seongsu.set_secret(text, text)', 'EXECUTE')
	AND has_schema_privilege('postgres', 'seongsu', 'USAGE')}), 't', '(a) and set_secret with USAGE on seongsu');
($ret, $out, $err) = try_as('postgres', 'DROP EXTENSION daily_seongsu');
is($ret, 0, '(a) postgres drops it (without the API roles the script granted nothing else)') or diag($err);

# Supabase's API roles, as its init scripts make them (made NOINHERIT, then
# INHERIT by a later migration); on PostgreSQL 16+ postgres administers them.
q1(q{CREATE ROLE anon NOLOGIN NOINHERIT;
	CREATE ROLE authenticated NOLOGIN NOINHERIT;
	CREATE ROLE service_role NOLOGIN NOINHERIT BYPASSRLS;
	CREATE ROLE authenticator LOGIN NOINHERIT;
	GRANT anon, authenticated, service_role TO authenticator;
	GRANT USAGE ON SCHEMA public TO postgres, anon, authenticated, service_role;
	ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON TABLES TO postgres, anon, authenticated, service_role;
	ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
	ALTER DEFAULT PRIVILEGES FOR ROLE supabase_admin IN SCHEMA public GRANT ALL ON FUNCTIONS TO postgres, anon, authenticated, service_role;
	ALTER ROLE anon SET statement_timeout = '3s';
	ALTER ROLE authenticated SET statement_timeout = '8s';
	ALTER ROLE authenticated INHERIT;
	ALTER ROLE anon INHERIT;
	ALTER ROLE service_role INHERIT;
	GRANT anon, authenticated, service_role TO postgres WITH ADMIN OPTION});
($ret, $out, $err) = try_as('postgres', 'CREATE EXTENSION daily_seongsu');
is($ret, 0, '(a) postgres creates it again') or diag($err);
like(members('seongsu_api_user'), qr/^anon,authenticated,postgres\*,seongsu_reader$/,
	'(a) seongsu_api_user: anon, authenticated (and postgres, seongsu_reader)');
like(members('seongsu_operator'), qr/(^|,)service_role(,|$)/, '(a) seongsu_operator: service_role');

# ======================================================================
# (b) service_role imports and trains
# ======================================================================
# A synthetic Seongsu-like series: two years of daily totals (day-type
# levels, a slow trend, a weekly wiggle) and the last five weeks by hour.
my @level = (0, 88000, 92000, 93000, 92500, 96000, 74000, 56000);    # by ISO weekday
my @share = (0, 0, 0, 0, 0, 0.01, 0.03, 0.08, 0.12, 0.06, 0.04, 0.04, 0.05, 0.05, 0.05, 0.05,
	0.06, 0.08, 0.11, 0.07, 0.04, 0.03, 0.02, 0.01);
my ($daily, $hourly) = ("date,line,station,boardings,alightings\n", "service_date,line,station,hour,passengers\n");
my $t0 = 1672531200;    # 2023-01-01 (UTC)
for my $i (0 .. 730)
{
	my @g = gmtime($t0 + 86400 * $i);
	my $day = sprintf('%04d-%02d-%02d', $g[5] + 1900, $g[4] + 1, $g[3]);
	my $total = int($level[ $g[6] == 0 ? 7 : $g[6] ] * (1 + 0.0002 * $i) * (1 + 0.03 * sin($i / 3.0)));
	my $board = int($total * 0.48);
	$daily .= "$day,2호선,성수,$board," . ($total - $board) . "\n";
	next if $i < 696;
	for my $h (0 .. 23)
	{
		$hourly .= "$day,2호선,성수,$h," . int($total * $share[$h] + 0.5) . "\n" if $share[$h] > 0;
	}
}
my $as_service = sub { my ($sql) = @_; return q1("SET ROLE service_role; $sql", 'authenticator'); };
is($as_service->("SELECT seongsu.import_text('ridership_daily', \$csv\$$daily\$csv\$)"), '731',
	'(b) service_role imports 731 days');
cmp_ok($as_service->("SELECT seongsu.import_text('ridership_hourly', \$csv\$$hourly\$csv\$)"), '>', 600,
	'(b) and their last five weeks by hour');
is($as_service->(q{SELECT algorithm || ' ' || deployed::text FROM seongsu.train(algorithm => 'ridge', horizon => '1 day')}),
	'ridge true', '(b) service_role trains and deploys a model');
is($as_service->(q{SELECT count(*) FROM seongsu.models}), '1', '(b) and reads the models');

# ======================================================================
# (c) anon, as PostgREST switches to it
# ======================================================================
my %calls = (
	'predict_daily, a past day'        => q{predict_daily('2024-06-05')},
	'predict_daily, a day ahead'       => q{predict_daily('2025-01-20', '성수', '2호선')},
	'predict_daily, the last API day'  => q{predict_daily('2025-03-03')},
	'predict_crowd'                    => q{predict_crowd('2025-01-20 08:30+09')},
	'predict_crowd, a service night'   => q{predict_crowd('2025-01-21 00:30+09', line => '2호선')},
	'crowd_level'                      => q{crowd_level('2025-01-20 18:10+09')});
for my $what (sort keys %calls)
{
	my $want = q1("SELECT seongsu.$calls{$what}");
	isnt($want, '', "(c) seongsu.$calls{$what} answers");
	is(q1("SET ROLE anon; SELECT seongsu_api.$calls{$what}", 'authenticator'), $want, "(c) anon: $what equal");
}
my $range = q{'2025-01-01 00:00+09', '2025-03-01 23:00+09'};
my $want = q1("SELECT string_agg(f::text, E'\\n') FROM seongsu.forecast('성수', '2호선', $range) f");
is(scalar(() = $want =~ /\n/g) + 1, 1440, '(c) seongsu.forecast: 1,440 hours');
for my $size (1000, 400)
{
	my ($got, $rows) = ('', 0);
	my $page = 1;
	while (1)
	{
		my $p = q1("SET ROLE anon; SELECT string_agg(f::text, E'\\n')
			FROM seongsu_api.forecast('성수', '2호선', $range, page => $page, page_size => $size) f", 'authenticator');
		last if $p eq '';
		my $n = scalar(() = $p =~ /\n/g) + 1;
		cmp_ok($n, '<=', $size, "(c) page $page of $size has $n rows") if $page == 1 || $n != $size;
		$got .= ($got eq '' ? '' : "\n") . $p;
		$page++;
		last if $page > 10;
	}
	is($page - 1, int((1440 + $size - 1) / $size), "(c) pages of $size: " . ($page - 1));
	is($got, $want, "(c) anon: the pages of $size, joined, are seongsu.forecast's hours");
}
is(q1(q{SET ROLE anon; SELECT count(*) FROM seongsu_api.forecast(from_ts => '2025-01-10', to_ts => '2025-01-17')}, 'authenticator'),
	'169', '(c) anon: forecast with its defaults (one page)');
$want = q1(q{SELECT string_agg(concat_ws(' ', q.check_name, q.severity, q.status), E'\n' ORDER BY n)
	FROM seongsu.check_quality('성수', '2호선', '2024-01-02', '2024-12-31') WITH ORDINALITY AS q(check_name, severity, status, observed, expected, detail, n)});
is(q1(q{SET ROLE anon; SELECT string_agg(concat_ws(' ', check_name, severity, status), E'\n') FROM seongsu_api.quality_summary()}, 'authenticator'),
	$want, '(c) anon: quality_summary is check_quality over the last 365 observed days, without its detail');

# In a transaction, as PostgREST does it (SET LOCAL ROLE; set_config('role', ..., true)).
my $day_value = q1(q{SELECT seongsu.predict_daily('2025-01-20')});
is(q1(q{BEGIN; SET LOCAL ROLE anon; SELECT current_user || ' ' || seongsu_api.predict_daily('2025-01-20'); COMMIT; SELECT current_user},
		'authenticator'), "anon $day_value\nauthenticator", '(c) SET LOCAL ROLE anon in a transaction, then back to authenticator');
is(q1(q{BEGIN; SELECT set_config('role', 'anon', true) \g /dev/null
	SELECT current_user || ' ' || seongsu_api.predict_daily('2025-01-20'); COMMIT; SELECT current_user}, 'authenticator'),
	"anon $day_value\nauthenticator", "(c) set_config('role', 'anon', true), as PostgREST's pre-request");

# The shared model cache serves anon's calls (SECURITY DEFINER: the owner may read the models).
my $hits = q1('SELECT sum(hits) FROM seongsu.model_cache()');
q1(q{SET ROLE anon; SELECT seongsu_api.predict_daily('2024-07-01')}, 'authenticator');
cmp_ok(q1('SELECT sum(hits) FROM seongsu.model_cache()'), '>', $hits, '(c) a new anon backend took the model from the shared cache');

# A hostile path: temporary tables and functions named like the extension's.
is(q1(q{SET ROLE anon;
	CREATE TEMP TABLE ridership_daily (station_id int, day date);
	CREATE TEMP TABLE stations (id int, line text, name text);
	INSERT INTO stations VALUES (1, '2호선', '성수');
	CREATE FUNCTION pg_temp.predict_daily(date, text, text) RETURNS float8 LANGUAGE sql AS 'SELECT 1::float8';
	SET search_path = pg_temp, public;
	SELECT seongsu_api.predict_daily('2025-01-20')}, 'authenticator'), $day_value,
	'(c) anon with its own tables and function first on the path gets the same answer');

# What anon may not do: any table, view or function of schema seongsu.
my @relations = split /\n/, q1(q{SELECT c.oid::regclass FROM pg_class c
	JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
	JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'daily_seongsu'
	WHERE c.relkind IN ('r', 'v', 'm', 'p') ORDER BY 1});
cmp_ok(scalar @relations, '>', 15, '(c) the extension\'s tables and views, from the catalog');
my @denied;
for my $rel (@relations)
{
	($ret, $out, $err) = try_as('authenticator', "SET ROLE anon; SELECT * FROM $rel LIMIT 1");
	push @denied, $rel if $err =~ /42501: permission denied for schema seongsu/;
}
is(scalar @denied, scalar @relations, '(c) anon: permission denied for schema seongsu at every table and view');
for my $call (q{seongsu.predict_daily('2025-01-20')}, q{seongsu.set_secret('seoul_api_key', 'x')},
	q{seongsu.api_window('성수', '2호선')}, q{seongsu.import_text('ridership_daily', 'x')},
	q{seongsu.enqueue('seoul_daily', '2025-01-01')}, q{* FROM seongsu.train()}, q{* FROM seongsu.check_quality()})
{
	($ret, $out, $err) = try_as('authenticator', "SET ROLE anon; SELECT $call");
	like($err, qr/42501: permission denied for schema seongsu/, "(c) anon cannot call $call");
}
is(q1(q{SELECT count(*) FILTER (WHERE has_function_privilege('anon', p.oid, 'EXECUTE')) || ' of ' || count(*)
	FROM pg_proc p WHERE p.pronamespace = 'seongsu'::regnamespace}), '0 of ' . q1(q{SELECT count(*) FROM pg_proc
	WHERE pronamespace = 'seongsu'::regnamespace}), '(c) anon may execute no function of schema seongsu');

# Absurd ranges: refused at once, with SQLSTATE and hint.
for my $case ([ q{seongsu_api.predict_daily('5874897-12-31')}, '22008', 'more than 62 days after the last observation' ],
	[ q{seongsu_api.predict_crowd('80000-01-01 08:00+09')}, '22008', 'more than 62 days after' ],
	[ q{seongsu_api.crowd_level('-infinity')}, '22008', 'before the first observation' ],
	[ q{seongsu_api.predict_daily('2022-12-31')}, '22008', 'before the first observation' ],
	[ q{seongsu_api.predict_daily('2025-03-04')}, '22008', '2025-03-04: it is more than 62 days' ],
	[ q{count(*) FROM seongsu_api.forecast('성수', '2호선', '2024-01-01', '200000-01-01')}, '22008', 'more than 62 days' ],
	[ q{count(*) FROM seongsu_api.forecast('성수', '2호선', '2024-01-01', '2024-02-01', 1, 1000000)}, '22023', 'page_size must be between 1 and 1000' ],
	[ q{count(*) FROM seongsu_api.forecast('성수', '2호선', '2024-01-01', '2024-02-01', 0)}, '22023', 'page must be at least 1' ],
	[ q{count(*) FROM seongsu_api.forecast('성수', '2호선', '2024-02-01', '2024-01-01')}, '22023', 'to_ts not before from_ts' ],
	[ q{seongsu_api.predict_daily('2024-06-05', '없는역')}, '42704', 'unknown station' ])
{
	my ($call, $state, $msg) = @$case;
	($ret, $out, $err) = try_as('authenticator', qq{SET ROLE anon;
		DO \$\$
		DECLARE t0 timestamptz := clock_timestamp(); st text; m text; h text;
		BEGIN
		  PERFORM $call;
		  RAISE NOTICE 'answered';
		EXCEPTION WHEN OTHERS THEN
		  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, h = PG_EXCEPTION_HINT;
		  RAISE NOTICE 'refused % in % ms: % / %', st,
		    round(extract(epoch FROM clock_timestamp() - t0) * 1000, 2), m, h;
		END \$\$});
	like($err, qr/refused $state in [0-9.]+ ms: [^\n]*\Q$msg\E/, "(c) anon: $call refused with $state");
	like($err, qr/ms: [^\n]* \/ (Ask about days from 2023-01-01 to 2025-03-03\.|A page holds at most 1,000 hours|Pages count from 1|Spell the station)/,
		'(c) with a hint') if $msg !~ /to_ts not before/;
	my ($ms) = $err =~ /refused \w+ in ([0-9.]+) ms/;
	cmp_ok($ms // 1e9, '<', 50, "(c) in under 50 ms (${\($ms // '?')} ms)");
}

# ======================================================================
# (d) authenticated; authenticator alone
# ======================================================================
is(q1(q{SET ROLE authenticated; SELECT seongsu_api.predict_daily('2025-01-20')}, 'authenticator'), $day_value,
	'(d) authenticated calls the API');
($ret, $out, $err) = try_as('authenticator', 'SET ROLE authenticated; SELECT count(*) FROM seongsu.models');
like($err, qr/permission denied for schema seongsu/, '(d) authenticated reads no table');
($ret, $out, $err) = try_as('authenticator', q{SELECT seongsu_api.predict_daily('2025-01-20')});
like($err, qr/permission denied for schema seongsu_api/, '(d) authenticator itself (NOINHERIT) calls nothing');

# ======================================================================
# (e) service_role and postgres
# ======================================================================
($ret, $out, $err) = try_as('postgres', "SELECT seongsu.set_secret('seoul_api_key', '$KEY')");
is($ret, 0, '(e) postgres stores a key with set_secret') or diag($err);
($ret, $out, $err) = try_as('postgres', 'SELECT value FROM seongsu.secrets');
like($err, qr/permission denied for table secrets/, '(e) postgres cannot read it back');
my $job = $as_service->(q{SELECT seongsu.enqueue('seoul_daily', '2025-01-02')});
is($as_service->("SELECT seongsu.wait_for_job($job, '60 seconds')"), 'done',
	'(e) service_role enqueues; the worker fetches with the key postgres stored');
($ret, $out, $err) = try_as('authenticator', 'SET ROLE service_role; SELECT value FROM seongsu.secrets');
like($err, qr/permission denied for table secrets/, '(e) service_role cannot read the keys');
($ret, $out, $err) = try_as('authenticator', "SET ROLE service_role; SELECT seongsu.set_secret('seoul_api_key', 'x')");
like($err, qr/permission denied for function set_secret/, '(e) nor store one');
is($as_service->(q{SELECT seongsu_api.predict_daily('2024-06-05') = seongsu.predict_daily('2024-06-05')}), 't',
	'(e) service_role calls the API too');
($ret, $out, $err) = try_as('postgres', 'CREATE ROLE app_user NOLOGIN; GRANT seongsu_api_user TO app_user');
is($ret, 0, '(e) postgres grants seongsu_api_user to a role it made') or diag($err);
like(members('seongsu_api_user'), qr/(^|,)app_user(,|$)/, '(e) (app_user is a member)');
($ret, $out, $err) = try_as('postgres', 'REVOKE seongsu_api_user FROM anon');
like($err, qr/reserved/i, '(e) supautils keeps postgres from changing anon itself (hence the after-create script)');

# ======================================================================
# (f) privileges of every object of the extension
# ======================================================================
my $acl = q1(q{
	WITH objs AS (
	  SELECT d.classid, d.objid FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
	  WHERE d.refclassid = 'pg_extension'::regclass AND e.extname = 'daily_seongsu' AND d.deptype = 'e'),
	acls AS (
	  SELECT 'relation ' || c.oid::regclass AS obj, c.relacl AS acl, c.relowner AS owner FROM objs JOIN pg_class c ON objs.classid = 'pg_class'::regclass AND c.oid = objs.objid
	  UNION ALL
	  SELECT 'function ' || p.oid::regprocedure, p.proacl, p.proowner FROM objs JOIN pg_proc p ON objs.classid = 'pg_proc'::regclass AND p.oid = objs.objid
	  UNION ALL
	  SELECT 'schema ' || n.nspname, n.nspacl, n.nspowner FROM pg_namespace n WHERE n.nspname IN ('seongsu', 'seongsu_api'))
	SELECT string_agg(DISTINCT CASE WHEN x.grantee = 0 THEN 'PUBLIC' ELSE x.grantee::regrole::text END
	                  || CASE WHEN x.grantee IN ('postgres'::regrole, 0) THEN ' on ' || a.obj ELSE '' END, E'\n')
	FROM acls a, aclexplode(a.acl) x WHERE x.grantee <> a.owner});
is($acl, join("\n", 'postgres on function seongsu.set_secret(text,text)', 'postgres on schema seongsu',
		'seongsu_api_user', 'seongsu_operator', 'seongsu_reader'),
	'(f) grantees: the extension\'s roles, postgres on schema seongsu and set_secret, never PUBLIC');
is(q1(q{SELECT string_agg(DISTINCT x.grantee::regrole || ' ' || x.privilege_type || ' ' || n.nspname || '.' || p.proname, E'\n')
	FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, aclexplode(p.proacl) x
	WHERE x.grantee = 'seongsu_api_user'::regrole}),
	join("\n", map { "seongsu_api_user EXECUTE seongsu_api.$_" } qw(crowd_level dashboard forecast predict_crowd predict_daily quality_summary)),
	'(f) seongsu_api_user may execute exactly the functions of seongsu_api');
is(q1(q{SELECT count(*) FROM pg_class c WHERE c.relnamespace = 'seongsu'::regnamespace
	AND has_table_privilege('seongsu_api_user', c.oid, 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')}), '0',
	'(f) and no table');
is(q1(q{SELECT has_schema_privilege('seongsu_api_user', 'seongsu', 'USAGE')::text || has_schema_privilege('seongsu_api_user', 'seongsu_api', 'USAGE')::text}),
	'falsetrue', '(f) USAGE on seongsu_api only');
is(q1(q{SELECT string_agg(p.proname, ',' ORDER BY p.proname) FROM pg_proc p
	WHERE p.pronamespace = 'seongsu_api'::regnamespace AND NOT (p.prosecdef AND p.proconfig = '{"search_path=pg_catalog, pg_temp"}')}),
	'', '(f) every seongsu_api function is SECURITY DEFINER with search_path pg_catalog, pg_temp');

$node->stop;
done_testing();
