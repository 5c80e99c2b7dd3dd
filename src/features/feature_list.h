/*
 * feature_list.h — every column of seongsu.features, in order, written once.
 *
 * X(name, kind, flags, description): the column's name (as SQL returns it),
 * its kind (FK_*: the SQL type and how a model reads it), flags (F_MODEL: a
 * column models learn from; F_CALENDAR: also a column of
 * seongsu.calendar_features; F_SMOOTH: a slowly moving summary of the
 * recent past — rolling statistics, levels, regimes — which drift
 * monitoring compares as kind 'level', since its values on consecutive
 * days are not independent) and what it is.  From this list come the
 * column numbers the C code uses (FCOL_<name>), the SQL output lists of
 * seongsu.features and seongsu.calendar_features (the install script builds
 * them from seongsu.feature_columns()), the model matrix's columns and their
 * names.
 *
 * The counts (COUNT_FEATURES: lags, rolling and same-weekday statistics,
 * the 91-day level, in passengers) appear twice: as they are (not model
 * inputs) and divided by level28, the row's level, as <name>_ratio (model
 * inputs: the target of every model is passengers / level28 too).  Columns
 * computed in a loop are consecutive: the lags (lag_1d .. lag_364d), their
 * _ratio, _off and _holiday columns, and dev_lag_1d .. dev_lag_7d.
 * docs/features.md defines every column.
 */
#ifndef SEONGSU_FEATURE_LIST_H
#define SEONGSU_FEATURE_LIST_H

/* The counts, each C(X, name, 0, description). */
#define COUNT_FEATURES(C, X) \
	C(X, lag_1d, 0, "passengers 1 day before (NULL when not observed or within the horizon)") \
	C(X, lag_2d, 0, "passengers 2 days before") \
	C(X, lag_3d, 0, "passengers 3 days before") \
	C(X, lag_7d, 0, "passengers 7 days before") \
	C(X, lag_14d, 0, "passengers 14 days before") \
	C(X, lag_21d, 0, "passengers 21 days before") \
	C(X, lag_28d, 0, "passengers 28 days before") \
	C(X, lag_364d, 0, "passengers 364 days before (the same weekday last year)") \
	C(X, roll7_mean, F_SMOOTH, "mean passengers of the observed days of the 7 days ending at the cutoff") \
	C(X, roll7_std, F_SMOOTH, "their standard deviation") \
	C(X, roll7_min, F_SMOOTH, "their minimum") \
	C(X, roll7_max, F_SMOOTH, "their maximum") \
	C(X, roll28_mean, F_SMOOTH, "mean passengers of the observed days of the 28 days ending at the cutoff") \
	C(X, roll28_std, F_SMOOTH, "their standard deviation") \
	C(X, roll28_min, F_SMOOTH, "their minimum") \
	C(X, roll28_max, F_SMOOTH, "their maximum") \
	C(X, sdw4_mean, 0, "mean of the same weekday, the last 4 weeks at least the horizon back") \
	C(X, sdw8_mean, 0, "the same over 8 weeks") \
	C(X, sdw4_nohol_mean, 0, "mean of the last 4 observed same weekdays at least the horizon back that are no public holiday nor special day (up to 12 weeks back)") \
	C(X, level91, F_SMOOTH, "mean passengers of the working days of the 91 days ending at the cutoff")

#define COUNT_RAW(X, name, flags, description) X(name, FK_F8, flags, description)
#define COUNT_RATIO(X, name, flags, description) X(name##_ratio, FK_F8, F_MODEL | (flags), description "; divided by level28")

#define FEATURE_LIST(X) \
	X(ts, FK_TS, 0, "start of the row's KST day or hour") \
	X(kst_date, FK_DATE, F_CALENDAR, "service day (hours 00-03 belong to the day before)") \
	X(hour, FK_INT, F_CALENDAR, "KST hour (0 for daily rows)") \
	X(target, FK_F8, 0, "passengers: the value to predict (NULL when not observed)") \
	X(iso_dow, FK_INT, F_MODEL | F_CALENDAR, "ISO weekday, 1 Monday .. 7 Sunday") \
	X(kind, FK_INT, F_MODEL | F_CALENDAR, "kind of day: 0 working day, 1 Saturday, 2 Sunday, 3 public holiday, 4 special day") \
	X(dow_1, FK_BOOL, F_MODEL | F_CALENDAR, "a Monday") \
	X(dow_2, FK_BOOL, F_MODEL | F_CALENDAR, "a Tuesday") \
	X(dow_3, FK_BOOL, F_MODEL | F_CALENDAR, "a Wednesday") \
	X(dow_4, FK_BOOL, F_MODEL | F_CALENDAR, "a Thursday") \
	X(dow_5, FK_BOOL, F_MODEL | F_CALENDAR, "a Friday") \
	X(dow_6, FK_BOOL, F_MODEL | F_CALENDAR, "a Saturday") \
	X(dow_7, FK_BOOL, F_MODEL | F_CALENDAR, "a Sunday") \
	X(is_weekend, FK_BOOL, F_CALENDAR, "Saturday or Sunday") \
	X(is_saturday, FK_BOOL, F_MODEL | F_CALENDAR, "kind 1: a Saturday that is no public holiday") \
	X(is_sunday, FK_BOOL, F_MODEL | F_CALENDAR, "kind 2: a Sunday that is no public holiday") \
	X(is_holiday, FK_BOOL, F_MODEL | F_CALENDAR, "kind 3: a public holiday (seongsu.holidays), weekends included") \
	X(is_special, FK_BOOL, F_MODEL | F_CALENDAR, "kind 4: a special day, 근로자의 날 (May 1 on a weekday that is no public holiday)") \
	X(holiday_name, FK_TEXT, F_CALENDAR, "the holiday's names, joined by \", \"") \
	X(is_day_off, FK_BOOL, F_MODEL | F_CALENDAR, "weekend or public holiday") \
	X(is_substitute, FK_BOOL, F_MODEL | F_CALENDAR, "a substitute holiday (대체공휴일)") \
	X(is_temporary, FK_BOOL, F_MODEL | F_CALENDAR, "a temporary holiday (임시공휴일)") \
	X(is_election, FK_BOOL, F_MODEL | F_CALENDAR, "an election day") \
	X(block_len, FK_INT, F_MODEL | F_CALENDAR, "length of the run of days off the day is in (0: not a day off)") \
	X(block_pos, FK_INT, F_MODEL | F_CALENDAR, "position of the day in that run, from 1 at its start") \
	X(block_pos_end, FK_INT, F_MODEL | F_CALENDAR, "position of the day in that run, from 1 at its end") \
	X(block_has_holiday, FK_BOOL, F_MODEL | F_CALENDAR, "that run holds a public holiday") \
	X(in_seollal, FK_BOOL, F_MODEL | F_CALENDAR, "in a run of days off that holds 설날") \
	X(in_chuseok, FK_BOOL, F_MODEL | F_CALENDAR, "in a run of days off that holds 추석 (and no 설날)") \
	X(lunar_pos, FK_INT, F_MODEL | F_CALENDAR, "block_pos in a 설날/추석 run, else 0") \
	X(lunar_pos_end, FK_INT, F_MODEL | F_CALENDAR, "block_pos_end in a 설날/추석 run, else 0") \
	X(lunar_days_to, FK_INT, F_MODEL | F_CALENDAR, "not a day off: days until a 설날/추석 run starts, if at most 5, else 0") \
	X(lunar_days_since, FK_INT, F_MODEL | F_CALENDAR, "not a day off: days since a 설날/추석 run ended, if at most 5, else 0") \
	X(lunar_near_seollal, FK_BOOL, F_MODEL | F_CALENDAR, "the run of lunar_days_to (else lunar_days_since) is 설날's") \
	X(day_before_off, FK_BOOL, F_MODEL | F_CALENDAR, "not a day off, and the next day is") \
	X(day_after_off, FK_BOOL, F_MODEL | F_CALENDAR, "not a day off, and the previous day was") \
	X(is_bridge, FK_BOOL, F_MODEL | F_CALENDAR, "not a day off, with days off on both sides") \
	X(before_holiday, FK_BOOL, F_MODEL | F_CALENDAR, "no public holiday, and the next day is one") \
	X(after_holiday, FK_BOOL, F_MODEL | F_CALENDAR, "no public holiday, and the previous day was one") \
	X(before_holiday_block, FK_BOOL, F_MODEL | F_CALENDAR, "not a day off, and the next day is in a run of days off holding a public holiday") \
	X(after_holiday_block, FK_BOOL, F_MODEL | F_CALENDAR, "not a day off, and the previous day was in such a run") \
	X(days_to_off, FK_INT, F_MODEL | F_CALENDAR, "days to the next day off (0 on days off, capped at 7)") \
	X(days_since_off, FK_INT, F_MODEL | F_CALENDAR, "days since the last day off (capped at 7)") \
	X(days_to_holiday, FK_INT, F_MODEL | F_CALENDAR, "days to the next public holiday (capped at 14)") \
	X(days_since_holiday, FK_INT, F_MODEL | F_CALENDAR, "days since the last public holiday (capped at 14)") \
	X(month, FK_INT, F_MODEL | F_CALENDAR, "month, 1 .. 12") \
	X(day_of_month, FK_INT, F_MODEL | F_CALENDAR, "day of the month, 1 .. 31") \
	X(days_to_month_end, FK_INT, F_MODEL | F_CALENDAR, "last day of the month - day of the month + 1") \
	X(doy_sin, FK_F8, F_MODEL | F_CALENDAR, "sine of the day of year") \
	X(doy_cos, FK_F8, F_MODEL | F_CALENDAR, "cosine of the day of year") \
	X(hour_sin, FK_F8, F_CALENDAR, "sine of the hour of day") \
	X(hour_cos, FK_F8, F_CALENDAR, "cosine of the hour of day") \
	X(day_type, FK_INT, F_CALENDAR, "hour-share day type: 0 working Monday, 1 working Tuesday-Thursday, 2 working Friday, 3 Saturday, 4 Sunday, 5 public holiday outside a 설날/추석 run, 6 day off in a 설날/추석 run, 7 special day") \
	X(holiday_id, FK_INT, F_MODEL | F_CALENDAR, "which holiday (0 신정 .. 17 substitute, 18 근로자의 날), -1 on other days") \
	X(covid_level, FK_F8, F_MODEL, "1 from 2020-02-18 to 2022-04-17, else 0") \
	COUNT_FEATURES(COUNT_RAW, X) \
	X(level28, FK_F8, 0, "the row's level: mean passengers of the working days (kind 0) of the 28 days ending at the cutoff") \
	X(temp_mean_c, FK_F8, F_MODEL, "the day's mean temperature, °C (observed, else forecast, else climatology)") \
	X(precip_mm, FK_F8, F_MODEL, "the day's precipitation, mm") \
	X(snow_cm, FK_F8, F_MODEL, "the day's snowfall, cm") \
	X(weather_source, FK_TEXT, 0, "observed, forecast or climatology") \
	X(missing_mask, FK_INT, 0, "a bit per input that was not observed") \
	X(target_ratio, FK_F8, 0, "target / level28") \
	COUNT_FEATURES(COUNT_RATIO, X) \
	X(lag_1d_off, FK_BOOL, F_MODEL, "the day 1 day before was a day off or a special day (NULL within the horizon)") \
	X(lag_2d_off, FK_BOOL, F_MODEL, "the same, 2 days before") \
	X(lag_3d_off, FK_BOOL, F_MODEL, "the same, 3 days before") \
	X(lag_7d_off, FK_BOOL, F_MODEL, "the same, 7 days before") \
	X(lag_14d_off, FK_BOOL, F_MODEL, "the same, 14 days before") \
	X(lag_21d_off, FK_BOOL, F_MODEL, "the same, 21 days before") \
	X(lag_28d_off, FK_BOOL, F_MODEL, "the same, 28 days before") \
	X(lag_364d_off, FK_BOOL, F_MODEL, "the same, 364 days before") \
	X(lag_1d_holiday, FK_BOOL, F_MODEL, "the day 1 day before was a public holiday (NULL within the horizon)") \
	X(lag_2d_holiday, FK_BOOL, F_MODEL, "the same, 2 days before") \
	X(lag_3d_holiday, FK_BOOL, F_MODEL, "the same, 3 days before") \
	X(lag_7d_holiday, FK_BOOL, F_MODEL, "the same, 7 days before") \
	X(lag_14d_holiday, FK_BOOL, F_MODEL, "the same, 14 days before") \
	X(lag_21d_holiday, FK_BOOL, F_MODEL, "the same, 21 days before") \
	X(lag_28d_holiday, FK_BOOL, F_MODEL, "the same, 28 days before") \
	X(lag_364d_holiday, FK_BOOL, F_MODEL, "the same, 364 days before") \
	X(yoy, FK_F8, F_MODEL | F_SMOOTH, "year-on-year growth: level28 / the level28 of the cutoff 364 days earlier") \
	X(ratio_saturday, FK_F8, F_MODEL | F_SMOOTH, "the current Saturday regime: mean own ratio of the last 4 observed Saturdays at the cutoff (3 years back at most)") \
	X(ratio_sunday, FK_F8, F_MODEL | F_SMOOTH, "the same for Sundays") \
	X(ratio_holiday, FK_F8, F_MODEL | F_SMOOTH, "the same for public holidays") \
	X(ratio_kind, FK_F8, F_MODEL | F_SMOOTH, "ratio_saturday, _sunday or _holiday by the day's kind; for special days the mean own ratio of the last 2 (5 years back at most); 1 on working days") \
	X(ly_own, FK_F8, F_MODEL, "own ratio of the day 364 days before (NULL within the horizon)") \
	X(holiday_last_own, FK_F8, F_MODEL, "own ratio of the latest observed day at the cutoff with the same holiday_id (3 years back at most)") \
	X(holiday_last_rel, FK_F8, F_MODEL, "that own ratio / the holiday regime (ratio_holiday) of its day before") \
	X(holiday_expect, FK_F8, F_MODEL, "ratio_holiday * holiday_last_rel") \
	X(dev_lag_1d, FK_F8, F_MODEL, "dev of the day 1 day before: its own ratio / the regime of its kind the day before it (NULL within the horizon)") \
	X(dev_lag_2d, FK_F8, F_MODEL, "the same, 2 days before") \
	X(dev_lag_3d, FK_F8, F_MODEL, "the same, 3 days before") \
	X(dev_lag_7d, FK_F8, F_MODEL, "the same, 7 days before") \
	X(dev_mean7, FK_F8, F_MODEL | F_SMOOTH, "mean dev of the 7 days ending at the cutoff") \
	X(dev_mean28, FK_F8, F_MODEL | F_SMOOTH, "mean dev of the 28 days ending at the cutoff")

#endif							/* SEONGSU_FEATURE_LIST_H */
