/*
 * secrets.h — the API keys: where a job finds them and how every string the
 * extension stores or logs is kept free of them.
 *
 * A key is looked up, in this order, in seongsu.secrets (written by
 * seongsu.set_secret, readable by the extension's owner only), in
 * vault.decrypted_secrets when that view exists and belongs to a superuser
 * or the owner (supabase_vault; skipped with a WARNING when it fails to
 * answer), and last in the setting seongsu.<name>, which gives a WARNING
 * once per process for the API keys (deprecated there); for
 * alert_webhook_url the setting is a documented way.  Lookups run as
 * the extension's owner, so run_pending_jobs works for an operator who
 * cannot read the keys.
 */
#ifndef SEONGSU_SECRETS_H
#define SEONGSU_SECRETS_H

#include "postgres.h"

/* The keys the sources need, and the alert webhook's URL (it may hold a token). */
typedef enum SecretId
{
	SECRET_SEOUL_API_KEY,		/* Seoul Open Data Plaza */
	SECRET_DATA_GO_KR_KEY,		/* data.go.kr (KMA, KASI) */
	SECRET_ALERT_WEBHOOK_URL	/* where the worker posts new alerts (webhook.c) */
} SecretId;

extern const char *SecretName(SecretId id);
extern void SecretsLoad(void);
extern const char *SecretGet(SecretId id);
extern char *SecretsRedact(const char *s);
extern void SecretsRedactBuf(char *buf, size_t size);

#endif							/* SEONGSU_SECRETS_H */
