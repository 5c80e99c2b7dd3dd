# search_path hijack: a database owner who is not a superuser creates
# public.unnest(date[]) and public.unnest(integer[]) (exact matches, which
# the parser prefers to pg_catalog.unnest(anyarray) whatever the order of
# the path) that try ALTER ROLE ... SUPERUSER.  After an ingestion job run
# by the worker, an import_text and a run_pending_jobs by a superuser, the
# owner is still an ordinary role and no trap was called.  Uses the replay
# server's synthetic series (no data folder needed).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeongsuTest qw(start_replay replay_urls);

my $base = start_replay(seoul_key => 'SEOULKEY', dgk_key => 'DGKKEY');

my $node = PostgreSQL::Test::Cluster->new('search_path');
$node->init;
$node->append_conf('postgresql.conf', <<"EOC");
shared_preload_libraries = 'daily_seongsu'
seongsu.database = 'ownerdb'
seongsu.seoul_api_key = 'SEOULKEY'
seongsu.data_go_kr_key = 'DGKKEY'
@{[ replay_urls($base) ]}
EOC
$node->start;
$node->safe_psql('postgres', 'CREATE ROLE dbowner LOGIN NOSUPERUSER');

# The traps, created by the owner in the public schema of its databases.
my $traps = q{
CREATE SEQUENCE public.trap_calls;
CREATE FUNCTION public.trap() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_catalog.nextval('public.trap_calls');
  BEGIN
    ALTER ROLE dbowner SUPERUSER;
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
END $$;
CREATE FUNCTION public.unnest(date[]) RETURNS SETOF date LANGUAGE plpgsql AS $$
BEGIN PERFORM public.trap(); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;
CREATE FUNCTION public.unnest(integer[]) RETURNS SETOF integer LANGUAGE plpgsql AS $$
BEGIN PERFORM public.trap(); RETURN QUERY SELECT pg_catalog.unnest($1); END $$;
};
for my $db (qw(ownerdb otherdb))
{
	$node->safe_psql('postgres', "CREATE DATABASE $db OWNER dbowner");
	$node->safe_psql($db, 'CREATE EXTENSION daily_seongsu');
	$node->safe_psql($db, $traps, extra_params => [ '-U', 'dbowner' ]);
}
is($node->safe_psql('ownerdb', q{SELECT count(*) FROM pg_proc WHERE proname = 'unnest' AND pronamespace = 'public'::regnamespace}),
	'2', 'the owner set its traps');

# 1. A job run by the worker (seongsu.database = ownerdb).
$node->poll_query_until('ownerdb',
	q{SELECT count(*) = 1 FROM pg_stat_activity WHERE backend_type = 'daily_seongsu ingest'})
  or BAIL_OUT('the ingestion worker did not start');
my $job = $node->safe_psql('ownerdb', q{SELECT seongsu.enqueue('seoul_daily', '2024-01-01', '2024-01-03')});
is($node->safe_psql('ownerdb', "SELECT seongsu.wait_for_job($job, '60 seconds')"), 'done', 'the worker ran the job');
cmp_ok($node->safe_psql('ownerdb', q{SELECT count(*) FROM seongsu.ridership_daily}), '>', 1000,
	'and wrote its rows');

# 2. An import by a superuser, under the database's default search_path.
is($node->safe_psql('ownerdb', q{SELECT seongsu.import_text('ridership_daily',
	E'date,line,station,boardings,alightings\n2024-02-01,2호선,성수,100,120\n2024-02-02,2호선,성수,110,130\n')}),
	'2', 'import_text by a superuser');

# 3. run_pending_jobs by a superuser in a database the worker does not serve.
$node->safe_psql('otherdb', q{SELECT seongsu.enqueue('seoul_daily', '2024-01-01', '2024-01-02')});
is($node->safe_psql('otherdb', q{SELECT seongsu.run_pending_jobs()}), '1', 'run_pending_jobs by a superuser');
is($node->safe_psql('otherdb', q{SELECT state FROM seongsu.jobs}), 'done', 'its job is done');

is($node->safe_psql('postgres', q{SELECT rolsuper FROM pg_roles WHERE rolname = 'dbowner'}), 'f',
	'the database owner is still not a superuser');
for my $db (qw(ownerdb otherdb))
{
	is($node->safe_psql($db, q{SELECT is_called FROM public.trap_calls}), 'f', "no trap was called in $db");
}

$node->stop;
done_testing();
