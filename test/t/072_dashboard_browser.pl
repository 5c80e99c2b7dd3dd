# The dashboard in a real browser (issue 15): seongsu.dashboard() saved to
# a file and loaded by headless Chromium (Debian package chromium, which
# test/check.sh installs): the DOM Chromium built has every panel, the SVG
# charts (7 daily bars with intervals, 7 x 24 hourly level cells, actuals
# against forecasts), tables, the Korean level legend, no script and
# nothing that would fetch; the page logs no console or script error (a
# page with a broken script does, so that check can fail); and screenshots
# (desktop and phone widths) are written under tmp_check/.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use JSON::PP;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use SeongsuTest qw(load_synthetic_station);

my $root = $ENV{DS_ROOT} // '.';
my $chromium = $ENV{CHROMIUM} // 'chromium';
my $found = `command -v $chromium 2>/dev/null`;
BAIL_OUT("headless Chromium ($chromium) is missing: install the Debian package chromium (test/check.sh does)") unless $found;
my $fonts = `fc-list :lang=ko 2>/dev/null`;
ok($fonts =~ /\S/, 'a font with Korean glyphs is installed (fonts-nanum), so the labels render');

my $node = PostgreSQL::Test::Cluster->new('dashboard_browser');
$node->init;
$node->start;
sub q1 { return $node->safe_psql('postgres', $_[0]); }
q1('CREATE EXTENSION daily_seongsu');
load_synthetic_station($node, '대시보드역', '2023-01-01', '2025-03-31');
q1("SELECT count(*) FROM unnest(ARRAY['1 day', '7 days']::interval[]) h,
    seongsu.train('대시보드역', '2호선', 'ridge', horizon => h, train_to => '2025-01-31', force => true)");
q1("SELECT sum(seongsu.publish_forecast('대시보드역', '2호선', d::date))
    FROM generate_series(date '2025-02-01', date '2025-03-31', interval '1 day') d");
q1("SELECT count(*) FROM seongsu.evaluate_alerts('2025-04-10 09:00+09')");

# the page as psql saves it (-At: the text as it is)
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $page = "$tmp/dashboard.html";
my $html = q1("SELECT seongsu.dashboard('대시보드역', '2호선', '2025-04-01')");
open(my $fh, '>:raw', $page) or die "cannot write $page: $!";
print $fh $html;
close $fh;
ok(length($html) > 10000, 'the page is saved (' . length($html) . ' bytes)');

my $out = "$PostgreSQL::Test::Utils::tmp_check";
my $json = `python3 $root/test/browser/check_dashboard.py $page $out`;
is($?, 0, 'headless Chromium loaded the page');
# (read as bytes, like this file's literals)
my $dom = eval { JSON::PP->new->decode($json) } // {};

is_deeply($dom->{sections}, [qw(forecast actuals accuracy drift models quality freshness alerts pipeline runs)], 'every panel, in order');
is($dom->{svgs}{'forecast-daily'}{rects}, 7, 'the next 7 days as bars');
is($dom->{svgs}{'forecast-daily'}{lines}, 7, 'each with its 90% interval');
is($dom->{svgs}{'forecast-hourly'}{rects}, 7 * 24, 'an hourly crowd level for each hour of the 7 days');
is($dom->{svgs}{'actuals-chart'}{polylines}, 2, 'actuals and issued forecasts as lines');
is($dom->{svgs}{'actuals-chart'}{polygons}, 1, 'the interval as a band');
cmp_ok($dom->{tables} // 0, '>=', 6, "tables: $dom->{tables}");
cmp_ok($dom->{rows} // 0, '>=', 30, "table rows: $dom->{rows}");
is($dom->{scripts}, 0, 'no script');
is_deeply($dom->{external}, [], 'nothing that would fetch');
is($dom->{h1}, '대시보드역 2호선 혼잡도 예보', 'the Korean heading');
is_deeply([ @{ $dom->{legend} // [] }[0 .. 3] ], [qw(여유 보통 혼잡 매우혼잡)], 'the Korean level legend');
is_deeply($dom->{console}, [], 'no console or script error');
for my $shot (qw(dashboard.png dashboard-phone.png))
{
	my ($path, $bytes) = @{ $dom->{screenshots}{$shot} // [ '', 0 ] };
	my $magic = '';
	if (open(my $png, '<:raw', $path)) { read($png, $magic, 8); close $png; }
	ok($bytes > 20000 && $magic eq "\x89PNG\r\n\x1a\n", "screenshot $path ($bytes bytes)");
}
note("screenshots: $out/dashboard.png, $out/dashboard-phone.png");

# The console check can fail: a page whose script throws is caught.
my $broken = "$tmp/broken.html";
open($fh, '>:raw', $broken) or die;
print $fh '<!DOCTYPE html><html><body><script>undefinedFunction();</script></body></html>';
close $fh;
my $probe = eval { JSON::PP->new->decode(`python3 $root/test/browser/check_dashboard.py $broken $tmp/probe --dom-only`) } // {};
ok(@{ $probe->{console} // [] } > 0 && $probe->{scripts} == 1, 'a throwing script is seen: ' . ($probe->{console}[0] // 'nothing'));

$node->stop;
done_testing();
