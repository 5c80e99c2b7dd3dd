/*
 * feature_list.h — every column of seongsu.features, in order, written once.
 *
 * X(name, kind, flags, description): the column's name (as SQL returns it),
 * its kind (FK_*: the SQL type and how a model reads it), flags (F_MODEL: a
 * column models learn from; F_CALENDAR: also a column of
 * seongsu.calendar_features) and what it is.  From this list come the
 * column numbers the C code uses (FCOL_<name>), the SQL output lists of
 * seongsu.features and seongsu.calendar_features (the install script builds
 * them from seongsu.feature_columns()), the model matrix's columns and their
 * names.  Columns computed in a loop are consecutive: the lags (lag_1d ..
 * lag_364d) and the ratios (target_ratio .. lag_1d_ratio, in the order of
 * FeatureRow's ratio_of).
 */
#ifndef SEONGSU_FEATURE_LIST_H
#define SEONGSU_FEATURE_LIST_H

#define FEATURE_LIST(X) \
	X(ts, FK_TS, 0, "start of the row's KST day or hour") \
	X(kst_date, FK_DATE, F_CALENDAR, "service day (hours 00-03 belong to the day before)") \
	X(hour, FK_INT, F_CALENDAR, "KST hour (0 for daily rows)") \
	X(target, FK_F8, 0, "passengers: the value to predict (NULL when not observed)") \
	X(iso_dow, FK_INT, F_MODEL | F_CALENDAR, "ISO weekday, 1 Monday .. 7 Sunday") \
	X(is_weekend, FK_BOOL, F_MODEL | F_CALENDAR, "Saturday or Sunday") \
	X(is_holiday, FK_BOOL, F_MODEL | F_CALENDAR, "a public holiday (seongsu.holidays)") \
	X(holiday_name, FK_TEXT, F_CALENDAR, "the holiday's names, joined by \", \"") \
	X(is_substitute, FK_BOOL, F_MODEL | F_CALENDAR, "a substitute holiday (대체공휴일)") \
	X(is_temporary, FK_BOOL, F_MODEL | F_CALENDAR, "a temporary holiday (임시공휴일)") \
	X(is_day_off, FK_BOOL, F_MODEL | F_CALENDAR, "weekend or holiday") \
	X(is_bridge, FK_BOOL, F_MODEL | F_CALENDAR, "a working day between days off") \
	X(block_len, FK_INT, F_MODEL | F_CALENDAR, "length of the run of days off the day is in (0: a working day)") \
	X(block_pos, FK_INT, F_MODEL | F_CALENDAR, "position of the day in that run, from 1") \
	X(in_seollal, FK_BOOL, F_MODEL | F_CALENDAR, "in a run of days off that includes 설날") \
	X(in_chuseok, FK_BOOL, F_MODEL | F_CALENDAR, "in a run of days off that includes 추석") \
	X(day_before_off, FK_BOOL, F_MODEL | F_CALENDAR, "the next day is a day off") \
	X(day_after_off, FK_BOOL, F_MODEL | F_CALENDAR, "the previous day was a day off") \
	X(days_to_off, FK_INT, F_MODEL | F_CALENDAR, "days to the next day off (capped at 30)") \
	X(days_since_off, FK_INT, F_MODEL | F_CALENDAR, "days since the last day off (capped at 30)") \
	X(days_to_holiday, FK_INT, F_MODEL | F_CALENDAR, "days to the next holiday (capped at 30)") \
	X(days_since_holiday, FK_INT, F_MODEL | F_CALENDAR, "days since the last holiday (capped at 30)") \
	X(month, FK_INT, F_MODEL | F_CALENDAR, "month, 1 .. 12") \
	X(doy_sin, FK_F8, F_MODEL | F_CALENDAR, "sine of the day of year") \
	X(doy_cos, FK_F8, F_MODEL | F_CALENDAR, "cosine of the day of year") \
	X(hour_sin, FK_F8, F_CALENDAR, "sine of the hour of day") \
	X(hour_cos, FK_F8, F_CALENDAR, "cosine of the hour of day") \
	X(day_type, FK_INT, F_MODEL | F_CALENDAR, "0 Monday, 1 Tuesday-Thursday, 2 Friday, 3 Saturday, 4 Sunday or holiday") \
	X(lag_1d, FK_F8, F_MODEL, "passengers 1 day before (NULL when not observed or within the horizon)") \
	X(lag_2d, FK_F8, F_MODEL, "passengers 2 days before") \
	X(lag_3d, FK_F8, F_MODEL, "passengers 3 days before") \
	X(lag_7d, FK_F8, F_MODEL, "passengers 7 days before") \
	X(lag_14d, FK_F8, F_MODEL, "passengers 14 days before") \
	X(lag_21d, FK_F8, F_MODEL, "passengers 21 days before") \
	X(lag_28d, FK_F8, F_MODEL, "passengers 28 days before") \
	X(lag_364d, FK_F8, F_MODEL, "passengers 364 days before (the same weekday last year)") \
	X(lag_1d_off, FK_BOOL, F_MODEL, "the day before was a day off") \
	X(lag_7d_off, FK_BOOL, F_MODEL, "the day a week before was a day off") \
	X(roll7_mean, FK_F8, F_MODEL, "mean passengers of the 7 days ending at the cutoff") \
	X(roll7_std, FK_F8, F_MODEL, "their standard deviation") \
	X(roll7_min, FK_F8, F_MODEL, "their minimum") \
	X(roll7_max, FK_F8, F_MODEL, "their maximum") \
	X(roll28_mean, FK_F8, F_MODEL, "mean passengers of the 28 days ending at the cutoff") \
	X(roll28_std, FK_F8, F_MODEL, "their standard deviation") \
	X(roll28_min, FK_F8, F_MODEL, "their minimum") \
	X(roll28_max, FK_F8, F_MODEL, "their maximum") \
	X(sdw4_mean, FK_F8, F_MODEL, "mean of the same weekday, last 4 weeks at the cutoff") \
	X(sdw8_mean, FK_F8, F_MODEL, "the same over 8 weeks") \
	X(sdw4_workday_mean, FK_F8, F_MODEL, "the same over 4 weeks, working days only") \
	X(last_year_sdw, FK_F8, F_MODEL, "the same weekday a year (364 days) before") \
	X(level28, FK_F8, F_MODEL, "mean passengers of the working days of the 28 days ending at the cutoff") \
	X(temp_mean_c, FK_F8, F_MODEL, "the day's mean temperature, °C (observed, else forecast, else climatology)") \
	X(precip_mm, FK_F8, F_MODEL, "the day's precipitation, mm") \
	X(snow_cm, FK_F8, F_MODEL, "the day's snowfall, cm") \
	X(weather_source, FK_TEXT, 0, "observed, forecast or climatology") \
	X(covid_level, FK_F8, F_MODEL, "1 from 2020-02-18 to 2022-04-17, else 0") \
	X(missing_mask, FK_INT, 0, "a bit per input that was not observed") \
	X(target_ratio, FK_F8, 0, "target / level28") \
	X(lag_7d_ratio, FK_F8, F_MODEL, "lag_7d / level28") \
	X(sdw4_ratio, FK_F8, F_MODEL, "sdw4_mean / level28") \
	X(sdw4_workday_ratio, FK_F8, F_MODEL, "sdw4_workday_mean / level28") \
	X(last_year_ratio, FK_F8, F_MODEL, "last_year_sdw / level28") \
	X(lag_1d_ratio, FK_F8, 0, "lag_1d / level28")

#endif							/* SEONGSU_FEATURE_LIST_H */
