#!/usr/bin/env bash
# test/demo.sh — the main job: installs what is missing, builds, installs,
# starts a throwaway cluster on 127.0.0.1, creates the extension, loads the
# data folder and prints what it holds.
# Usage: bash test/demo.sh          (DAILY_SEONGSU_DATA=dir to choose the data folder)
#        bash test/demo.sh stop     (stop the demo cluster)
source "$(dirname "$0")/lib.sh"
PORT=${DS_DEMO_PORT:-25433}
if [ "${1:-}" = stop ]; then ds_stop_cluster "$PORT"; exit 0; fi

ds_install_deps
ds_build_install
ds_stage_data
if [ -z "$DS_DATA" ]; then
  cat >&2 <<MSG
No data folder found.  Provide one with DAILY_SEONGSU_DATA=/path, laid out like this:
  seongsu/card_subway_month_*.csv   CARD_SUBWAY_MONTH daily files (사용일자,노선명,[역ID,]역명,승차총승객수,하차총승객수,등록일자)
  seongsu/daily_*.csv               date,line,station,boardings,alightings
  seongsu/card_subway_time_*.csv    CardSubwayTime monthly hour sums
  seongsu/seoulmetro_hourly_*.csv   Seoul Metro day x hour counts
  seongsu/hourly_total_*.csv        service_date,line,station,hour,passengers[,day_label]
  seongsu/congestion_*.csv          survey,day_type,line,station_code,station,direction,slot_start,congestion_pct
  weather/kma_daily_*.csv           KMA daily temperatures (station 108)
  weather/openmeteo_daily_*.csv     Open-Meteo daily weather
  holidays/kasi_getRestDeInfo/YYYY/MM.json   KASI getRestDeInfo responses
MSG
  exit 2
fi

ds_say "starting a throwaway cluster on 127.0.0.1:$PORT (data in $DS_WORK/cluster-$PORT)"
ds_start_cluster "$PORT" <<< ""
psql -qX -c "CREATE EXTENSION daily_seongsu"

ds_say "importing $DS_DATA"
kind_of() {
  case "$(basename "$1")" in
    card_subway_month_*.csv) echo card_subway_month ;;
    card_subway_time_*.csv) echo card_subway_time ;;
    seoulmetro_hourly_*.csv) echo seoulmetro_hourly ;;
    daily_*.csv) echo ridership_daily ;;
    hourly_total_*.csv) echo ridership_hourly ;;
    congestion_*.csv) echo congestion_survey ;;
    kma_daily_*.csv) echo kma_daily ;;
    kma_asos_*.csv) echo kma_asos_hourly ;;
    openmeteo_daily_*.csv) echo openmeteo_daily ;;
    [0-9][0-9].json) echo kasi_holidays ;;
  esac
}
holidays=0
while IFS= read -r f; do
  k=$(kind_of "$f")
  [ -n "$k" ] || continue
  n=$(psql -qAtX -c "SELECT seongsu.import_file('$k', '$f')")
  if [ "$k" = kasi_holidays ]; then holidays=$((holidays + n)); continue; fi
  printf '  %-20s %-55s %8s rows\n' "$k" "${f#$DS_DATA/}" "$n"
done < <(find "$DS_DATA" -type f \( -name '*.csv' -o -name '*.json' \) | sort)
printf '  %-20s %-55s %8s rows\n' kasi_holidays "holidays/kasi_getRestDeInfo/*/*.json" "$holidays"

ds_say "what the database holds"
psql -X -c "SELECT * FROM seongsu.data_summary"
psql -X -c "SELECT s.line, s.name, count(*) AS days, min(day), max(day), round(avg(passengers)) AS mean_passengers
            FROM seongsu.ridership_daily r JOIN seongsu.stations s ON s.id = r.station_id
            GROUP BY 1, 2 ORDER BY days DESC LIMIT 5"

ds_say "done: psql -h 127.0.0.1 -p $PORT -U postgres   (stop with: bash test/demo.sh stop)"
