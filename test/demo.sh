#!/usr/bin/env bash
# test/demo.sh — the main job, end to end: installs what is missing, builds,
# installs, starts a throwaway cluster on 127.0.0.1, ingests through the
# background worker (from a local replay of the real APIs, or the live APIs
# when SEOUL_DATA_API_KEY and DATA_GO_KR_API_KEY are set), imports the
# published files of the data folder, builds features, prints the quality
# report, trains, and prints forecasts with crowd levels.
# Usage: bash test/demo.sh          (DAILY_SEONGSU_DATA=dir to choose the data folder)
#        bash test/demo.sh stop     (stop the demo cluster)
source "$(dirname "$0")/lib.sh"
PORT=${DS_DEMO_PORT:-25433}
if [ "${1:-}" = stop ]; then
  ds_stop_cluster "$PORT"
  [ -f "$DS_WORK/replay.pid" ] && kill "$(cat "$DS_WORK/replay.pid")" 2>/dev/null || true
  exit 0
fi

ds_install_deps
ds_build_install
ds_stage_data
mkdir -p "$DS_WORK"; chmod a+rx "$DS_WORK"

# Where the data come from: live APIs, a replay of the data folder, or synthetic.
LABEL=""
if [ -n "${SEOUL_DATA_API_KEY:-}" ] && [ -n "${DATA_GO_KR_API_KEY:-}" ]; then
  MODE=live
  TODAY=$(TZ=Asia/Seoul date +%F)
  SEOUL_KEY=$SEOUL_DATA_API_KEY; DGK_KEY=$DATA_GO_KR_API_KEY
  SEOUL_URL=http://openapi.seoul.go.kr:8088; DGK_URL=http://apis.data.go.kr
  OM_URL=https://api.open-meteo.com; OM_ARCHIVE_URL=https://archive-api.open-meteo.com
else
  TODAY=2025-06-03      # the replay pretends today is three days after the data end
  SEOUL_KEY=demo-seoul-key; DGK_KEY='demo+data/go/kr=='
  if [ -n "$DS_DATA" ]; then MODE=replay; else MODE=synthetic; LABEL="[SYNTHETIC] "; fi
  rm -f "$DS_WORK/replay.port"
  [ -f "$DS_WORK/replay.pid" ] && kill "$(cat "$DS_WORK/replay.pid")" 2>/dev/null || true
  python3 "$DS_ROOT/test/replay/replay_server.py" --port 0 --port-file "$DS_WORK/replay.port" \
    --data "${DS_DATA:-}" $([ "$MODE" = synthetic ] && echo --synthetic) --today "$TODAY" \
    --seoul-key "$SEOUL_KEY" --data-go-kr-key "$DGK_KEY" --quiet >"$DS_WORK/replay.log" 2>&1 &
  echo $! > "$DS_WORK/replay.pid"
  for _ in $(seq 1 100); do [ -s "$DS_WORK/replay.port" ] && break; sleep 0.1; done
  [ -s "$DS_WORK/replay.port" ] || { echo "the replay server did not start:" >&2; cat "$DS_WORK/replay.log" >&2; exit 1; }
  SEOUL_URL=http://127.0.0.1:$(cat "$DS_WORK/replay.port"); DGK_URL=$SEOUL_URL; OM_URL=$SEOUL_URL; OM_ARCHIVE_URL=$SEOUL_URL
fi
say() { printf '\n== %s%s\n' "$LABEL" "$*"; }
case $MODE in
  live) say "live APIs (keys from SEOUL_DATA_API_KEY and DATA_GO_KR_API_KEY)" ;;
  replay) say "a LOCAL REPLAY of the data folder $DS_DATA (no network; today is $TODAY)" ;;
  synthetic) say "no data folder and no keys: a SYNTHETIC Seongsu-shaped series from the replay server (today is $TODAY)" ;;
esac

say "starting a throwaway cluster on 127.0.0.1:$PORT ($DS_WORK/cluster-$PORT)"
ds_start_cluster "$PORT" <<CONF
seongsu.seoul_api_url = '$SEOUL_URL'
seongsu.data_go_kr_url = '$DGK_URL'
seongsu.open_meteo_url = '$OM_URL'
seongsu.open_meteo_archive_url = '$OM_ARCHIVE_URL'
seongsu.max_concurrency = 16
CONF
q() { psql -X -v ON_ERROR_STOP=1 "$@"; }
# Printed query output; in synthetic mode every line carries the label.
show() { q "$@" | sed "s/^/$LABEL/"; }
q -q -c "CREATE EXTENSION daily_seongsu"
# Keys live in seongsu.secrets, readable by the owner only (never in settings); kept out of the server log.
q -q -v seoul="$SEOUL_KEY" -v dgk="$DGK_KEY" >/dev/null <<'SQL'
SET log_statement = 'none';
SELECT seongsu.set_secret('seoul_api_key', :'seoul'), seongsu.set_secret('data_go_kr_key', :'dgk');
SQL

if [ "$MODE" = replay ]; then
  say "importing the published files of $DS_DATA"
  for f in seongsu/card_subway_month_2015-01_2021-07.csv:card_subway_month \
           seongsu/card_subway_month_2022-2024_selected_months.csv:card_subway_month \
           seongsu/hourly_total_2011-2014.csv:ridership_hourly \
           seongsu/seoulmetro_hourly_2023-01_2023-04.csv:seoulmetro_hourly \
           seongsu/congestion_seoulmetro_211_2015-2024.csv:congestion_survey \
           weather/kma_daily_temp_108_2011-01_2021-03.csv:kma_daily \
           weather/kma_daily_108_2024.csv:kma_daily; do
    path=${f%%:*}; kind=${f##*:}
    [ -f "$DS_DATA/$path" ] || continue
    printf '  %-18s %-55s %8s rows\n' "$kind" "$path" "$(q -qAt -c "SELECT seongsu.import_file('$kind', '$DS_DATA/$path')")"
  done
fi

say "ingesting through the background worker"
if [ "$MODE" = synthetic ]; then FROM=2022-01-01; else FROM=2022-11-29; fi
q -qAt -c "SELECT seongsu.enqueue('seoul_daily', '$FROM', date '$TODAY' - 3),
                  seongsu.enqueue('seoul_hour_profile', '2022-01-01', '2022-11-30'),
                  seongsu.enqueue('kasi_holidays', '2015-01-01', '2027-12-31'),
                  seongsu.enqueue('openmeteo_daily', '$FROM', date '$TODAY' - 3),
                  seongsu.enqueue('openmeteo_forecast', '$TODAY'),
                  seongsu.enqueue('kma_forecast', '$TODAY', NULL, '{\"base_time\": \"0500\"}'),
                  seongsu.enqueue('kma_asos_hourly', date '$TODAY' - 33, date '$TODAY' - 3)" >/dev/null
q -qAt -c "SELECT seongsu.wait_for_job(id, '15 minutes') FROM seongsu.jobs ORDER BY id" >/dev/null
show -c "SELECT source, from_date, to_date, state, requests, rows_written,
             round(extract(epoch FROM finished_at - started_at)::numeric, 1) AS seconds, left(last_error, 60) AS error
      FROM seongsu.jobs ORDER BY id"
show -c "SELECT * FROM seongsu.data_summary ORDER BY table_name"

say "features (seongsu.features, materialized by seongsu.build_features)"
show -c "SELECT * FROM seongsu.build_features('성수', '2호선', grain => 'daily', horizon => '1 day')"
show -c "SELECT kst_date, target, iso_dow AS dow, is_day_off AS off, holiday_name, block_len, lag_7d, round(roll28_mean) AS roll28,
             round(sdw4_mean) AS sdw4, round(level28) AS level28, round(temp_mean_c::numeric, 1) AS temp, weather_source
      FROM seongsu.features('성수', '2호선', date '$TODAY' - 10, date '$TODAY' + 2, 'daily', '1 day')"

say "data quality (seongsu.check_quality, as of $TODAY)"
show -c "SELECT check_name, severity, status, observed, left(detail, 90) AS detail
      FROM seongsu.check_quality(as_of => '$TODAY')"
show -At -c "SELECT 'daily passengers, weekly means: ' || seongsu.daily_sparkline()"

say "training (seongsu.train, algorithm auto, horizons 1 and 7 days)"
show -c "SELECT t.model_id, t.algorithm, h.horizon, (t.metrics->'mean'->>'rmse')::numeric(10,0) AS rmse,
             (t.metrics->'mean'->>'mape')::numeric(6,2) AS mape_pct, t.metrics->>'target_mode' AS target, t.deployed
      FROM (VALUES ('1 day'::interval), ('7 days')) h(horizon),
           LATERAL seongsu.train('성수', '2호선', 'auto', 'daily', h.horizon, force => true) t"
show -c "SELECT project, algorithm, horizon, round(backtest_rmse) AS backtest_rmse FROM seongsu.deployed_models"

say "forecast for the week after the last observation (seongsu.forecast; * = inputs themselves forecast)"
show -c "WITH f AS (SELECT * FROM seongsu.forecast('성수', '2호선', (date '$TODAY' - 2)::timestamp AT TIME ZONE 'Asia/Seoul',
                                                (date '$TODAY' + 5)::timestamp AT TIME ZONE 'Asia/Seoul' - interval '1 hour'))
      SELECT (ts AT TIME ZONE 'Asia/Seoul')::date AS day, to_char(ts AT TIME ZONE 'Asia/Seoul', 'Dy') AS dow,
             round(sum(passengers)) AS passengers,
             seongsu.sparkline(array_agg(passengers ORDER BY ts), 24) AS hours_00_23,
             max(passengers) FILTER (WHERE level = '매우혼잡') IS NOT NULL AS has_매우혼잡,
             count(*) FILTER (WHERE level IN ('혼잡', '매우혼잡')) AS crowded_hours,
             CASE WHEN bool_or(recursive) THEN '*' ELSE '' END AS r
      FROM f GROUP BY 1, 2 ORDER BY 1"
show -c "SELECT to_char(ts AT TIME ZONE 'Asia/Seoul', 'MM-DD HH24:00') AS kst, round(passengers) AS passengers,
             round(lower) AS lower, round(upper) AS upper, level
      FROM seongsu.forecast('성수', '2호선', (date '$TODAY' - 2 + time '06:00')::timestamp AT TIME ZONE 'Asia/Seoul',
                            (date '$TODAY' - 2 + time '23:00')::timestamp AT TIME ZONE 'Asia/Seoul')"

say "tracking (seongsu.runs: the calls and their candidates) and the registry (seongsu.model_versions)"
show -c "SELECT r.run_id, r.algorithm, r.horizon, r.status, count(c.run_id) AS candidates,
             (r.metrics->'mean'->>'rmse')::numeric(10,0) AS rmse, r.model_id, r.snapshot_id
      FROM seongsu.runs r LEFT JOIN seongsu.runs c ON c.parent_run_id = r.run_id
      WHERE r.parent_run_id IS NULL GROUP BY r.run_id ORDER BY r.run_id"
show -c "SELECT project, version, model_id, run_id, aliases, deployed FROM seongsu.model_versions WHERE deployed"

say "the pipeline as of $TODAY in the worker (ingest -> quality gate -> features -> monitor -> retrain policy -> promote -> publish)"
run=$(q -At -c "SELECT seongsu.run_pipeline('성수', '2호선', jsonb_build_object('as_of', date '$TODAY'))")
show -c "SELECT seongsu.wait_for_pipeline($run, '10 minutes') AS pipeline_state"
show -c "SELECT run_id, state, duration, summary, retrained, left(retrain_reason, 60) AS retrain_reason, deployed, published_rows
      FROM seongsu.pipeline_runs WHERE run_id = $run"

say "monitoring: alerts as of $TODAY and the dashboard page"
show -c "SELECT severity, kind, subject, left(detail, 80) AS detail FROM seongsu.evaluate_alerts(timestamptz '$TODAY 09:00+09')"
q -At -c "SELECT seongsu.dashboard('성수', '2호선', date '$TODAY')" > "$DS_WORK/dashboard.html"
say "the dashboard page is $DS_WORK/dashboard.html ($(wc -c < "$DS_WORK/dashboard.html") bytes; open it in a browser)"

say "done: psql -h 127.0.0.1 -p $PORT -U postgres   (stop with: bash test/demo.sh stop)"
