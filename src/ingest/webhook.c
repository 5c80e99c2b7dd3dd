/*
 * webhook.c — the alert webhook: the worker POSTs every alert queued in
 * seongsu.alert_outbox (evaluate_alerts queues each new alert there and
 * sends NOTIFY; the session never waits for the network) to the URL stored
 * with seongsu.set_secret('alert_webhook_url', ...), or in the vault, or
 * set as seongsu.alert_webhook_url (secrets.c looks it up).
 *
 * One drain: take up to WEBHOOK_BATCH due rows in one transaction, POST
 * them with none open (in parallel, WEBHOOK_TIMEOUT_MS each), and record
 * the outcomes in another.  A 2xx answer is sent; no answer, 429 or 5xx is
 * tried again after a delay doubling from seongsu.retry_base_ms (with
 * jitter, at most an hour), up to seongsu.max_attempts tries; anything else
 * fails at once.  With no URL set, the rows are skipped.  The URL may carry
 * a token: it is never logged or stored, and errors are redacted.  This
 * file reads the outbox table only: nothing of src/ops is included.
 */
#include "postgres.h"

#include <signal.h>

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "../compat.h"
#include "../safe_spi.h"
#include "../settings.h"
#include "http.h"
#include "secrets.h"
#include "webhook.h"
#include "worker.h"

PG_FUNCTION_INFO_V1(alert_outbox_wake);

#define WEBHOOK_BATCH 20
#define WEBHOOK_TIMEOUT_MS 10000
#define WEBHOOK_MAX_DELAY_MS 3600000

/* One queued alert being posted. */
typedef struct WebhookItem
{
	int64		alert_id;
	int			attempts;		/* before this one */
	char	   *body;
	HttpTransfer xfer;
	bool		done;
} WebhookItem;

/* alert_outbox_wake(): statement trigger, wake the worker at commit. */
Datum
alert_outbox_wake(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("alert_outbox_wake() must be called as a trigger")));
	WorkerWakeAtCommit();
	return PointerGetDatum(NULL);
}

/* Run a statement (caller has SPI), raising on failure. */
static void
WebhookExec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, int expect)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc != expect)
		elog(ERROR, "SPI failed (%s): %s", SPI_result_code_string(rc), sql);
}

/* True when the installed extension has the outbox (caller has SPI). */
static bool
WebhookOutboxExists(void)
{
	bool		isnull;

	WebhookExec("SELECT pg_catalog.to_regclass('seongsu.alert_outbox') IS NOT NULL", 0, NULL, NULL, NULL, SPI_OK_SELECT);
	return DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Milliseconds until the earliest pending outbox row is due (-1: none; caller has SPI). */
long
WebhookNextDueMs(void)
{
	bool		isnull;
	Datum		d;

	if (!WebhookOutboxExists())
		return -1;
	WebhookExec("SELECT (extract(epoch FROM pg_catalog.min(next_attempt_at) OPERATOR(pg_catalog.-) pg_catalog.now()) "
				"OPERATOR(pg_catalog.*) 1000)::pg_catalog.int8 "
				"FROM seongsu.alert_outbox WHERE state OPERATOR(pg_catalog.=) 'pending'",
				0, NULL, NULL, NULL, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return -1;
	return (long) Max(DatumGetInt64(d), 0);
}

/* Delete outbox rows finished more than seongsu.log_ttl_days ago (caller has SPI). */
void
WebhookPurge(void)
{
	Oid			types[1] = {INT4OID};
	Datum		v[1];

	if (!WebhookOutboxExists())
		return;
	v[0] = Int32GetDatum(seongsu_log_ttl_days);
	WebhookExec("DELETE FROM seongsu.alert_outbox WHERE state OPERATOR(pg_catalog.<>) 'pending' "
				"AND finished_at OPERATOR(pg_catalog.<) "
				"(pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(days => $1))",
				1, types, v, NULL, SPI_OK_DELETE);
}

/* Delay before try number attempts + 1: doubling from seongsu.retry_base_ms, jittered, at most an hour. */
static long
WebhookDelayMs(int attempts)
{
	double		d = (double) seongsu_retry_base_ms;
	int			i;

	for (i = 1; i < attempts && d < WEBHOOK_MAX_DELAY_MS; i++)
		d *= 2;
	d = Min(d, WEBHOOK_MAX_DELAY_MS);
	return (long) (d * (0.5 + SsRandomDouble()));
}

/*
 * A palloc'd copy of s with the URL, and its part after the host (path and
 * query, which hold a webhook's token), replaced by *** wherever they occur;
 * then every secret (secrets.c).
 */
static char *
WebhookRedact(const char *s, const char *url)
{
	const char *scheme = strstr(url, "://");
	const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
	const char *parts[2] = {url, path};
	StringInfoData out;
	const char *at = s;
	char	   *r;

	initStringInfo(&out);
	while (*at)
	{
		size_t		len = 0;
		int			i;

		for (i = 0; i < 2; i++)
			if (parts[i] && strlen(parts[i]) >= 2 && strncmp(at, parts[i], strlen(parts[i])) == 0)
				len = Max(len, strlen(parts[i]));
		if (len > 0)
		{
			appendStringInfoString(&out, "***");
			at += len;
		}
		else
			appendStringInfoChar(&out, *at++);
	}
	r = SecretsRedact(out.data);
	pfree(out.data);
	return r;
}

/* Mark every pending row skipped or failed (no usable URL) with why (caller has SPI). */
static void
WebhookGiveUp(const char *state, const char *why)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		v[2];

	v[0] = CStringGetTextDatum(state);
	v[1] = CStringGetTextDatum(why);
	WebhookExec("UPDATE seongsu.alert_outbox SET state = $1, finished_at = pg_catalog.now(), last_error = $2 "
				"WHERE state OPERATOR(pg_catalog.=) 'pending'",
				2, types, v, NULL, SPI_OK_UPDATE);
}

/*
 * Take the due rows (up to WEBHOOK_BATCH) and the URL, in one transaction;
 * rows with no usable URL are marked there.  Returns the number of items
 * (in cxt), the URL in *url (in cxt; NULL when none).
 */
static int
WebhookTake(MemoryContext cxt, WebhookItem **items, char **url)
{
	int			spi, n = 0;
	uint64		r;
	const char *u;

	*url = NULL;
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	spi = SsSpiConnect();
	if (!WebhookOutboxExists())
		goto done;
	WebhookExec("SELECT 1 FROM seongsu.alert_outbox WHERE state OPERATOR(pg_catalog.=) 'pending' LIMIT 1",
				0, NULL, NULL, NULL, SPI_OK_SELECT);
	if (SPI_processed == 0)
		goto done;
	SecretsLoad();
	u = SecretGet(SECRET_ALERT_WEBHOOK_URL);
	if (!u)
	{
		WebhookGiveUp("skipped", "no webhook URL was set (seongsu.alert_webhook_url)");
		goto done;
	}
	if (pg_strncasecmp(u, "http://", 7) != 0 && pg_strncasecmp(u, "https://", 8) != 0)
	{
		WebhookGiveUp("failed", "the webhook URL (seongsu.alert_webhook_url) is not an http:// or https:// URL");
		ereport(WARNING,
				(errmsg("daily_seongsu: alerts were not posted: the webhook URL is not an http:// or https:// URL"),
				 errhint("Set it with seongsu.set_secret('alert_webhook_url', ...) or seongsu.alert_webhook_url.")));
		goto done;
	}
	WebhookExec("SELECT alert_id, attempts, payload::pg_catalog.text FROM seongsu.alert_outbox "
				"WHERE state OPERATOR(pg_catalog.=) 'pending' AND next_attempt_at OPERATOR(pg_catalog.<=) pg_catalog.now() "
				"ORDER BY next_attempt_at, alert_id LIMIT " CppAsString2(WEBHOOK_BATCH),
				0, NULL, NULL, NULL, SPI_OK_SELECT);
	*items = MemoryContextAllocZero(cxt, sizeof(WebhookItem) * (SPI_processed + 1));
	for (r = 0; r < SPI_processed; r++)
	{
		HeapTuple	t = SPI_tuptable->vals[r];
		TupleDesc	d = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *body = SPI_getvalue(t, d, 3);

		(*items)[n].alert_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		(*items)[n].attempts = DatumGetInt32(SPI_getbinval(t, d, 2, &isnull));
		(*items)[n].body = MemoryContextStrdup(cxt, body);
		n++;
	}
	if (n > 0)
		*url = MemoryContextStrdup(cxt, u);
done:
	SsSpiFinish(spi);
	PopActiveSnapshot();
	CommitTransactionCommand();
	return n;
}

/* Start every item's POST on client and drive them to the end; false when stopped first. */
static bool
WebhookRun(HttpClient *client, WebhookItem *items, int n, const char *url, volatile sig_atomic_t *stop)
{
	int			left = n, i;

	for (i = 0; i < n; i++)
	{
		items[i].xfer.url = url;
		items[i].xfer.post_json = items[i].body;
		items[i].xfer.arg = &items[i];
		HttpStart(client, &items[i].xfer);
	}
	while (left > 0 && !*stop)
	{
		HttpTransfer *t;

		CHECK_FOR_INTERRUPTS();
		if ((t = HttpNextDone(client, 200)) != NULL)
		{
			((WebhookItem *) t->arg)->done = true;
			left--;
		}
	}
	return left == 0;
}

/* POST every item to url with no transaction open; false when stopped first. */
static bool
WebhookPost(WebhookItem *items, int n, const char *url, volatile sig_atomic_t *stop)
{
	HttpClient *volatile client = NULL;
	volatile bool finished = false;

	PG_TRY();
	{
		client = HttpClientCreate(Min(seongsu_http_timeout_ms, WEBHOOK_TIMEOUT_MS));
		finished = WebhookRun(client, items, n, url, stop);
	}
	PG_CATCH();
	{
		HttpClientDestroy(client);
		PG_RE_THROW();
	}
	PG_END_TRY();
	HttpClientDestroy(client);
	return finished;
}

/* Record each item's outcome, in one transaction, and log the failures (never the URL). */
static void
WebhookRecord(WebhookItem *items, int n, const char *url)
{
	Oid			types[6] = {INT8OID, TEXTOID, INT4OID, INT8OID, TEXTOID, BOOLOID};
	int			spi, i;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	spi = SsSpiConnect();
	for (i = 0; i < n; i++)
	{
		WebhookItem *it = &items[i];
		HttpTransfer *x = &it->xfer;
		int			tries = it->attempts + 1;
		bool		ok = !x->failed && x->status >= 200 && x->status < 300;
		bool		transient = x->failed ? !x->permanent : (x->status == 429 || x->status >= 500);
		const char *state = ok ? "sent" : transient && tries < seongsu_max_attempts ? "pending" : "failed";
		char	   *error = NULL;
		Datum		v[6];
		char		nl[6] = {' ', ' ', ' ', ' ', ' ', ' '};

		if (!it->done)
			continue;
		if (!ok)
			error = WebhookRedact(x->failed ? x->error : psprintf("HTTP %ld", x->status), url);
		v[0] = Int64GetDatum(it->alert_id);
		v[1] = CStringGetTextDatum(state);
		v[2] = Int32GetDatum((int32) x->status);
		nl[2] = x->status == 0 ? 'n' : ' ';
		v[3] = Int64GetDatum((int64) WebhookDelayMs(tries));
		v[4] = error ? CStringGetTextDatum(error) : (Datum) 0;
		nl[4] = error ? ' ' : 'n';
		v[5] = BoolGetDatum(strcmp(state, "pending") != 0);
		WebhookExec("UPDATE seongsu.alert_outbox SET state = $2, attempts = attempts OPERATOR(pg_catalog.+) 1, "
					"http_status = $3, last_error = $5, "
					"next_attempt_at = pg_catalog.clock_timestamp() OPERATOR(pg_catalog.+) "
					"pg_catalog.make_interval(secs => $4::pg_catalog.float8 OPERATOR(pg_catalog./) 1000), "
					"finished_at = CASE WHEN $6 THEN pg_catalog.clock_timestamp() END "
					"WHERE alert_id OPERATOR(pg_catalog.=) $1",
					6, types, v, nl, SPI_OK_UPDATE);
		if (!ok)
			ereport(strcmp(state, "failed") == 0 ? WARNING : LOG,
					(errmsg("daily_seongsu: alert " INT64_FORMAT " could not be posted to the webhook (try %d of at most %d): %s",
							it->alert_id, tries, seongsu_max_attempts, error),
					 strcmp(state, "failed") == 0 ? errdetail("It is marked failed in seongsu.alert_outbox.")
					 : errdetail("It is tried again later.")));
	}
	SsSpiFinish(spi);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Post the due alerts of the outbox (one batch); true when a full batch
 * was handled (more may be due).  Called by the worker between jobs.
 */
bool
WebhookDrain(MemoryContext cxt, volatile sig_atomic_t *stop)
{
	WebhookItem *items = NULL;
	char	   *url = NULL;
	int			n = WebhookTake(cxt, &items, &url);
	bool		finished;

	if (n == 0)
		return false;
	finished = WebhookPost(items, n, url, stop);
	WebhookRecord(items, n, url);
	explicit_bzero(url, strlen(url));
	return finished && n == WEBHOOK_BATCH;
}
