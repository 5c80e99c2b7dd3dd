#!/usr/bin/python3
"""Anchors and tables for test/bench/accuracy.sh (run by it; not on its own).

Reads, from --dir (accuracy.sh writes them with psql):
  daily.csv, holidays.csv, weather.csv   the raw tables (accuracy_features.py)
  hourly.csv                             service_day, hour, passengers (seongsu.ridership_hourly)
  ours_<from>_h<H>.train                 one line per model of seongsu.train(): algorithm, wall ms
                                         of the train() call, deployed (t/f), target mode, hyperparams
  ours_<from>_h<H>_<algo>.csv            seongsu.evaluate(model, from, to): day, actual, predicted
  ours_hourly.csv                        the hourly exercise: service_day, hour, predicted (predict_crowd)
and prints, for every test window (--windows from:to, trained on every day
before `from`) and horizon, one table on the same test days for every row
(RMSE, MAE, MAPE, ratio to the best anchor), RMSE and MAPE by kind of day with
the best anchor of each kind, a hindsight ceiling (the best weights of our
three learners fitted on the test days: a bound on any rule that weights them), the hourly
exercise, and a summary against the targets of issue 12.

Anchors (features computed here from the raw tables, accuracy_features.py:
the target is passengers / the 28-day working-day level L at t - H, every
count feature is divided by the same L, the full calendar):
  XGBoost hist and scikit-learn HistGradientBoostingRegressor, tuned by
    time-ordered validation inside the training period only: the last two
    half-years before the test window, each predicted by a model fitted on
    every day before it; a small grid of tree shapes and the number of rounds
    (checkpoints) chosen by the pooled RMSE in passengers, then refitted on
    every training day with that many rounds;
  same weekday last week: the latest observed same weekday at least H days back;
  same-weekday mean: the mean of the last 4 observed same weekdays at least
    H days back that are not holidays (nor special days);
  the seed service's LinearRegression on lag_1d = shift(1), lag_7d = shift(7),
    rolling_7d_avg = shift(1).rolling(7).mean() over the *rows* of the observed
    series (its bug), rows with NULLs dropped; at 7 days it still uses
    yesterday's row (as the seed ran it), so it is not a 7-day anchor.
Hourly (April 2023, hours 06-23, models trained to 2023-03-31, one day ahead):
  each daily anchor but the seed (it predicts observed rows only) times hour
  shares (the mean share of each hour over the last 4 complete days of the
  same type before 2023-04-01; types Mon, Tue-Thu, Fri, Sat, Sun/holiday), and
  the same hour last week (the truth of April, as a day-ahead naive may use it).
Tuning runs in --jobs processes (one thread each); about 2 minutes on 2 cores.
"""
import argparse
import csv
import datetime as dt
import json
import math
import multiprocessing
import os
import sys
import time

# One OpenMP thread per process (set before numpy / scikit-learn load it): the
# tuning runs --jobs processes, and spinning OpenMP threads on a busy 2-core
# machine made HistGradientBoosting 20x slower.
os.environ.setdefault('OMP_NUM_THREADS', '1')
import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import accuracy_features as af  # noqa: E402

XGB_ETA, XGB_MAX_ROUNDS = 0.05, 1500
XGB_GRID = [dict(max_depth=3, min_child_weight=1, subsample=0.8, colsample_bytree=0.8),
            dict(max_depth=4, min_child_weight=3, subsample=0.8, colsample_bytree=0.6),
            dict(max_depth=6, min_child_weight=5, subsample=0.8, colsample_bytree=0.5),
            dict(max_depth=8, min_child_weight=10, subsample=0.7, colsample_bytree=0.5)]
HGB_RATE, HGB_MAX_ITER = 0.05, 1000
HGB_GRID = [dict(max_leaf_nodes=7, min_samples_leaf=10), dict(max_leaf_nodes=15, min_samples_leaf=20),
            dict(max_leaf_nodes=31, min_samples_leaf=20), dict(max_leaf_nodes=15, min_samples_leaf=50)]
CHECK_EVERY = 50
OUR_ORDER = ['seasonal_naive', 'ridge', 'random_forest', 'gbdt', 'ensemble']
HOURLY = ('2023-03-31', '2023-04-01', '2023-04-30')
XGB, HGB, WEEK, SDW, SEED = ('XGBoost hist, tuned', 'HistGradientBoosting, tuned', 'same weekday last week',
                             'same-weekday mean (4, no holidays)', 'seed: LinearRegression, row shifts')
SHORT = {XGB: 'XGB', HGB: 'HGB', WEEK: 'week-1', SDW: 'sdw4', SEED: 'seed'}
OUR_SHORT = {'seasonal_naive': 'naive', 'random_forest': 'forest'}
DEPLOYED = ' (deployed by auto)'


def die(msg):
    """Stop with a message on stderr."""
    print(f'accuracy_anchors.py: {msg}', file=sys.stderr)
    sys.exit(1)


def metrics(actual, pred):
    """RMSE, MAE and MAPE (%) of predictions against the actual values."""
    e = pred - actual
    return (float(np.sqrt(np.mean(e ** 2))), float(np.mean(np.abs(e))),
            float(np.mean(np.abs(e) / actual) * 100))


def before(day, n=1):
    """The ISO day n days before an ISO day."""
    return (dt.date.fromisoformat(day) - dt.timedelta(days=n)).isoformat()


# ---------------------------------------------------------------- tuning
def validation_folds(info, train_to, half=182):
    """The last two half-years of the training period: (fit rows, validation rows) masks."""
    u, d = info['usable'], info['date']
    out = []
    for k in (2, 1):
        lo, hi = before(train_to, k * half - 1), before(train_to, (k - 1) * half)
        val = u & (d >= lo) & (d <= hi)
        fit = u & (d < lo)
        if val.sum() >= 30 and fit.sum() >= 200:
            out.append((fit, val))
    if not out:                       # too few recent days: the last 20 % of the training rows
        rows = np.flatnonzero(u & (d <= train_to))
        k = rows[int(len(rows) * 0.8)]
        out.append((u & (np.arange(len(u)) < k), u & (np.arange(len(u)) >= k) & (d <= train_to)))
    return out


def xgb_curve(params, X, y, fit, val, L, checkpoints):
    """SSE in passengers on the validation rows after each checkpoint number of rounds."""
    import xgboost as xgb
    m = xgb.train(params, xgb.DMatrix(X[fit], y[fit], missing=np.nan), checkpoints[-1])
    dv = xgb.DMatrix(X[val], missing=np.nan)
    yv = y[val] * L[val]
    return np.array([np.sum((m.predict(dv, iteration_range=(0, k)) * L[val] - yv) ** 2) for k in checkpoints])


def hgb_model(p, rounds):
    """A HistGradientBoostingRegressor of shape p with a fixed number of rounds (no inner early stopping)."""
    from sklearn.ensemble import HistGradientBoostingRegressor
    return HistGradientBoostingRegressor(learning_rate=HGB_RATE, max_iter=rounds, l2_regularization=1.0,
                                         early_stopping=False, random_state=0, **p)


def hgb_curve(p, X, y, fit, val, L, checkpoints):
    """SSE in passengers on the validation rows after each checkpoint number of iterations."""
    m = hgb_model(p, checkpoints[-1]).fit(X[fit], y[fit])
    yv = y[val] * L[val]
    sse = {}
    for k, pr in enumerate(m.staged_predict(X[val]), start=1):
        if k in checkpoints:
            sse[k] = np.sum((pr * L[val] - yv) ** 2)
    return np.array([sse[k] for k in checkpoints])


def tune_and_fit(task):
    """One anchor on one (window, horizon): tune on the training period, refit, predict the test rows."""
    kind, H, train_to, test_from, test_to = task
    started = time.perf_counter()
    X, names, info = _FEATURES[H]
    u, d = info['usable'], info['date']
    L = info['level']
    y = np.where(u, info['y'] / np.where(u, L, 1), np.nan)
    tr = u & (d <= train_to)
    te = np.isfinite(L) & (L > 0) & (d >= test_from) & (d <= test_to)   # observed or not (hourly)
    folds = validation_folds(info, train_to)
    if kind == 'xgb':
        checkpoints = list(range(CHECK_EVERY, XGB_MAX_ROUNDS + 1, CHECK_EVERY))
        grid = [dict(p, objective='reg:squarederror', tree_method='hist', eta=XGB_ETA, seed=0, nthread=1,
                     verbosity=0) for p in XGB_GRID]
        curve = xgb_curve
    else:
        checkpoints = list(range(CHECK_EVERY, HGB_MAX_ITER + 1, CHECK_EVERY))
        grid = HGB_GRID
        curve = hgb_curve
    nval = sum(int(v.sum()) for _, v in folds)
    best = None
    for gi, p in enumerate(grid):
        sse = sum(curve(p, X, y, fit, val, L, checkpoints) for fit, val in folds)
        k = int(np.argmin(sse))
        if best is None or sse[k] < best[0]:
            best = (sse[k], gi, checkpoints[k])
    _, gi, rounds = best
    tuned = time.perf_counter() - started
    t0 = time.perf_counter()
    if kind == 'xgb':
        import xgboost as xgb
        m = xgb.train(grid[gi], xgb.DMatrix(X[tr], y[tr], missing=np.nan), rounds)
        fit_s = time.perf_counter() - t0
        pred = m.predict(xgb.DMatrix(X[te], missing=np.nan)) * L[te]
        shape = {k: grid[gi][k] for k in XGB_GRID[0]}
    else:
        m = hgb_model(grid[gi], rounds).fit(X[tr], y[tr])
        fit_s = time.perf_counter() - t0
        pred = m.predict(X[te]) * L[te]
        shape = dict(grid[gi])
    note = (', '.join(f'{k}={v}' for k, v in shape.items()) + f', {rounds} rounds; validation RMSE '
            f'{math.sqrt(best[0] / nval):.0f} on {nval} days in {len(folds)} fold(s)')
    return dict(pred=pred, days=d[te], note=note, tune_s=tuned, fit_s=fit_s, rows=int(tr.sum()))


_FEATURES = {}


# ---------------------------------------------------------------- baselines
def seed_model(raw, train_to, test_days):
    """The seed service's LinearRegression on row-shift features (pandas shift semantics)."""
    from sklearn.linear_model import LinearRegression
    idx = np.flatnonzero(raw.obs)
    days = np.array([raw.day(i) for i in idx])
    v = raw.y[idx]
    n = len(v)

    def shift(a, k):
        """pandas' shift(k) of a."""
        out = np.full(n, np.nan)
        out[k:] = a[:n - k]
        return out
    roll7 = np.full(n, np.nan)                      # shift(1).rolling(7).mean()
    for i in range(7, n):
        roll7[i] = v[i - 7:i].mean()
    X = np.column_stack([shift(v, 1), shift(v, 7), roll7])
    ok = ~np.isnan(X).any(axis=1)
    tr = ok & (days <= train_to)
    m = LinearRegression().fit(X[tr], v[tr])
    pred = dict(zip(days[ok], m.predict(X[ok])))
    return np.array([pred.get(x, np.nan) for x in test_days])


def week_naive(raw, t, H):
    """The latest observed same weekday at least H days back (up to 4 weeks further)."""
    out = np.full(len(t), np.nan)
    k0 = (H + 6) // 7
    for r, ti in enumerate(t):
        for k in range(k0, k0 + 4):
            if not math.isnan(raw.y[ti - 7 * k]):
                out[r] = raw.y[ti - 7 * k]
                break
    return out


# ---------------------------------------------------------------- hourly
def hour_type(raw, i):
    """Day type of the hour-share model: 0 Mon, 1 Tue-Thu, 2 Fri, 3 Sat, 4 Sun/holiday."""
    if raw.hol[i] or raw.iso[i] == 7:
        return 4
    return {1: 0, 5: 2, 6: 3}.get(int(raw.iso[i]), 1)


def load_hourly(raw, path):
    """hourly.csv as {day index: 24 passengers (NaN when missing)}."""
    h = {}
    with open(path, newline='') as f:
        for r in csv.DictReader(f):
            h.setdefault(raw.index(r['service_day']), np.full(24, np.nan))[int(r['hour'])] = float(r['passengers'])
    return h


def hour_shares(raw, hourly, up_to):
    """Mean share of each hour over the last 4 complete days of each type at or before up_to."""
    last = raw.index(up_to)
    acc = {t: [] for t in range(5)}
    for i in sorted((i for i in hourly if i <= last), reverse=True):
        v = hourly[i]
        if np.sum(~np.isnan(v)) < 18 or np.nansum(v) <= 0:
            continue
        t = hour_type(raw, i)
        if len(acc[t]) < 4:
            acc[t].append(np.nan_to_num(v) / np.nansum(v))
        if all(len(a) == 4 for a in acc.values()):
            break
    return {t: np.mean(a, axis=0) for t, a in acc.items() if a}


# ---------------------------------------------------------------- ours
def read_ours(d, tag, H):
    """Our models' test predictions (algorithm -> {day: predicted}) and their train lines."""
    preds, info = {}, {}
    tpath = os.path.join(d, f'ours_{tag}_h{H}.train')
    if not os.path.exists(tpath):
        return preds, info
    with open(tpath) as f:
        for line in f:
            p = (line.rstrip('\n').split('\t', 5) + [''] * 6)[:6]
            try:
                hp = json.loads(p[4]) if p[4] else {}
            except ValueError:
                hp = {}
            info[p[0]] = dict(wall=float(p[1]) / 1000 if p[1] else math.nan, deployed=p[2] == 't',
                              target_mode=p[3], hyperparams=hp)
    for algo in info:
        path = os.path.join(d, f'ours_{tag}_h{H}_{algo}.csv')
        if os.path.exists(path):
            with open(path, newline='') as f:
                preds[algo] = {r['day']: float(r['predicted']) for r in csv.DictReader(f) if r['predicted']}
    return preds, info


def hindsight_ceiling(actual, X, kinds):
    """Lowest RMSE any convex weighting of the columns of X (our single learners'
    predictions) reaches when the weights are fitted on the test year itself (a 0.05
    grid; once for all days and once per kind of day): hindsight, not deployable; it
    bounds what choosing or weighting these members could ever give."""
    grid = [np.array([a, b, 1 - a - b]) for a in np.arange(0, 1.0001, 0.05) for b in np.arange(0, 1.0001 - a, 0.05)]
    sse = lambda m: min(float(((X[m] @ w - actual[m]) ** 2).sum()) for w in grid)  # noqa: E731
    everyone = np.ones(len(actual), bool)
    per_kind = sum(sse(kinds == k) for k in range(len(af.REPORT_KINDS)) if (kinds == k).any())
    return math.sqrt(sse(everyone) / len(actual)), math.sqrt(per_kind / len(actual))


# ---------------------------------------------------------------- printing
def short_ours(label):
    """Column heading of one of our models: its algorithm, * when auto deployed it."""
    algo = label.replace('ours: ', '').replace(DEPLOYED, '')
    return OUR_SHORT.get(algo, algo) + ('*' if label.endswith(DEPLOYED) else '')


def print_table(title, labels, actual, P, anchors, kinds=None):
    """RMSE/MAE/MAPE per label, then RMSE and MAPE by kind of day; returns {label: metrics}."""
    R = {lab: metrics(actual, P[lab]) for lab in labels}
    best = min(anchors, key=lambda x: R[x][0])
    w = max(len(x) for x in labels) + 2
    print(title)
    print(f'{"model":<{w}}{"RMSE":>9}{"MAE":>9}{"MAPE %":>8}{"/best anchor":>14}')
    for lab in labels:
        rmse, mae, mape = R[lab]
        mark = '  <- best anchor' if lab == best else ''
        print(f'{lab:<{w}}{rmse:9,.0f}{mae:9,.0f}{mape:8.2f}{rmse / R[best][0]:14.3f}{mark}')
    if kinds is not None:
        short = [SHORT.get(x) or short_ours(x) for x in labels]
        for what, col in (('RMSE', 0), ('MAPE %', 2)):
            print(f'{what} by kind of day' + (' (* deployed by auto):' if any(x.endswith(DEPLOYED) for x in labels) else ':'))
            print(f'{"":<19}{"days":>5}' + ''.join(f'{s[:11]:>12}' for s in short) + '  best anchor')
            for k, kname in enumerate(af.REPORT_KINDS):
                m = kinds == k
                if not m.any():
                    continue
                vals = {lab: metrics(actual[m], P[lab][m])[col] for lab in labels}
                b = min(anchors, key=lambda x: vals[x])
                cells = ''.join((f'{vals[lab]:12,.0f}' if col == 0 else f'{vals[lab]:12.2f}') for lab in labels)
                print(f'{kname:<19}{int(m.sum()):5d}{cells}  {SHORT.get(b, b)}')
    return R, best


def main():
    """Tune and fit the anchors, read our predictions, print every table."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--windows', default='2018-06-01:2019-05-31 2024-06-01:2025-05-31')
    ap.add_argument('--horizons', default='1 7')
    ap.add_argument('--hourly', action='store_true', help='the hourly exercise (needs hourly.csv)')
    ap.add_argument('--jobs', type=int, default=2, help='processes for tuning (default 2)')
    ap.add_argument('--anchors-only', action='store_true')
    args = ap.parse_args()
    started = time.perf_counter()
    windows = [tuple(w.split(':')) for w in args.windows.split()]
    horizons = [int(h) for h in args.horizons.split()]
    for f in ('daily.csv', 'holidays.csv', 'weather.csv') + (('hourly.csv',) if args.hourly else ()):
        if not os.path.exists(os.path.join(args.dir, f)):
            die(f'{args.dir}/{f} is missing')
    raw = af.Raw(args.dir)
    hs = sorted(set(horizons) | ({1} if args.hourly else set()))
    for H in hs:
        _FEATURES[H] = af.build(raw, H, '2015-01-01', windows[-1][1] if windows else HOURLY[2])
    tasks = []
    for (f, t) in windows:
        for H in horizons:
            for kind in ('xgb', 'hgb'):
                tasks.append((kind, H, before(f), f, t))
    if args.hourly:
        for kind in ('xgb', 'hgb'):
            tasks.append((kind, 1) + HOURLY)
    with multiprocessing.get_context('fork').Pool(max(1, args.jobs)) as pool:
        done = dict(zip(tasks, pool.map(tune_and_fit, tasks)))
    print(f'features: {len(_FEATURES[hs[0]][1])} columns at horizon {hs[0]} '
          f'(lags shorter than the horizon are left out); anchors tuned and fitted in '
          f'{time.perf_counter() - started:.0f} s with {args.jobs} process(es)')
    summary = []
    timing = []
    for (f, t) in windows:
        for H in horizons:
            X, names, info = _FEATURES[H]
            u, d = info['usable'], info['date']
            te = u & (d >= f) & (d <= t)
            days = d[te]
            actual = info['y'][te]
            tday = info['day'][te]
            P = {}
            notes = []
            for kind, lab in (('xgb', XGB), ('hgb', HGB)):
                r = done[(kind, H, before(f), f, t)]
                by_day = dict(zip(r['days'], r['pred']))
                P[lab] = np.array([by_day.get(x, np.nan) for x in days])
                notes.append(f'{lab}: {r["note"]}')
                timing.append((f'{f} h{H}', lab, r))
            P[WEEK] = week_naive(raw, tday, H)
            P[SDW] = af.same_weekday(raw, tday, H, 4, True)
            seed = seed_model(raw, before(f), days)
            seed_lab = SEED if H == 1 else SEED + ' (1-step)'
            SHORT[seed_lab] = 'seed'
            P[seed_lab] = seed
            anchors = [XGB, HGB, WEEK, SDW] + ([seed_lab] if H == 1 else [])
            ours, our_info = ({}, {}) if args.anchors_only else read_ours(args.dir, f, H)
            if not args.anchors_only and not ours:
                die(f'no predictions of our models for {f} horizon {H} in {args.dir}')
            our_labels, our_label = [], {}
            for algo in OUR_ORDER + sorted(set(ours) - set(OUR_ORDER)):
                if algo in ours:
                    lab = f'ours: {algo}' + (DEPLOYED if our_info[algo]['deployed'] else '')
                    our_labels.append(lab)
                    our_label[algo] = lab
                    P[lab] = np.array([ours[algo].get(x, np.nan) for x in days])
            labels = our_labels + [XGB, HGB, WEEK, SDW, seed_lab]
            keep = np.all([np.isfinite(P[lab]) for lab in labels], axis=0)
            for lab in labels:
                miss = int((~np.isfinite(P[lab])).sum())
                if miss:
                    notes.append(f'{lab}: no prediction for {miss} of {len(days)} test days; left out of every row')
            Pk = {lab: P[lab][keep] for lab in labels}
            title = (f'\n=== test {f} .. {t} (trained on the days before), horizon {H} day{"s" if H > 1 else ""}: '
                     f'{int(keep.sum())} days, the same for every row')
            kinds = af.report_kind(raw, tday[keep])
            R, best = print_table(title, labels, actual[keep], Pk, anchors, kinds)
            for n_ in notes:
                print('note: ' + n_)
            if H != 1:
                print(f'note: the seed model is a one-step model: at horizon {H} it still uses yesterday\'s row '
                      f'(data the horizon forbids), so it is shown as the seed ran and is no anchor here')
            dep = [lab for lab in our_labels if lab.endswith(DEPLOYED)]
            limit = 0.90 if H == 1 else 0.95
            members = [our_label.get(a) for a in ('ridge', 'random_forest', 'gbdt')]
            if None not in members:
                ceiling = hindsight_ceiling(actual[keep], np.column_stack([Pk[m] for m in members]), kinds)
                print(f'hindsight ceiling (not deployable): the best convex weights of ridge, random_forest and gbdt '
                      f'fitted on these test days give RMSE {ceiling[0]:,.0f} ({ceiling[0] / R[best][0]:.3f} x the best '
                      f'anchor), per kind of day {ceiling[1]:,.0f} ({ceiling[1] / R[best][0]:.3f} x); '
                      f'target {limit:.2f} x')
            summary.append((f'{f} .. {t}', f'{H} day{"s" if H > 1 else ""}', 'RMSE', best, R[best][0], limit,
                            dep[0] if dep else None, R[dep[0]][0] if dep else math.nan))
            if our_info:
                walls = sorted({a['wall'] for a in our_info.values()})
                timing.append((f'{f} h{H}', 'ours: seongsu.train()', dict(
                    wall=sum(walls), what=f'{len(our_info)} models: ' + ', '.join(
                        f'{k} ({a["target_mode"]})' for k, a in our_info.items()))))
    if args.hourly:
        summary.append(hourly_exercise(args, raw, done, timing))
    print('\n=== training time (wall): ours = seongsu.train() (backtests included); anchors = tuning, then the refit')
    for w_, lab, r in timing:
        if 'wall' in r:
            print(f'  {w_:<16}{lab:<36}{r["wall"]:8.2f} s   ({r["what"]})')
        else:
            print(f'  {w_:<16}{lab:<36}{r["fit_s"]:8.2f} s   (refit on {r["rows"]} days; tuning {r["tune_s"]:.1f} s)')
    print(f'  load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores')
    print('\n=== targets (issue 12): one day ahead, auto <= 0.90 x the RMSE of the best anchor; seven days ahead '
          '<= 0.95 x; hourly two-stage MAPE <= the best anchor\'s')
    print(f'{"test":<26}{"horizon":<9}{"metric":<7}{"best anchor":<36}{"anchor":>9}{"target":>9}{"ours (auto)":>13}'
          f'{"ratio":>7}')
    for what, hz, metric, best, val, limit, dep, ours_v in summary:
        ours_s = '-' if dep is None else (f'{ours_v:13,.0f}' if metric == 'RMSE' else f'{ours_v:12.2f}%')
        status = '' if dep is None else ('  met' if ours_v <= limit * val else '  MISSED')
        val_s = f'{val:9,.0f}' if metric == 'RMSE' else f'{val:8.2f}%'
        tgt = limit * val
        tgt_s = f'{tgt:9,.0f}' if metric == 'RMSE' else f'{tgt:8.2f}%'
        ratio = f'{ours_v / val:7.3f}' if dep is not None else ''
        print(f'{what:<26}{hz:<9}{metric:<7}{SHORT.get(best, best):<36}{val_s}{tgt_s}{ours_s:>13}{ratio}{status}')
    print(f'(anchors: {time.perf_counter() - started:.0f} s in all)')


def hourly_exercise(args, raw, done, timing):
    """Two-stage hourly anchors for April 2023, hours 06-23, beside ours (ours_hourly.csv)."""
    train_to, f, t = HOURLY
    X, names, info = _FEATURES[1]
    hourly = load_hourly(raw, os.path.join(args.dir, 'hourly.csv'))
    shares = hour_shares(raw, hourly, train_to)
    L, d = info['level'], info['date']
    te = np.isfinite(L) & (L > 0) & (d >= f) & (d <= t)     # every day with a level, observed or not
    tday = info['day'][te]
    daily = {}
    for kind, lab in (('xgb', XGB), ('hgb', HGB)):
        r = done[(kind, 1) + HOURLY]
        daily[lab] = dict(zip([raw.index(x) for x in r['days']], r['pred']))
        timing.append(('hourly', lab, r))
    daily[WEEK] = dict(zip(tday, week_naive(raw, tday, 1)))
    daily[SDW] = dict(zip(tday, af.same_weekday(raw, tday, 1, 4, True)))
    ours = {}
    p = os.path.join(args.dir, 'ours_hourly.csv')
    if os.path.exists(p) and not args.anchors_only:
        with open(p, newline='') as fh:
            for r in csv.DictReader(fh):
                if r['predicted']:
                    ours[(raw.index(r['service_day']), int(r['hour']))] = float(r['predicted'])
    rows = []
    for i in range(raw.index(f), raw.index(t) + 1):
        for h in range(6, 24):
            a = hourly.get(i, np.full(24, np.nan))[h]
            if not (a > 0):
                continue
            share = shares.get(hour_type(raw, i))
            row = {'day': i, 'hour': h, 'actual': a,
                   'same hour last week': hourly.get(i - 7, np.full(24, np.nan))[h]}
            for lab, dd in daily.items():
                row[lab + ' x shares'] = dd.get(i, np.nan) * share[h] if share is not None else np.nan
            if ours:
                row['ours: predict_crowd (auto)'] = ours.get((i, h), np.nan)
            rows.append(row)
    labels = [k for k in rows[0] if k not in ('day', 'hour', 'actual')]
    labels = [x for x in labels if x.startswith('ours')] + [x for x in labels if not x.startswith('ours')]
    anchors = [x for x in labels if not x.startswith('ours')]
    keep = [r for r in rows if all(np.isfinite(r[lab]) for lab in labels)]
    actual = np.array([r['actual'] for r in keep])
    P = {lab: np.array([r[lab] for r in keep]) for lab in labels}
    off = np.array([bool(raw.off[r['day']]) for r in keep])
    R = {lab: metrics(actual, P[lab]) for lab in labels}
    best = min(anchors, key=lambda x: R[x][2])
    w = max(len(x) for x in labels) + 2
    print(f'\n=== hourly: April 2023, hours 06-23, one day ahead; daily models trained to {train_to}, hour shares of '
          f'the last 4 days of each type before {f}: {len(keep)} hours (of {len(rows)}), the same for every row')
    print(f'{"model":<{w}}{"MAPE %":>8}{"working":>9}{"days off":>9}{"RMSE":>8}')
    for lab in labels:
        wk = metrics(actual[~off], P[lab][~off])[2] if (~off).any() else math.nan
        of = metrics(actual[off], P[lab][off])[2] if off.any() else math.nan
        mark = '  <- best anchor' if lab == best else ''
        print(f'{lab:<{w}}{R[lab][2]:8.2f}{wk:9.2f}{of:9.2f}{R[lab][0]:8,.0f}{mark}')
    if ours:
        day_of = np.array([r['day'] for r in keep])
        p = P['ours: predict_crowd (auto)']
        tot_a = {i: actual[day_of == i].sum() for i in set(day_of)}
        tot_p = {i: p[day_of == i].sum() for i in set(day_of)}
        scaled = np.array([x * tot_a[i] / tot_p[i] for x, i in zip(p, day_of)])
        daily_err = np.mean([abs(tot_p[i] - tot_a[i]) / tot_a[i] for i in tot_a]) * 100
        print(f'ours, split: the hour shares alone (each day rescaled to its observed 06-23 total) '
              f'{metrics(actual, scaled)[2]:.2f}% MAPE; the daily part (06-23 sums) {daily_err:.2f}% MAPE over '
              f'{len(tot_a)} days')
    print('note: the truth is Seoul Metro\'s all-ticket count, the daily models learn card totals (about 0.5 % lower)')
    for kind, lab in (('xgb', XGB), ('hgb', HGB)):
        print(f'note: {lab}: {done[(kind, 1) + HOURLY]["note"]}')
    dep = 'ours: predict_crowd (auto)' if ours else None
    return ('April 2023 hours 06-23', '1 day', 'MAPE', best, R[best][2], 1.0, dep,
            R[dep][2] if dep else math.nan)


if __name__ == '__main__':
    main()
