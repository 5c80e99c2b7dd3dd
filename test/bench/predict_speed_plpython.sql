-- The PL/Python anchor of test/bench/predict_speed.sh: the same work as
-- seongsu.predict_crowd / seongsu.forecast, with an XGBoost model of the same
-- size (test/bench/predict_anchor.py).  predict_speed.sh replaces @META@ with
-- the path of xgb_meta.json and @STATION@ / @LINE@ before running this file.
--
-- Per backend (GD), on the first call: import xgboost, load the model
-- (UBJSON, nthread 1), read the column list, target mode and hour shares, and
-- prepare the feature query.  Per prediction: one plpy.execute of
-- seongsu.features for the service day (the same C feature code our predict
-- uses), the row as a float32 vector (booleans 0/1, NULL = NaN),
-- booster.inplace_predict (the fast path: 1 row through booster.predict on a
-- DMatrix costs ~17 ms, inplace_predict ~0.7 ms), times level28 for a ratio
-- model, times the hour's share for the day type.
CREATE EXTENSION IF NOT EXISTS plpython3u;

CREATE OR REPLACE FUNCTION public.xgb_load() RETURNS void LANGUAGE plpython3u AS $py$
if 'bst' in GD:
    return
import json
import numpy
import xgboost
with open('@META@', encoding='utf-8') as f:
    meta = json.load(f)
bst = xgboost.Booster()
bst.load_model(meta['model'])
bst.set_param('nthread', 1)
GD['np'] = numpy
GD['meta'] = meta
GD['cols'] = meta['columns']
GD['shares'] = numpy.asarray(meta['shares'], dtype=numpy.float64)
# One row: the service day (hours 0-3 KST belong to the previous day) and hour of ts.
GD['row_plan'] = plpy.prepare("""
  SELECT f.*, k.h AS ts_hour
    FROM (SELECT extract(hour FROM $1 AT TIME ZONE 'Asia/Seoul')::int AS h,
                 (($1 AT TIME ZONE 'Asia/Seoul') - interval '4 hours')::date AS d) k,
         LATERAL seongsu.features('@STATION@', '@LINE@', (k.d::text || ' 00:00+09')::timestamptz,
                                  (k.d::text || ' 00:00+09')::timestamptz, 'daily', '1 day') f""", ['timestamptz'])
# A range: the epochs of from/to and the feature rows of their service days.
GD['range_plan'] = plpy.prepare("""
  SELECT extract(epoch FROM $1)::int8 AS e0, extract(epoch FROM $2)::int8 AS e1,
         (($1 AT TIME ZONE 'Asia/Seoul') - interval '4 hours')::date AS d0,
         (($2 AT TIME ZONE 'Asia/Seoul') - interval '4 hours')::date AS d1""", ['timestamptz', 'timestamptz'])
GD['days_plan'] = plpy.prepare("""
  SELECT * FROM seongsu.features('@STATION@', '@LINE@', ($1::text || ' 00:00+09')::timestamptz,
                                 ($2::text || ' 00:00+09')::timestamptz, 'daily', '1 day') ORDER BY kst_date""",
                               ['date', 'date'])
GD['bst'] = bst
$py$;

CREATE OR REPLACE FUNCTION public.xgb_predict(ts timestamptz) RETURNS double precision LANGUAGE plpython3u AS $py$
if 'bst' not in GD:
    plpy.execute('SELECT public.xgb_load()')
np = GD['np']
rows = plpy.execute(GD['row_plan'], [ts])
if len(rows) == 0:
    return None
r = rows[0]
x = np.array([[np.nan if r[c] is None else float(r[c]) for c in GD['cols']]], dtype=np.float32)
p = float(GD['bst'].inplace_predict(x, missing=np.nan)[0])
if GD['meta']['ratio']:
    if r['level28'] is None:
        return None
    p *= r['level28']
return p * GD['shares'][r['day_type'] * 24 + r['ts_hour']]
$py$;

-- Every hour of [from_ts, to_ts]: one feature query for the service days, one
-- inplace_predict on the matrix, then per hour the day's value times the share.
CREATE OR REPLACE FUNCTION public.xgb_forecast(from_ts timestamptz, to_ts timestamptz)
  RETURNS SETOF double precision LANGUAGE plpython3u AS $py$
if 'bst' not in GD:
    plpy.execute('SELECT public.xgb_load()')
np = GD['np']
k = plpy.execute(GD['range_plan'], [from_ts, to_ts])[0]
rows = plpy.execute(GD['days_plan'], [k['d0'], k['d1']])
cols = GD['cols']
X = np.array([[np.nan if r[c] is None else float(r[c]) for c in cols] for r in rows], dtype=np.float32)
p = GD['bst'].inplace_predict(X, missing=np.nan).astype(np.float64)
if GD['meta']['ratio']:
    p *= np.array([np.nan if r['level28'] is None else r['level28'] for r in rows], dtype=np.float64)
day_type = np.array([r['day_type'] for r in rows], dtype=np.int64)
# service-day index and hour of every hour, from the epoch (KST = UTC+9)
e0 = (k['e0'] + 3599) // 3600 * 3600
kst = np.arange(e0, k['e1'] + 1, 3600, dtype=np.int64) + 9 * 3600
hour = (kst // 3600) % 24
i = (kst - 4 * 3600) // 86400 - (kst[0] - 4 * 3600) // 86400
return (p[i] * GD['shares'][day_type[i] * 24 + hour]).tolist()
$py$;
