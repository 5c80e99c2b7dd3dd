/*
 * import_kinds.c — the import kinds of seongsu.import_text and import_file,
 * listed once: name, table, source label, parser, what the kind is and the
 * layout it expects.  The error hints and seongsu.import_kinds() come from
 * this list.  Pure C.
 */
#include "import.h"

#include <string.h>

/* Every import kind, ending with an entry whose name is NULL. */
const ImportKind ImportKinds[] = {
	{"card_subway_month", ROWS_RIDERSHIP_DAILY, "card_subway_month", ImportDailyCsv,
		"Seoul Open Data CARD_SUBWAY_MONTH file: boardings and alightings per station and day, into ridership_daily.",
	"Expected CARD_SUBWAY_MONTH columns 사용일자,노선명,[역ID,]역명,승차총승객수,하차총승객수,등록일자 with whole-number counts."},
	{"card_subway_time", ROWS_HOUR_PROFILE, "card_subway_time", ImportCardSubwayTimeCsv,
		"Seoul Open Data CardSubwayTime file: boardings and alightings per station, month and hour, into hour_profile.",
	"Expected CardSubwayTime columns 사용월,호선명,지하철역,04시-05시 승차인원,04시-05시 하차인원,…,03시-04시 하차인원,작업일자."},
	{"seoulmetro_hourly", ROWS_RIDERSHIP_HOURLY, "seoulmetro_hourly", ImportSeoulMetroHourlyCsv,
		"Seoul Metro day × hour file: boardings and alightings per station, day and hour, into ridership_hourly.",
	"Expected Seoul Metro columns 날짜,호선,역번호,역명,구분,06시 이전,06 ~ 07,…,23 ~ 24,24시 이후,합 계 with one 승차 and one 하차 row per station and day."},
	{"ridership_daily", ROWS_RIDERSHIP_DAILY, "ridership_daily", ImportDailyCsv,
		"Daily CSV in English: boardings and alightings per station and day, into ridership_daily.",
	"Expected columns date,line,station,boardings,alightings[,registered] with dates as YYYY-MM-DD and whole-number counts."},
	{"ridership_hourly", ROWS_RIDERSHIP_HOURLY, "ridership_hourly", ImportHourlyCsv,
		"Hourly CSV in English: passengers (or boardings and alightings) per station, service day and hour, into ridership_hourly.",
	"Expected columns service_date,line,station,hour,passengers[,day_label] with hour 0-23 (hours 0-3 are after midnight)."},
	{"kma_daily", ROWS_WEATHER_DAILY, "kma", ImportKmaDailyCsv,
		"KMA daily observations of one station: temperatures and precipitation per day, into weather_daily.",
	"Expected a KMA daily file with columns 일시 (or 날짜), 지점, 평균기온(°C), 최저기온(°C), 최고기온(°C)[, 강수량(mm)]."},
	{"kma_asos_hourly", ROWS_WEATHER_HOURLY, "kma", ImportKmaAsosCsv,
		"KMA OBS_ASOS_TIM download of one station: temperature, precipitation, wind, humidity and snow per hour, into weather_hourly.",
	"Expected a KMA OBS_ASOS_TIM file with columns 지점,지점명,일시,기온(°C),…,강수량(mm),…,풍속(m/s),…,습도(%),…,적설(cm)."},
	{"openmeteo_daily", ROWS_WEATHER_DAILY, "open-meteo", ImportOpenMeteoDaily,
		"Open-Meteo daily weather (a CSV or an archive API response): temperatures, precipitation, rain and snow per day, into weather_daily.",
	"Expected date,temperature_2m_mean,…,precipitation_sum,rain_sum,snowfall_sum (CSV) or an Open-Meteo archive JSON response."},
	{"kasi_holidays", ROWS_HOLIDAYS, "kasi", ImportKasiJson,
		"One KASI getRestDeInfo response: the public holidays of a month, into holidays.",
	"Expected one JSON response of the KASI getRestDeInfo API (_type=json)."},
	{"congestion_survey", ROWS_CONGESTION, "seoulmetro", ImportCongestionCsv,
		"Seoul Metro congestion surveys: % of car capacity per station, direction and time slot, into congestion_survey.",
	"Expected columns survey,day_type,line,station_code,station,direction,slot_start,congestion_pct."},
	{NULL, 0, NULL, NULL, NULL, NULL}
};

/* The import kind called name, or NULL. */
const ImportKind *
ImportKindLookup(const char *name)
{
	const ImportKind *k;

	for (k = ImportKinds; k->name; k++)
		if (strcmp(k->name, name) == 0)
			return k;
	return NULL;
}
