#!/usr/bin/python3
"""The PL/Python anchor of test/bench/predict_speed.sh (run by it; not on its own).

Trains an XGBoost model of the same size as our gbdt (600 trees, depth 6, no
early stopping, hist) on the same rows and feature columns:

  --features CSV   COPY of seongsu.features(station, line, '2015-01-01', '2025-05-31', 'daily', '1 day')
  --model-id N     our model (for the printout only)
  --columns a,b,…  our model's feature columns in model order (seongsu.models.features)
  --target-mode M  our model's target mode: 'ratio' (target / level28, multiplied back) or 'raw'
  --train-to DAY   last training day (our model's train_to)
  --shares x,y,…   our model's hour shares (8 day types x 24 hours)
  --out DIR        writes DIR/xgb_model.ubj and DIR/xgb_meta.json (read by the PL/Python functions)

Booleans become 0/1, NULLs NaN (XGBoost's missing value), as in our dataset.
"""
import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np
import xgboost as xgb

ROUNDS, DEPTH, ETA = 600, 6, 0.05


def cell(v):
    if v == '':
        return math.nan
    if v == 't':
        return 1.0
    if v == 'f':
        return 0.0
    return float(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--features', required=True)
    ap.add_argument('--model-id', required=True)
    ap.add_argument('--columns', required=True)
    ap.add_argument('--target-mode', required=True, choices=('ratio', 'raw'))
    ap.add_argument('--train-to', required=True)
    ap.add_argument('--shares', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()

    cols = a.columns.split(',')
    shares = [float(x) for x in a.shares.split(',')]
    if len(shares) != 192:
        sys.exit(f'predict_anchor.py: expected 192 hour shares, got {len(shares)}')
    with open(a.features, newline='', encoding='utf-8') as f:
        r = csv.reader(f)
        header = next(r)
        rows = list(r)
    ix = {c: i for i, c in enumerate(header)}
    missing = [c for c in cols + ['kst_date', 'target', 'level28'] if c not in ix]
    if missing:
        sys.exit(f'predict_anchor.py: feature columns missing from {a.features}: {missing}')
    X, y = [], []
    for row in rows:
        if row[ix['kst_date']] > a.train_to or row[ix['target']] == '':
            continue
        t = float(row[ix['target']])
        if a.target_mode == 'ratio':
            lv = cell(row[ix['level28']])
            if not (lv > 0):
                continue
            t /= lv
        X.append([cell(row[ix[c]]) for c in cols])
        y.append(t)
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float64)
    params = {'objective': 'reg:squarederror', 'tree_method': 'hist', 'max_depth': DEPTH, 'eta': ETA,
              'min_child_weight': 1, 'max_bin': 255, 'seed': 0, 'nthread': 2, 'verbosity': 0}
    t0 = time.perf_counter()
    bst = xgb.train(params, xgb.DMatrix(X, label=y, missing=np.nan), num_boost_round=ROUNDS)
    secs = time.perf_counter() - t0
    trees = len(bst.get_dump())
    model = os.path.join(a.out, 'xgb_model.ubj')
    bst.save_model(model)
    meta = {'model': model, 'columns': cols, 'ratio': a.target_mode == 'ratio', 'shares': shares,
            'trees': trees, 'depth': DEPTH, 'rows': int(len(y))}
    with open(os.path.join(a.out, 'xgb_meta.json'), 'w', encoding='utf-8') as f:
        json.dump(meta, f)
    os.chmod(model, 0o644)
    os.chmod(os.path.join(a.out, 'xgb_meta.json'), 0o644)
    print(f'  XGBoost {xgboost_version()}: {trees} trees, depth {DEPTH}, {len(y)} rows x {len(cols)} columns '
          f'(same columns and target mode "{a.target_mode}" as model {a.model_id}), trained in {secs:.2f} s, '
          f'{os.path.getsize(model)} bytes ({model})')


def xgboost_version():
    return xgb.__version__


if __name__ == '__main__':
    main()
