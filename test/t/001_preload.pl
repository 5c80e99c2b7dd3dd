# A cluster with shared_preload_libraries = 'daily_seongsu' starts, and the
# extension can be created, used and dropped in it.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('preload');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'daily_seongsu'\n");
$node->start;

is($node->safe_psql('postgres', 'SHOW shared_preload_libraries'), 'daily_seongsu',
	'module preloaded');
$node->safe_psql('postgres', 'CREATE EXTENSION daily_seongsu');
is($node->safe_psql('postgres',
		"SELECT extversion FROM pg_extension WHERE extname = 'daily_seongsu'"),
	$node->safe_psql('postgres', "SELECT default_version FROM pg_available_extensions WHERE name = 'daily_seongsu'"),
	'extension created, at the default version');
is($node->safe_psql('postgres',
		q{SELECT seongsu.import_text('ridership_daily', E'date,line,station,boardings,alightings\n2024-01-02,2호선,성수,100,120\n')}),
	'1', 'import works in a preloaded server');
is($node->safe_psql('postgres',
		q{SELECT passengers FROM seongsu.ridership_daily}), '220', 'row stored');

# A non-UTF8 database is refused with a hint.
$node->safe_psql('postgres', q{CREATE DATABASE latin TEMPLATE template0 ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C'});
my ($ret, $out, $err) = $node->psql('latin', 'CREATE EXTENSION daily_seongsu');
isnt($ret, 0, 'refused in a LATIN1 database');
like($err, qr/daily_seongsu needs a UTF8 database/, 'clear error for the encoding');

$node->safe_psql('postgres', 'DROP EXTENSION daily_seongsu');
$node->restart;
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'server restarts with the module preloaded');
$node->stop;
done_testing();
