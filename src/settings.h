/*
 * settings.h — the seongsu.* settings (GUCs), defined in settings.c.
 */
#ifndef SEONGSU_SETTINGS_H
#define SEONGSU_SETTINGS_H

extern char *seongsu_database;
extern char *seongsu_seoul_api_key;
extern char *seongsu_data_go_kr_key;
extern char *seongsu_seoul_api_url;
extern char *seongsu_data_go_kr_url;
extern char *seongsu_open_meteo_url;
extern char *seongsu_open_meteo_archive_url;
extern char *seongsu_kma_station;
extern char *seongsu_latitude;
extern char *seongsu_longitude;
extern char *seongsu_alert_webhook_url;
extern int	seongsu_kma_nx;
extern int	seongsu_kma_ny;
extern int	seongsu_http_timeout_ms;
extern int	seongsu_max_concurrency;
extern int	seongsu_max_attempts;
extern int	seongsu_retry_base_ms;
extern int	seongsu_job_max_attempts;
extern int	seongsu_job_retry_delay;
extern int	seongsu_log_ttl_days;
extern int	seongsu_day_memo_size;
extern int	seongsu_model_cache_size;
extern bool seongsu_track_runs;
extern char *seongsu_training_job;

extern void SettingsDefine(void);

#endif							/* SEONGSU_SETTINGS_H */
