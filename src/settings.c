/*
 * settings.c — every seongsu.* setting (GUC): its variable, bounds and
 * who may change it.  Keys here are the deprecated way (see
 * src/ingest/secrets.c).
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "compat.h"
#include "settings.h"

char	   *seongsu_database = NULL;
char	   *seongsu_seoul_api_key = NULL;
char	   *seongsu_data_go_kr_key = NULL;
char	   *seongsu_seoul_api_url = NULL;
char	   *seongsu_data_go_kr_url = NULL;
char	   *seongsu_open_meteo_url = NULL;
char	   *seongsu_open_meteo_archive_url = NULL;
char	   *seongsu_kma_station = NULL;
char	   *seongsu_latitude = NULL;
char	   *seongsu_longitude = NULL;
char	   *seongsu_alert_webhook_url = NULL;
int			seongsu_kma_nx = 61;
int			seongsu_kma_ny = 126;
int			seongsu_http_timeout_ms = 30000;
int			seongsu_max_concurrency = 8;
int			seongsu_max_attempts = 5;
int			seongsu_retry_base_ms = 1000;
int			seongsu_job_max_attempts = 4;
int			seongsu_job_retry_delay = 120;
int			seongsu_log_ttl_days = 30;
int			seongsu_day_memo_size = 4096;
int			seongsu_model_cache_size = 65536;
bool		seongsu_track_runs = true;
char	   *seongsu_training_job = NULL;

/* Define a superuser-only text setting. */
static void
DefineString(const char *name, const char *desc, char **var, const char *boot, int flags)
{
	DefineCustomStringVariable(name, desc, NULL, var, boot, PGC_SUSET, flags, NULL, NULL, NULL);
}

/* Define a superuser-only integer setting. */
static void
DefineInt(const char *name, const char *desc, int *var, int boot, int min, int max, int flags)
{
	DefineCustomIntVariable(name, desc, NULL, var, boot, min, max, PGC_SUSET, flags, NULL, NULL, NULL);
}

/* Define every seongsu.* setting (from _PG_init). */
void
SettingsDefine(void)
{
	int			secret = GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_NO_RESET_ALL;

	/* restart-only when the worker is registered; a later load cannot define that kind */
	DefineCustomStringVariable("seongsu.database",
							   "Database in which the ingestion worker runs jobs.",
							   NULL, &seongsu_database, "postgres",
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   0, NULL, NULL, NULL);
	/* deprecated: keys belong in seongsu.set_secret or the vault (src/ingest/secrets.h) */
	DefineString("seongsu.seoul_api_key",
				 "Deprecated: Seoul Open Data Plaza API key; store it with seongsu.set_secret instead.",
				 &seongsu_seoul_api_key, "", secret);
	DefineString("seongsu.data_go_kr_key",
				 "Deprecated: data.go.kr service key; store it with seongsu.set_secret instead.",
				 &seongsu_data_go_kr_key, "", secret);
	/* it may carry a token: hidden like a key (seongsu.set_secret('alert_webhook_url', ...) comes first) */
	DefineString("seongsu.alert_webhook_url",
				 "URL the worker POSTs new alerts to (Slack, Discord or any JSON webhook); empty: none.",
				 &seongsu_alert_webhook_url, "", secret);
	DefineString("seongsu.seoul_api_url", "Base URL of the Seoul Open Data API.",
				 &seongsu_seoul_api_url, "http://openapi.seoul.go.kr:8088", 0);
	DefineString("seongsu.data_go_kr_url", "Base URL of the data.go.kr APIs (KMA, KASI).",
				 &seongsu_data_go_kr_url, "http://apis.data.go.kr", 0);
	DefineString("seongsu.open_meteo_url", "Base URL of the Open-Meteo forecast API.",
				 &seongsu_open_meteo_url, "https://api.open-meteo.com", 0);
	DefineString("seongsu.open_meteo_archive_url", "Base URL of the Open-Meteo archive API.",
				 &seongsu_open_meteo_archive_url, "https://archive-api.open-meteo.com", 0);
	DefineString("seongsu.kma_station", "KMA ASOS station number for weather observations (108 = Seoul).",
				 &seongsu_kma_station, "108", 0);
	DefineString("seongsu.latitude", "Latitude of the weather point (Seongsu station).",
				 &seongsu_latitude, "37.5445", 0);
	DefineString("seongsu.longitude", "Longitude of the weather point (Seongsu station).",
				 &seongsu_longitude, "127.0565", 0);
	DefineInt("seongsu.kma_nx", "KMA forecast grid x (61 = Seongdong-gu).", &seongsu_kma_nx, 61, 1, 200, 0);
	DefineInt("seongsu.kma_ny", "KMA forecast grid y (126 = Seongdong-gu).", &seongsu_kma_ny, 126, 1, 300, 0);
	DefineInt("seongsu.http_timeout_ms", "Timeout of one HTTP request, in milliseconds.",
			  &seongsu_http_timeout_ms, 30000, 100, 600000, GUC_UNIT_MS);
	DefineInt("seongsu.max_concurrency", "HTTP requests in flight at once per job.",
			  &seongsu_max_concurrency, 8, 1, 64, 0);
	DefineInt("seongsu.max_attempts", "Tries of one request before its job fails (transient errors only).",
			  &seongsu_max_attempts, 5, 1, 20, 0);
	DefineInt("seongsu.retry_base_ms", "First retry delay; doubles each retry, with jitter, up to 60 s.",
			  &seongsu_retry_base_ms, 1000, 1, 600000, GUC_UNIT_MS);
	DefineInt("seongsu.job_max_attempts",
			  "Runs of a job that fails only on transient errors before it fails for good (1: no job-level retry).",
			  &seongsu_job_max_attempts, 4, 1, 20, 0);
	DefineInt("seongsu.job_retry_delay",
			  "Wait before a job that failed on a transient error runs again; doubles each run, up to 1 hour.",
			  &seongsu_job_retry_delay, 120, 1, 3600, GUC_UNIT_S);
	DefineInt("seongsu.log_ttl_days", "Days ingest_log rows are kept.",
			  &seongsu_log_ttl_days, 30, 1, 3650, 0);
	DefineCustomIntVariable("seongsu.day_memo_size",
							"Days kept in the shared-memory memo of answered predictions (0: none).",
							"When full, a new day replaces an arbitrary one; needs the library in shared_preload_libraries.",
							&seongsu_day_memo_size, 4096, 0, 100000,
							process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							0, NULL, NULL, NULL);
	DefineCustomIntVariable("seongsu.model_cache_size",
							"Shared memory for models ready to predict, shared by every backend (0: none).",
							"A model that does not fit is not shared; needs the library in shared_preload_libraries.",
							&seongsu_model_cache_size, 65536, 0, 16 * 1024 * 1024,
							process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							GUC_UNIT_KB, NULL, NULL, NULL);
	DefineCustomBoolVariable("seongsu.track_runs",
							 "Record every train() call in seongsu.runs (with its candidates, metrics and backtest predictions).",
							 "Off only to measure what tracking costs: runs are the record of how each model was made.",
							 &seongsu_track_runs, true, PGC_SUSET, 0, NULL, NULL, NULL);
	DefineString("seongsu.training_job",
				 "The training job the worker is running (set by the job runner): its run is tagged with it and shows as running at once.",
				 &seongsu_training_job, "", GUC_NOT_IN_SAMPLE | GUC_NO_RESET_ALL);
	SsReserveGucPrefix("seongsu");
}
