#!/usr/bin/python3
"""Anchors and tables for test/bench/accuracy.sh (run by it; not on its own).

Reads, from --dir:
  features_h<H>.csv      COPY of seongsu.features(station, line, '2015-01-01', test_to, 'daily', 'H days')
  daily.csv              the observed daily series (day, passengers), sorted by day
  ours_h<H>_<algo>.csv   seongsu.evaluate(model, test_from, test_to): day, actual, predicted
  ours_h<H>.train        algorithm <TAB> train() wall time in ms <TAB> metrics jsonb
and prints, per horizon, one table on the same test days for every row
(RMSE, MAE, MAPE, RMSE over XGBoost's best, RMSE over the seed model's), a
summary line, and training times on the same matrix.

Anchors, all fitted on the rows with kst_date <= train_to and evaluated on
test_from .. test_to without refitting:
  XGBoost hist (600 rounds max, depth 6, eta 0.03, subsample 0.8, colsample
    0.8; rounds chosen by early stopping on the last 10 % of the training rows
    in time order, then refitted on all of them), on the raw target and on
    target / level28 multiplied back;
  scikit-learn RandomForestRegressor (300 trees) and Ridge (standardized, alpha
    chosen on the same last 10 %), raw and ratio; NULLs imputed with the
    training median (XGBoost takes them as missing);
  the seed service's model: LinearRegression on lag_1d = shift(1), lag_7d =
    shift(7), rolling_7d_avg = shift(1).rolling(7).mean() over the *rows* of
    the observed series (its bug: rows, not days), rows with NULLs dropped;
  same-day-last-week: the value 7 calendar days earlier (lag_7d); when that
    day is unobserved, the latest observed same weekday before it.
"""
import argparse
import csv
import datetime as dt
import json
import math
import os
import sys
import time

import numpy as np

EXCLUDE = {'ts', 'kst_date', 'hour', 'target', 'target_ratio', 'holiday_name',
           'weather_source', 'missing_mask'}
XGB_PARAMS = {'objective': 'reg:squarederror', 'tree_method': 'hist', 'max_depth': 6,
              'eta': 0.03, 'subsample': 0.8, 'colsample_bytree': 0.8, 'min_child_weight': 1,
              'seed': 0, 'verbosity': 0}
XGB_ROUNDS, XGB_EARLY = 600, 50
RF_TREES = 300
OUR_ORDER = ['seasonal_naive', 'ridge', 'random_forest', 'gbdt']


def die(msg):
    print(f'accuracy_anchors.py: {msg}', file=sys.stderr)
    sys.exit(1)


def cell(v):
    if v == '':
        return math.nan
    if v == 't':
        return 1.0
    if v == 'f':
        return 0.0
    return float(v)


class Features:
    """The rows of seongsu.features for one horizon, as numpy arrays."""

    def __init__(self, path, train_to, test_from, test_to):
        if not os.path.exists(path):
            die(f'{path} is missing')
        with open(path, newline='', encoding='utf-8') as f:
            r = csv.reader(f)
            header = next(r)
            rows = list(r)
        self.header = header
        ix = {c: i for i, c in enumerate(header)}
        for c in ('kst_date', 'target', 'level28'):
            if c not in ix:
                die(f'{path} has no column {c}')
        self.days = np.array([row[ix['kst_date']] for row in rows])
        self.y = np.array([cell(row[ix['target']]) for row in rows])
        self.level = np.array([cell(row[ix['level28']]) for row in rows])
        cols = [c for c in header if c not in EXCLUDE]
        X = np.array([[cell(row[ix[c]]) for c in cols] for row in rows], dtype=float)
        have = ~np.isnan(self.y)
        self.train = have & (self.days <= train_to)
        self.test = have & (self.days >= test_from) & (self.days <= test_to)
        # drop columns that carry nothing in training (all NULL, or constant)
        Xt = X[self.train]
        keep = [j for j in range(X.shape[1])
                if not np.all(np.isnan(Xt[:, j])) and np.nanmin(Xt[:, j]) != np.nanmax(Xt[:, j])]
        self.all_cols = cols
        self.cols = [cols[j] for j in keep]
        self.dropped = [c for c in cols if c not in self.cols]
        self.X = X[:, keep]
        self.col = {c: X[:, j] for j, c in enumerate(cols)}


def fit_split(n):
    """Time-ordered split of n training rows: first 90 % fit, last 10 % validate."""
    k = int(round(n * 0.9))
    return np.arange(k), np.arange(k, n)


def xgb_fit(X, y, nthread=1, rounds=None):
    """XGBoost hist; without rounds, choose them by early stopping on the last 10 %.
    The accuracy fits use one thread: on this small matrix a second one gains
    little, and OpenMP's spinning threads cost a lot when the machine is busy."""
    import xgboost as xgb
    params = dict(XGB_PARAMS, nthread=nthread)
    if rounds is None:
        a, b = fit_split(len(y))
        dfit = xgb.DMatrix(X[a], label=y[a], missing=np.nan)
        dval = xgb.DMatrix(X[b], label=y[b], missing=np.nan)
        m = xgb.train(params, dfit, XGB_ROUNDS, evals=[(dval, 'val')],
                      early_stopping_rounds=XGB_EARLY, verbose_eval=False)
        rounds = m.best_iteration + 1
    d = xgb.DMatrix(X, label=y, missing=np.nan)
    return xgb.train(params, d, rounds), rounds


def xgb_predict(m, X):
    import xgboost as xgb
    return m.predict(xgb.DMatrix(X, missing=np.nan))


def impute(Xtr, Xte):
    med = np.nanmedian(Xtr, axis=0)
    med = np.where(np.isnan(med), 0.0, med)
    return np.where(np.isnan(Xtr), med, Xtr), np.where(np.isnan(Xte), med, Xte)


def rf_fit(X, y, n_jobs=2, **kw):
    from sklearn.ensemble import RandomForestRegressor
    m = RandomForestRegressor(**dict(dict(n_estimators=RF_TREES, random_state=0, n_jobs=n_jobs), **kw))
    return m.fit(X, y)


def rf_like(hp):
    """scikit-learn arguments for the forest configuration our random_forest used."""
    kw = {}
    if 'n_trees' in hp:
        kw['n_estimators'] = int(hp['n_trees'])
    if 'max_features' in hp and 0 < float(hp['max_features']) <= 1:
        kw['max_features'] = float(hp['max_features'])
    if 'min_samples_leaf' in hp:
        kw['min_samples_leaf'] = int(hp['min_samples_leaf'])
    if hp.get('max_depth'):
        kw['max_depth'] = int(hp['max_depth'])
    return kw


def ridge_fit(X, y):
    """Standardized Ridge; alpha chosen on the last 10 % of the training rows, then refitted."""
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    a, b = fit_split(len(y))
    best = None
    for alpha in np.logspace(-2, 4, 13):
        m = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(X[a], y[a])
        err = np.sqrt(np.mean((m.predict(X[b]) - y[b]) ** 2))
        if best is None or err < best[0]:
            best = (err, alpha)
    return make_pipeline(StandardScaler(), Ridge(alpha=best[1])).fit(X, y), best[1]


def seed_model(daily_path, train_to, test_days):
    """The seed service's LinearRegression on row-shift features (pandas shift semantics)."""
    from sklearn.linear_model import LinearRegression
    with open(daily_path, newline='') as f:
        rows = sorted((r['day'], float(r['passengers'])) for r in csv.DictReader(f))
    days = np.array([d for d, _ in rows])
    v = np.array([x for _, x in rows])
    n = len(v)

    def shift(a, k):
        out = np.full(n, np.nan)
        out[k:] = a[:n - k]
        return out
    lag1, lag7 = shift(v, 1), shift(v, 7)
    roll7 = np.full(n, np.nan)                      # shift(1).rolling(7).mean()
    for i in range(7, n):
        roll7[i] = v[i - 7:i].mean()
    X = np.column_stack([lag1, lag7, roll7])
    ok = ~np.isnan(X).any(axis=1)
    tr = ok & (days <= train_to)
    m = LinearRegression().fit(X[tr], v[tr])
    pred = dict(zip(days[ok], m.predict(X[ok])))
    return {d: pred[d] for d in test_days if d in pred}, int(tr.sum())


def metrics(actual, pred):
    e = pred - actual
    return (float(np.sqrt(np.mean(e ** 2))), float(np.mean(np.abs(e))),
            float(np.mean(np.abs(e) / actual) * 100))


def read_ours(d, H):
    """Our models' test predictions and train times, if accuracy.sh ran them."""
    preds, times = {}, {}
    tpath = os.path.join(d, f'ours_h{H}.train')
    if os.path.exists(tpath):
        with open(tpath) as f:
            for line in f:
                # algorithm, train() wall ms, models.train_seconds, train_rows, target_mode, hyperparams, metrics
                p = (line.rstrip('\n').split('\t', 6) + [''] * 7)[:7]

                def js(x):
                    try:
                        return json.loads(x) if x else {}
                    except ValueError:
                        return {}
                times[p[0]] = {'wall': float(p[1]) / 1000 if p[1] else math.nan,
                               'train_seconds': float(p[2]) if p[2] else math.nan,
                               'rows': p[3], 'target_mode': p[4], 'hyperparams': js(p[5]), 'metrics': js(p[6])}
    for algo in list(times) or OUR_ORDER:
        p = os.path.join(d, f'ours_h{H}_{algo}.csv')
        if not os.path.exists(p):
            continue
        with open(p, newline='') as f:
            preds[algo] = {r['day']: (float(r['actual']) if r['actual'] else math.nan,
                                      float(r['predicted']) if r['predicted'] else math.nan)
                           for r in csv.DictReader(f)}
    return preds, times


def run_horizon(args, H):
    started = time.perf_counter()
    F = Features(os.path.join(args.dir, f'features_h{H}.csv'), args.train_to, args.test_from, args.test_to)
    tr, te = F.train, F.test
    test_days = list(F.days[te])
    actual = dict(zip(test_days, F.y[te]))
    Xtr, ytr, Xte = F.X[tr], F.y[tr], F.X[te]
    lvl_tr, lvl_te = F.level[tr], F.level[te]
    rat = ~np.isnan(lvl_tr) & (lvl_tr > 0)              # rows with a level: ratio target
    lvl_ok = ~np.isnan(lvl_te) & (lvl_te > 0)
    if not lvl_ok.all():
        die(f'horizon {H}: {int((~lvl_ok).sum())} test rows have no level28; the ratio models cannot be scored')
    notes = []
    P = {}      # label -> {day: prediction}
    T = {}      # label -> seconds

    def put(label, pred):
        P[label] = dict(zip(test_days, np.asarray(pred, dtype=float)))

    ours, our_times = read_ours(args.dir, H)
    # XGBoost
    t, c = time.perf_counter(), time.process_time()
    m, r_raw = xgb_fit(Xtr, ytr)
    T['xgb_raw_search'] = (time.perf_counter() - t, time.process_time() - c)
    put('XGBoost hist, raw target', xgb_predict(m, Xte))
    m, r_rat = xgb_fit(Xtr[rat], ytr[rat] / lvl_tr[rat])
    put('XGBoost hist, ratio target', xgb_predict(m, Xte) * lvl_te)
    notes.append(f'XGBoost rounds by early stopping: raw {r_raw}, ratio {r_rat} (of {XGB_ROUNDS}; patience {XGB_EARLY})')
    # scikit-learn
    Itr, Ite = impute(Xtr, Xte)
    t, c = time.perf_counter(), time.process_time()
    m = rf_fit(Itr, ytr)
    T['rf_raw'] = (time.perf_counter() - t, time.process_time() - c)
    put('sklearn RandomForest(300), raw', m.predict(Ite))
    put('sklearn RandomForest(300), ratio', rf_fit(Itr[rat], ytr[rat] / lvl_tr[rat]).predict(Ite) * lvl_te)
    rf_ours = rf_like(our_times['random_forest']['hyperparams']) if 'random_forest' in our_times else {}
    if rf_ours:
        rf_label = 'sklearn RandomForest, our config, ratio'
        put(rf_label, rf_fit(Itr[rat], ytr[rat] / lvl_tr[rat], **rf_ours).predict(Ite) * lvl_te)
        notes.append(f'"{rf_label}": scikit-learn with the settings of our random_forest: '
                     + ', '.join(f'{k}={v:g}' if isinstance(v, float) else f'{k}={v}' for k, v in rf_ours.items()))
    m, a_raw = ridge_fit(Itr, ytr)
    put('sklearn Ridge (standardized), raw', m.predict(Ite))
    m, a_rat = ridge_fit(Itr[rat], ytr[rat] / lvl_tr[rat])
    put('sklearn Ridge (standardized), ratio', m.predict(Ite) * lvl_te)
    notes.append(f'Ridge alpha (last 10 % of training rows): raw {a_raw:g}, ratio {a_rat:g}')
    # the seed service
    seed_label = 'seed: LinearRegression, row-shift lags' + (' (1-step model)' if H != 1 else '')
    seed, seed_rows = seed_model(os.path.join(args.dir, 'daily.csv'), args.train_to, test_days)
    P[seed_label] = seed
    if H != 1:
        notes.append(f'the seed model is a one-step model: at horizon {H} it still uses yesterday\'s row '
                     f'(lag_1d, rolling_7d_avg), i.e. data the horizon forbids; it is shown as the seed ran')
    # same day last week
    naive = {}
    fallback = 0
    col = {c: F.col[c][te] for c in ('lag_7d', 'lag_14d', 'lag_21d', 'lag_28d')}
    for i, d in enumerate(test_days):
        for c in ('lag_7d', 'lag_14d', 'lag_21d', 'lag_28d'):
            if not math.isnan(col[c][i]):
                naive[d] = col[c][i]
                fallback += c != 'lag_7d'
                break
    P['same day last week (naive)'] = naive
    if fallback:
        notes.append(f'same-day-last-week: {fallback} test days had no observation 7 days earlier and use the '
                     f'latest observed same weekday (14-28 days)')

    # ours
    our_labels = []
    for algo in OUR_ORDER + sorted(set(ours) - set(OUR_ORDER)):
        if algo not in ours:
            continue
        lab = f'ours: {algo}'
        our_labels.append(lab)
        P[lab] = {d: p for d, (a, p) in ours[algo].items() if not math.isnan(p)}
        diff = [d for d, (a, p) in ours[algo].items() if d in actual and abs(a - actual[d]) > 1e-6]
        extra = [d for d in ours[algo] if d not in actual]
        if diff:
            notes.append(f'{lab}: evaluate() actual differs from features() target on {len(diff)} days (e.g. {diff[0]})')
        if extra:
            notes.append(f'{lab}: evaluate() returned {len(extra)} days that are not observed test days (e.g. {extra[0]})')
    if not args.anchors_only and not our_labels:
        die(f'horizon {H}: no predictions of our models in {args.dir}')

    # the same days for every row
    days = [d for d in test_days if all(d in p and not math.isnan(p[d]) for p in P.values())]
    for lab, p in P.items():
        miss = sum(1 for d in test_days if d not in p or math.isnan(p[d]))
        if miss:
            notes.append(f'{lab}: no prediction for {miss} of the {len(test_days)} test days; those days are left out of every row')
    a = np.array([actual[d] for d in days])
    R = {lab: metrics(a, np.array([p[d] for d in days])) for lab, p in P.items()}
    xgb_best = min(R['XGBoost hist, raw target'][0], R['XGBoost hist, ratio target'][0])
    seed_rmse = R[seed_label][0]

    print(f'\n=== horizon {H} day{"s" if H != 1 else ""}: train <= {args.train_to} ({int(tr.sum())} days), '
          f'test {args.test_from} .. {args.test_to}: {len(days)} days (same days for every row)')
    w = max(len(x) for x in R) + 2
    print(f'{"model":<{w}}{"RMSE":>9}{"MAE":>9}{"MAPE %":>8}{"/XGB best":>11}{"/seed":>8}')
    order = our_labels + [x for x in R if x not in our_labels]
    for lab in order:
        rmse, mae, mape = R[lab]
        print(f'{lab:<{w}}{rmse:9.0f}{mae:9.0f}{mape:8.2f}{rmse / xgb_best:11.3f}{rmse / seed_rmse:8.3f}')
        if our_labels and lab == our_labels[-1]:
            print('-' * (w + 45))
    # MAPE by kind of day (same days as above)
    di = {d: i for i, d in enumerate(test_days)}
    sel = np.array([di[d] for d in days], dtype=int)
    off = F.col['is_day_off'][te][sel] == 1
    groups = [('working days', ~off), ('days off', off), ('holidays', F.col['is_holiday'][te][sel] == 1)]
    lagH = f'lag_{H}d'
    if lagH in F.col:
        groups.append((f't-{H} unobserved', np.isnan(F.col[lagH][te][sel])))
    print('MAPE % by kind of day (days: ' + ', '.join(f'{g} {int(m.sum())}' for g, m in groups)
          + f'; holidays = public holidays, t-{H} unobserved = the latest day the horizon allows is missing):')
    print(f'{"":<{w}}' + ''.join(f'{g[:15]:>17}' for g, _ in groups))
    for lab in order:
        pr = np.array([P[lab][d] for d in days])
        print(f'{lab:<{w}}' + ''.join(f'{np.mean(np.abs(pr[m] - a[m]) / a[m]) * 100:17.2f}' if m.any() else f'{"-":>17}'
                                      for _, m in groups))
    full = [lab for lab in order if all(d in P[lab] and not math.isnan(P[lab][d]) for d in test_days)]
    if len(days) < len(test_days) and full:
        a_all = np.array([actual[d] for d in test_days])
        print(f'on all {len(test_days)} observed test days (only the rows that predict every one of them):')
        for lab in full:
            rmse, mae, mape = metrics(a_all, np.array([P[lab][d] for d in test_days]))
            print(f'  {lab:<{w - 2}}{rmse:9.0f}{mae:9.0f}{mape:8.2f}')
    print(f'features: {len(F.cols)} columns used; dropped (all NULL or constant in training): '
          f'{", ".join(F.dropped) or "none"}')
    print(f'seed model trained on {seed_rows} rows (row-shift features complete)')
    for n in notes:
        print('note: ' + n)

    anchors = [x for x in R if x not in our_labels and not x.startswith('seed') and 'naive' not in x]
    best_anchor = min(anchors, key=lambda x: R[x][0])
    print(f'best anchor: {best_anchor}, RMSE {R[best_anchor][0]:.0f}, MAPE {R[best_anchor][2]:.2f}%')
    summary = None
    if our_labels:
        best = min(our_labels, key=lambda x: R[x][0])
        rmse, mae, mape = R[best]
        r1, r2 = rmse / xgb_best, rmse / seed_rmse
        summary = (f'horizon {H}: our best {best[6:]} RMSE {rmse:.0f} MAPE {mape:.2f}% -> '
                   f'{r1:.3f} x XGBoost best ({"met" if r1 <= 1.03 else "MISSED"}: <= 1.03), '
                   f'{r2:.3f} x seed ({"met" if r2 <= 0.55 else "MISSED"}: <= 0.55); '
                   f'{rmse / R[best_anchor][0]:.3f} x the best anchor ({best_anchor})')
    else:
        summary = (f'horizon {H}: (anchors only) XGBoost best RMSE {xgb_best:.0f}, seed RMSE {seed_rmse:.0f}; '
                   f'targets for ours: RMSE <= {1.03 * xgb_best:.0f} (1.03 x XGBoost) and <= {0.55 * seed_rmse:.0f} (0.55 x seed)')

    # training time on the same matrix (raw target, every training row); the
    # fastest of `reps` runs, so that a busy machine disturbs it less
    def best_of(reps, fn):
        out = (math.inf, math.nan)
        for _ in range(reps):
            t, c = time.perf_counter(), time.process_time()
            fn()
            out = min(out, (time.perf_counter() - t, time.process_time() - c))
        return out
    tt = {}
    load = os.getloadavg()[0]
    if args.time_anchors:
        for nt in (1, 2):
            tt[f'XGBoost hist, {XGB_ROUNDS} rounds, nthread={nt}'] = best_of(2, lambda: xgb_fit(Xtr, ytr, nthread=nt, rounds=XGB_ROUNDS))
        tt[f'XGBoost hist, early stopping + refit ({r_raw} rounds), nthread=1'] = T['xgb_raw_search']
        tt[f'sklearn RandomForest({RF_TREES}), n_jobs=1'] = best_of(1, lambda: rf_fit(Itr, ytr, n_jobs=1))
        tt[f'sklearn RandomForest({RF_TREES}), n_jobs=2'] = T['rf_raw']
        if rf_ours:
            for nj in (1, 2):
                tt[f'sklearn RandomForest, our config, n_jobs={nj}'] = best_of(2, lambda: rf_fit(Itr, ytr, n_jobs=nj, **rf_ours))
        tt['sklearn Ridge (13 alphas + refit)'] = best_of(3, lambda: ridge_fit(Itr, ytr))
    print(f'\ntraining time, horizon {H} ({Xtr.shape[0]} rows x {Xtr.shape[1]} features'
          + ('; wall time of the fastest run, CPU time of this process' if tt else '; anchors timed at the first horizon only')
          + '):')
    for algo in OUR_ORDER + sorted(set(our_times) - set(OUR_ORDER)):
        if algo in our_times:
            o = our_times[algo]
            hp = o['hyperparams']
            what = {'random_forest': f'{hp.get("n_trees", "?")} trees',
                    'gbdt': f'{hp.get("n_estimators", "?")} rounds'}.get(algo, '')
            folds = f'{hp["folds"]} backtest folds' if 'folds' in hp else 'backtests'
            print(f'  {"ours: seongsu.train(" + algo + "), wall time":<62}{o["wall"]:8.3f} s'
                  f'   (models.train_seconds {o["train_seconds"]:.3f} s incl. {folds}; '
                  f'{o["rows"]} rows, target {o["target_mode"]}{", " + what if what else ""})')
    for k, (wall, cpu) in tt.items():
        print(f'  {k:<62}{wall:8.3f} s   (CPU {cpu:.3f} s)')
    if tt:
        load = max(load, os.getloadavg()[0])
        cores = os.cpu_count() or 1
        print(f'  load average {load:.1f} on {cores} cores'
              + (': the machine is busy, so multi-threaded timings (nthread/n_jobs=2; OpenMP threads spin '
                 'while they wait) are unreliable; the single-threaded ones and CPU times hold better'
                 if load > cores - 0.5 else ''))
    print(f'(horizon {H}: anchors fitted, scored and timed in {time.perf_counter() - started:.0f} s)')
    return summary


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--dir', required=True)
    ap.add_argument('--horizons', default='1 7')
    ap.add_argument('--train-to', required=True)
    ap.add_argument('--test-from', required=True)
    ap.add_argument('--test-to', required=True)
    ap.add_argument('--anchors-only', action='store_true')
    args = ap.parse_args()
    summaries = []
    for i, h in enumerate(args.horizons.split()):
        args.time_anchors = i == 0
        summaries.append(run_horizon(args, int(h)))
    print('\n=== summary (RMSE; targets: within 3 % of XGBoost\'s best, <= 0.55 x the seed model)')
    for s in summaries:
        print(s)


if __name__ == '__main__':
    main()
