-- The calendar on the real KASI responses (../shared/data, staged by
-- test/check.sh and passed as regress.data_dir): the same questions as the
-- core test features.sql asks of the hand-written fixtures, with the same
-- answers.
SET client_min_messages = warning;
SELECT current_setting('regress.data_dir') AS d \gset
SELECT sum(seongsu.import_file('kasi_holidays', format('%s/holidays/kasi_getRestDeInfo/%s/%s.json', :'d', y, lpad(m::text, 2, '0')))) >= 0 AS imported
FROM generate_series(2014, 2025) y, generate_series(1, 12) m;
SELECT count(*) AS holidays_2014_2025 FROM seongsu.holidays WHERE day BETWEEN '2014-01-01' AND '2025-12-31';

-- 설날 2024: Fri 02-09 .. Mon 02-12 (substitute) is one block of 4 days off.
SELECT kst_date, iso_dow, is_holiday, holiday_name, is_substitute, is_day_off, block_len, block_pos, in_seollal, day_type
FROM generate_series(timestamptz '2024-02-08 12:00+09', '2024-02-13 12:00+09', '1 day') t, seongsu.calendar_features(t);
-- 2015-08-14 temporary holiday (seeded), Friday: a 3-day block with the weekend.
SELECT kst_date, holiday_name, is_temporary, block_len, block_pos, days_since_holiday
FROM seongsu.calendar_features('2015-08-14 09:00+09'), LATERAL (SELECT 1) x;
SELECT kst_date, is_holiday, block_len, block_pos FROM seongsu.calendar_features('2015-08-16 09:00+09');
-- 2017-10-03 carries two names; 2020-08-15 광복절 fell on a Saturday.
SELECT holiday_name, block_len FROM seongsu.calendar_features('2017-10-03 09:00+09');
SELECT iso_dow, is_weekend, is_holiday, holiday_name FROM seongsu.calendar_features('2020-08-15 09:00+09');
-- A bridge day: Wed 2024-10-02 between 10-01 (temporary holiday) and 10-03 (개천절).
SELECT kst_date, is_bridge, day_before_off, day_after_off, days_to_off, days_since_off
FROM seongsu.calendar_features('2024-10-02 09:00+09');
-- Distances on an ordinary Wednesday, and an hour after midnight KST.
SELECT kst_date, hour, days_to_off, days_since_off, days_to_holiday, days_since_holiday FROM seongsu.calendar_features('2024-06-19 23:30+09');
SELECT kst_date, hour FROM seongsu.calendar_features('2024-06-19 15:30+00');
SELECT seongsu.is_holiday('2024-02-12'), seongsu.is_holiday('2024-02-10'), seongsu.is_holiday('2024-02-13');
-- Same answers whatever the session TimeZone.
SET TimeZone = 'America/New_York';
SELECT kst_date, hour, is_holiday FROM seongsu.calendar_features('2024-02-12 08:00+09');
RESET TimeZone;

