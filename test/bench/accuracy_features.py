#!/usr/bin/python3
"""Daily feature rows for the accuracy anchors, computed in Python from the
raw tables (test/bench/accuracy.sh dumps them with psql; used by
accuracy_anchors.py, not run on its own).

Reads, from a folder:
  daily.csv     day, passengers               (seongsu.ridership_daily of the station)
  holidays.csv  day, name, kind, is_holiday   (seongsu.holidays)
  weather.csv   source, day, temp_mean_c, precip_mm, snow_cm   (seongsu.weather_daily)

Definitions (t = the target day, H = the horizon in days, c = t - H = the
latest day whose observation a row may use):
  day off      Saturday, Sunday or a public holiday (holidays.is_holiday).
  special day  a working day on which most offices close although it is no
               public holiday: 근로자의 날 (May 1).  Not a day off; its own kind.
  kind         0 working day, 1 Saturday, 2 Sunday, 3 public holiday (any
               weekday), 4 special day.
  block        a maximal run of days off; a lunar block is one that holds a
               설날 or 추석 day.
  level L      the mean of the observed working days (kind 0) in [c-27, c];
               rows without one are not used.  The target is y(t) / L and
               every count feature is divided by the same L.
  own ratio    r(d) = y(d) / level of the 28 days ending at d-1: how a day
               compares with the working days just before it.
"""
import csv
import datetime as dt
import math
import os

import numpy as np

LAGS = (1, 2, 3, 7, 14, 21, 28, 364)
KINDS = ('working day', 'Saturday', 'Sunday', 'holiday', 'special day')
K_WORK, K_SAT, K_SUN, K_HOL, K_SPECIAL = range(5)
CAP_OFF, CAP_HOL, CAP_LUNAR = 7, 14, 5
COVID = (dt.date(2020, 2, 18), dt.date(2022, 4, 17))


def _window_mean(values, ok, width):
    """Mean of values[j] over ok j in [i-width+1, i], per i (NaN when none)."""
    v = np.where(ok, values, 0.0)
    cs = np.concatenate([[0.0], np.cumsum(v)])
    cc = np.concatenate([[0], np.cumsum(ok.astype(int))])
    i = np.arange(len(values))
    lo = np.maximum(i - width + 1, 0)
    s = cs[i + 1] - cs[lo]
    c = cc[i + 1] - cc[lo]
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(c > 0, s / np.maximum(c, 1), np.nan), c


class Raw:
    """The station's daily series, the holidays and the weather on one day axis."""

    def __init__(self, folder, first='2013-01-01', last='2026-12-31'):
        self.o0 = dt.date.fromisoformat(first).toordinal()
        n = dt.date.fromisoformat(last).toordinal() - self.o0 + 1
        self.n = n
        self.dates = [dt.date.fromordinal(self.o0 + i) for i in range(n)]
        self.iso = np.array([d.isoweekday() for d in self.dates])
        self.month = np.array([d.month for d in self.dates])
        self.dom = np.array([d.day for d in self.dates])
        self.y = np.full(n, np.nan)
        with open(os.path.join(folder, 'daily.csv'), newline='') as f:
            for r in csv.DictReader(f):
                i = self.index(r['day'])
                if 0 <= i < n and r['passengers'] != '':
                    self.y[i] = float(r['passengers'])
        self.hol = np.zeros(n, bool)
        self.seollal = np.zeros(n, bool)
        self.chuseok = np.zeros(n, bool)
        self.substitute = np.zeros(n, bool)
        self.temporary = np.zeros(n, bool)
        self.election = np.zeros(n, bool)
        with open(os.path.join(folder, 'holidays.csv'), newline='') as f:
            for r in csv.DictReader(f):
                i = self.index(r['day'])
                if not (0 <= i < n) or r['is_holiday'] not in ('t', 'true', '1'):
                    continue
                self.hol[i] = True
                self.seollal[i] |= '설날' in r['name']
                self.chuseok[i] |= '추석' in r['name']
                self.substitute[i] |= r['kind'] == 'substitute'
                self.temporary[i] |= r['kind'] == 'temporary'
                self.election[i] |= r['kind'] == 'election'
        # weather: per column the KMA value, else Open-Meteo's (as features() does); no climatology
        w = {}
        with open(os.path.join(folder, 'weather.csv'), newline='') as f:
            for r in csv.DictReader(f):
                i = self.index(r['day'])
                if 0 <= i < n:
                    pri = 0 if r['source'].startswith('kma') else 1 if r['source'] == 'open-meteo' else None
                    if pri is not None:
                        w.setdefault(i, {})[pri] = r
        self.temp = np.full(n, np.nan)
        self.precip = np.full(n, np.nan)
        self.snow = np.full(n, np.nan)
        for i, by in w.items():
            for arr, col in ((self.temp, 'temp_mean_c'), (self.precip, 'precip_mm'), (self.snow, 'snow_cm')):
                for pri in (0, 1):
                    if pri in by and by[pri][col] != '':
                        arr[i] = float(by[pri][col])
                        break
        self._calendar()
        self._levels()

    def index(self, day):
        """Index of an ISO day on the day axis."""
        return dt.date.fromisoformat(day[:10]).toordinal() - self.o0

    def day(self, i):
        """ISO day of an index."""
        return self.dates[i].isoformat()

    def _calendar(self):
        """Kinds of day, blocks of days off, holiday neighbours and distances, season."""
        n = self.n
        self.weekend = self.iso >= 6
        self.off = self.weekend | self.hol
        self.special = (self.month == 5) & (self.dom == 1) & ~self.off
        self.kind = np.where(self.hol, K_HOL, np.where(self.iso == 6, K_SAT, np.where(
            self.iso == 7, K_SUN, np.where(self.special, K_SPECIAL, K_WORK))))
        self.working = self.kind == K_WORK
        # blocks of days off
        self.block_len = np.zeros(n, int)
        self.block_pos = np.zeros(n, int)
        self.block_pos_end = np.zeros(n, int)
        self.block_hol = np.zeros(n, bool)
        self.block_lunar = np.zeros(n, int)        # 0 none, 1 설날, 2 추석
        starts = []                                 # (start, end, has_holiday, lunar)
        i = 0
        while i < n:
            if not self.off[i]:
                i += 1
                continue
            j = i
            while j + 1 < n and self.off[j + 1]:
                j += 1
            has_hol = bool(self.hol[i:j + 1].any())
            lunar = 1 if self.seollal[i:j + 1].any() else 2 if self.chuseok[i:j + 1].any() else 0
            for k in range(i, j + 1):
                self.block_len[k] = j - i + 1
                self.block_pos[k] = k - i + 1
                self.block_pos_end[k] = j - k + 1
                self.block_hol[k] = has_hol
                self.block_lunar[k] = lunar
            starts.append((i, j, has_hol, lunar))
            i = j + 1
        nxt = np.roll(self.off, -1)
        prv = np.roll(self.off, 1)
        nxt[-1] = prv[0] = False
        self.day_before_off = ~self.off & nxt
        self.day_after_off = ~self.off & prv
        self.bridge = self.day_before_off & self.day_after_off
        hn = np.roll(self.hol, -1)
        hp = np.roll(self.hol, 1)
        hn[-1] = hp[0] = False
        self.before_holiday = ~self.hol & hn
        self.after_holiday = ~self.hol & hp
        bn = np.roll(self.block_hol, -1)
        bp = np.roll(self.block_hol, 1)
        bn[-1] = bp[0] = False
        self.before_hol_block = ~self.off & bn
        self.after_hol_block = ~self.off & bp
        # distances (capped), and the travel days around 설날/추석 blocks
        self.days_to_off = np.full(n, CAP_OFF)
        self.days_since_off = np.full(n, CAP_OFF)
        self.days_to_hol = np.full(n, CAP_HOL)
        self.days_since_hol = np.full(n, CAP_HOL)
        self.lunar_to = np.zeros(n, int)        # working days: days until a lunar block starts (1..5), else 0
        self.lunar_since = np.zeros(n, int)     # working days: days since a lunar block ended (1..5), else 0
        self.lunar_near = np.zeros(n, int)      # which lunar block is near: 1 설날, 2 추석
        last_off = last_hol = -10 ** 6
        for i in range(n):
            if self.off[i]:
                last_off = i
            if self.hol[i]:
                last_hol = i
            self.days_since_off[i] = min(i - last_off, CAP_OFF)
            self.days_since_hol[i] = min(i - last_hol, CAP_HOL)
        next_off = next_hol = 10 ** 6
        for i in range(n - 1, -1, -1):
            if self.off[i]:
                next_off = i
            if self.hol[i]:
                next_hol = i
            self.days_to_off[i] = min(next_off - i, CAP_OFF)
            self.days_to_hol[i] = min(next_hol - i, CAP_HOL)
        for (a, b, _, lunar) in starts:
            if not lunar:
                continue
            for k in range(1, CAP_LUNAR + 1):
                if a - k >= 0 and not self.off[a - k] and self.lunar_to[a - k] == 0:
                    self.lunar_to[a - k] = k
                    self.lunar_near[a - k] = lunar
                if b + k < n and not self.off[b + k] and self.lunar_since[b + k] == 0:
                    self.lunar_since[b + k] = k
                    self.lunar_near[b + k] = lunar
        doy = np.array([d.timetuple().tm_yday for d in self.dates])
        self.doy_sin = np.sin(2 * np.pi * (doy - 1) / 365.25)
        self.doy_cos = np.cos(2 * np.pi * (doy - 1) / 365.25)
        mdays = np.array([(dt.date(d.year + (d.month == 12), d.month % 12 + 1, 1) - dt.timedelta(days=1)).day
                          for d in self.dates])
        self.dom_end = mdays - self.dom + 1
        self.covid = np.array([COVID[0] <= d <= COVID[1] for d in self.dates])

    def _levels(self):
        """The 28- and 91-day working-day levels at every cutoff, and each day's own ratio."""
        obs = ~np.isnan(self.y)
        self.obs = obs
        wok = obs & self.working
        self.lv28, _ = _window_mean(self.y, wok, 28)
        self.lv91, _ = _window_mean(self.y, wok, 91)
        prev = np.concatenate([[np.nan], self.lv28[:-1]])
        with np.errstate(invalid='ignore', divide='ignore'):
            self.own = self.y / prev                # r(d): the day against the level before it
        # for each kind, the observed days of that kind with an own ratio (sorted)
        self.kind_days = [np.flatnonzero(obs & (self.kind == k) & np.isfinite(self.own)) for k in range(5)]

    def kind_ratio(self, cutoff, kind, count=4, max_age=3 * 366):
        """Mean own ratio of the last `count` observed days of a kind at or before cutoff (per row)."""
        days = self.kind_days[kind]
        out = np.full(len(cutoff), np.nan)
        pos = np.searchsorted(days, cutoff, side='right')
        for r, (c, p) in enumerate(zip(cutoff, pos)):
            sel = days[max(0, p - count):p]
            sel = sel[sel >= c - max_age]
            if len(sel):
                out[r] = self.own[sel].mean()
        return out


def same_weekday(raw, t, H, count, skip_holidays, search=12):
    """Mean of the last `count` observed same-weekday days at least H days back
    (skip_holidays: leaving out public holidays and special days, looking back up
    to `search` weeks); NaN when none."""
    kmin = (H + 6) // 7
    out = np.full(len(t), np.nan)
    for r, ti in enumerate(t):
        vals = []
        for k in range(kmin, kmin + (search if skip_holidays else count)):
            j = ti - 7 * k
            if j < 0:
                break
            if skip_holidays and (raw.hol[j] or raw.special[j]):
                continue
            if not math.isnan(raw.y[j]):
                vals.append(raw.y[j])
            if skip_holidays and len(vals) == count:
                break
        if vals:
            out[r] = float(np.mean(vals))
    return out


def _roll_stats(raw, cut, width):
    """Mean, sd, min and max of the observed days in [c - width + 1, c], per cutoff c."""
    y = raw.y
    m = np.full((len(cut), 4), np.nan)
    for r, c in enumerate(cut):
        w = y[max(0, c - width + 1):c + 1]
        w = w[~np.isnan(w)]
        if len(w):
            m[r] = (w.mean(), w.std(ddof=1) if len(w) > 1 else np.nan, w.min(), w.max())
    return m


def build(raw, H, first_day=None, last_day=None):
    """Feature rows for the days [first_day, last_day] at horizon H (days).

    Returns (X, names, info): X[rows, features] (NaN = missing), and info with
    per-row arrays: 'day' (index on raw's axis), 'date' (ISO), 'y', 'level',
    'usable' (observed target and a level > 0), 'kind'."""
    lo = raw.index(first_day) if first_day else 0
    hi = raw.index(last_day) if last_day else raw.n - 1
    t = np.arange(max(lo, 400), hi + 1)
    c = t - H
    L = raw.lv28[c]
    cols = {}

    def put(name, v):
        """Add a feature column."""
        cols[name] = np.asarray(v, dtype=float)

    # calendar of the target day
    put('dow', raw.iso[t])
    put('kind', raw.kind[t])
    for k in range(1, 8):
        put(f'dow_{k}', raw.iso[t] == k)
    for k, nm in ((K_SAT, 'sat'), (K_SUN, 'sun'), (K_HOL, 'holiday'), (K_SPECIAL, 'special')):
        put(f'is_{nm}', raw.kind[t] == k)
    put('is_off', raw.off[t])
    put('is_substitute', raw.substitute[t])
    put('is_temporary', raw.temporary[t])
    put('is_election', raw.election[t])
    put('block_len', raw.block_len[t])
    put('block_pos', raw.block_pos[t])
    put('block_pos_end', raw.block_pos_end[t])
    put('block_has_holiday', raw.block_hol[t])
    put('in_seollal', raw.block_lunar[t] == 1)
    put('in_chuseok', raw.block_lunar[t] == 2)
    put('lunar_pos', np.where(raw.block_lunar[t] > 0, raw.block_pos[t], 0))
    put('lunar_pos_end', np.where(raw.block_lunar[t] > 0, raw.block_pos_end[t], 0))
    put('lunar_days_to', raw.lunar_to[t])
    put('lunar_days_since', raw.lunar_since[t])
    put('lunar_near_seollal', raw.lunar_near[t] == 1)
    put('day_before_off', raw.day_before_off[t])
    put('day_after_off', raw.day_after_off[t])
    put('bridge', raw.bridge[t])
    put('before_holiday', raw.before_holiday[t])
    put('after_holiday', raw.after_holiday[t])
    put('before_holiday_block', raw.before_hol_block[t])
    put('after_holiday_block', raw.after_hol_block[t])
    put('days_to_off', raw.days_to_off[t])
    put('days_since_off', raw.days_since_off[t])
    put('days_to_holiday', raw.days_to_hol[t])
    put('days_since_holiday', raw.days_since_hol[t])
    put('month', raw.month[t])
    put('day_of_month', raw.dom[t])
    put('days_to_month_end', raw.dom_end[t])
    put('doy_sin', raw.doy_sin[t])
    put('doy_cos', raw.doy_cos[t])
    put('covid', raw.covid[t])
    # level, trend and the current regime of each kind of day
    with np.errstate(invalid='ignore', divide='ignore'):
        put('level91', raw.lv91[c] / L)
        put('yoy', L / raw.lv28[np.maximum(c - 364, 0)])
        sat = raw.kind_ratio(c, K_SAT)
        sun = raw.kind_ratio(c, K_SUN)
        hol = raw.kind_ratio(c, K_HOL)
        put('ratio_sat', sat)
        put('ratio_sun', sun)
        put('ratio_holiday', hol)
        mine = np.full(len(t), 1.0)
        k = raw.kind[t]
        mine = np.where(k == K_SAT, sat, np.where(k == K_SUN, sun, np.where(k == K_HOL, hol, mine)))
        spec = raw.kind_ratio(c, K_SPECIAL, count=2, max_age=5 * 366)
        mine = np.where(k == K_SPECIAL, spec, mine)
        put('ratio_kind', mine)
        # lags (only those at least H days back), and what kind of day they were
        for lag in LAGS:
            if lag < H:
                continue
            j = t - lag
            put(f'lag_{lag}', raw.y[j] / L)
            put(f'lag_{lag}_off', raw.off[j] | raw.special[j])
            put(f'lag_{lag}_holiday', raw.hol[j])
        put('ly_own', raw.own[t - 364])
        put('sdw4', same_weekday(raw, t, H, 4, False) / L)
        put('sdw8', same_weekday(raw, t, H, 8, False) / L)
        put('sdw4_nohol', same_weekday(raw, t, H, 4, True) / L)
        for w in (7, 28):
            s = _roll_stats(raw, c, w)
            for q, nm in enumerate(('mean', 'std', 'min', 'max')):
                put(f'roll{w}_{nm}', s[:, q] / L)
    put('temp', raw.temp[t])
    put('precip', raw.precip[t])
    put('snow', raw.snow[t])
    names = list(cols)
    X = np.column_stack([cols[k] for k in names])
    y = raw.y[t]
    usable = ~np.isnan(y) & np.isfinite(L) & (L > 0)
    info = {'day': t, 'date': np.array([raw.day(i) for i in t]), 'y': y, 'level': L,
            'usable': usable, 'kind': raw.kind[t]}
    return X, names, info


def report_kind(raw, t):
    """Kind of day for the accuracy tables: 0 working day, 1 Saturday, 2 Sunday,
    3 holiday or special day, 4 holiday neighbour (a day that is no holiday but
    is next to one, or in a block of days off that holds one)."""
    k = raw.kind[t]
    hol = (k == K_HOL) | (k == K_SPECIAL)
    near = ~hol & (raw.block_hol[t] | raw.before_holiday[t] | raw.after_holiday[t]
                   | raw.before_hol_block[t] | raw.after_hol_block[t])
    return np.where(hol, 3, np.where(near, 4, np.where(k == K_SAT, 1, np.where(k == K_SUN, 2, 0))))


REPORT_KINDS = ('working day', 'Saturday', 'Sunday', 'holiday/special', 'holiday neighbour')
