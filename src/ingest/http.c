/*
 * http.c — the libcurl multi wrapper (see http.h).
 *
 * Redirects are followed here, not by libcurl: only to the origin (scheme,
 * host and port) of the request's URL, or from http to https on the same
 * host, at most HTTP_MAX_REDIRECTS times.  The URLs carry API keys; a
 * redirect elsewhere fails the request without sending anything there.  A
 * POST (the alert webhook) follows no redirect: a 3xx answer is its result.
 */
#include "postgres.h"

#include <curl/curl.h>

#include "portability/instr_time.h"

#include "http.h"

#define HTTP_MAX_BODY (256 * 1024 * 1024)
#define HTTP_MAX_REDIRECTS 3

/* A transfer's libcurl side: the easy handle and the malloc'd body buffer. */
typedef struct HttpPriv
{
	CURL	   *easy;
	char	   *buf;
	size_t		len;
	size_t		cap;
	bool		too_big;
	instr_time	start;
	char		errbuf[CURL_ERROR_SIZE];
	int			redirects;		/* redirects followed */
	char	   *location;		/* malloc'd: the URL being fetched after a redirect */
	struct curl_slist *headers;	/* a POST's request headers */
	char		refused[160];	/* why a redirect was not followed, or "" */
} HttpPriv;

/* The multi handle and the transfers it holds. */
struct HttpClient
{
	CURLM	   *multi;
	long		timeout_ms;
	int			in_flight;
	HttpTransfer **live;		/* transfers started and not yet returned */
	int			nlive;
	int			caplive;
};

static bool curl_ready = false;

/* libcurl write callback: append to the malloc'd buffer, capped. */
static size_t
HttpWrite(char *data, size_t size, size_t nmemb, void *userp)
{
	HttpPriv   *p = userp;
	size_t		n = size * nmemb;

	if (p->len + n + 1 > HTTP_MAX_BODY)
	{
		p->too_big = true;
		return 0;
	}
	if (p->len + n + 1 > p->cap)
	{
		size_t		ncap = p->cap ? p->cap : 16384;
		char	   *nbuf;

		while (ncap < p->len + n + 1)
			ncap *= 2;
		nbuf = realloc(p->buf, ncap);
		if (!nbuf)
			return 0;
		p->buf = nbuf;
		p->cap = ncap;
	}
	memcpy(p->buf + p->len, data, n);
	p->len += n;
	return n;
}

/* A client whose requests time out after timeout_ms. */
HttpClient *
HttpClientCreate(long timeout_ms)
{
	HttpClient *c = palloc0(sizeof(HttpClient));

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			elog(ERROR, "could not initialize libcurl");
		curl_ready = true;
	}
	c->multi = curl_multi_init();
	if (!c->multi)
		elog(ERROR, "could not create a libcurl multi handle");
	c->timeout_ms = timeout_ms;
	return c;
}

/* Forget a transfer's libcurl side (handle and buffer). */
static void
HttpRelease(HttpClient *c, HttpTransfer *t)
{
	HttpPriv   *p = t->priv;

	if (!p)
		return;
	if (p->easy)
	{
		curl_multi_remove_handle(c->multi, p->easy);
		curl_easy_cleanup(p->easy);
	}
	free(p->buf);
	free(p->location);
	curl_slist_free_all(p->headers);
	free(p);
	t->priv = NULL;
}

/* Start a GET of t->url. */
void
HttpStart(HttpClient *c, HttpTransfer *t)
{
	HttpPriv   *p = calloc(1, sizeof(HttpPriv));

	if (!p)
		elog(ERROR, "out of memory");
	t->priv = p;
	t->status = 0;
	t->failed = t->permanent = false;
	t->error[0] = '\0';
	t->body = NULL;
	t->len = 0;
	if (c->nlive == c->caplive)
	{
		c->caplive = c->caplive ? c->caplive * 2 : 16;
		c->live = c->live ? repalloc(c->live, sizeof(HttpTransfer *) * c->caplive)
			: palloc(sizeof(HttpTransfer *) * c->caplive);
	}
	c->live[c->nlive++] = t;
	p->easy = curl_easy_init();
	if (!p->easy)
		elog(ERROR, "could not create a libcurl handle");
	curl_easy_setopt(p->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, HttpWrite);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "daily_seongsu/" SEONGSU_VERSION);
	curl_easy_setopt(p->easy, CURLOPT_ACCEPT_ENCODING, "");
	/* redirects: see HttpFollow */
	curl_easy_setopt(p->easy, CURLOPT_FOLLOWLOCATION, 0L);
	if (t->post_json)
	{
		p->headers = curl_slist_append(NULL, "Content-Type: application/json");
		if (!p->headers)
			elog(ERROR, "out of memory");
		curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
		curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE, (long) strlen(t->post_json));
		curl_easy_setopt(p->easy, CURLOPT_POSTFIELDS, t->post_json);
	}
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	INSTR_TIME_SET_CURRENT(p->start);
	if (curl_multi_add_handle(c->multi, p->easy) != CURLM_OK)
		elog(ERROR, "could not start a libcurl transfer");
	c->in_flight++;
}

/* Requests started and not yet returned by HttpNextDone. */
int
HttpInFlight(HttpClient *c)
{
	return c->in_flight;
}

/* Scheme, host and port (the default one when absent) of url, malloc'd by libcurl; false when unparsable. */
static bool
HttpOrigin(const char *url, char **scheme, char **host, char **port)
{
	CURLU	   *h = curl_url();
	bool		ok;

	*scheme = *host = *port = NULL;
	if (!h)
		return false;
	ok = curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_SCHEME, scheme, 0) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_HOST, host, 0) == CURLUE_OK &&
		curl_url_get(h, CURLUPART_PORT, port, CURLU_DEFAULT_PORT) == CURLUE_OK;
	curl_url_cleanup(h);
	return ok;
}

/*
 * Whether a redirect from `from` to `to` stays at from's origin: the same
 * host, and the same scheme and port or an upgrade from http to https.
 * Otherwise, why not in why.
 */
static bool
HttpSameOrigin(const char *from, const char *to, char *why, size_t whylen)
{
	char	   *fs = NULL, *fh = NULL, *fp = NULL, *ts = NULL, *th = NULL, *tp = NULL;
	bool		ok = false;

	if (!HttpOrigin(from, &fs, &fh, &fp) || !HttpOrigin(to, &ts, &th, &tp))
		snprintf(why, whylen, "redirect to an unusable URL refused");
	else if (pg_strcasecmp(fh, th) != 0 ||
			 !((pg_strcasecmp(fs, ts) == 0 && strcmp(fp, tp) == 0) ||
			   (pg_strcasecmp(fs, "http") == 0 && pg_strcasecmp(ts, "https") == 0)))
		snprintf(why, whylen, "redirect to another host refused (%s://%s:%s)", ts, th, tp);
	else
		ok = true;
	curl_free(fs);
	curl_free(fh);
	curl_free(fp);
	curl_free(ts);
	curl_free(th);
	curl_free(tp);
	return ok;
}

/*
 * When t's finished response is a redirect that may be followed, start the
 * request of its Location with the same handle and return true.  A redirect
 * that may not be followed sets priv->refused (HttpFinish fails t).
 */
static bool
HttpFollow(HttpClient *c, HttpTransfer *t)
{
	HttpPriv   *p = t->priv;
	long		status = 0;
	char	   *location = NULL;
	char	   *copy;

	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &status);
	if (t->post_json)
		return false;
	if (status != 301 && status != 302 && status != 303 && status != 307 && status != 308)
		return false;
	if (curl_easy_getinfo(p->easy, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || !location)
		return false;
	if (!HttpSameOrigin(t->url, location, p->refused, sizeof(p->refused)))
		return false;
	if (p->redirects >= HTTP_MAX_REDIRECTS)
	{
		snprintf(p->refused, sizeof(p->refused), "more than %d redirects", HTTP_MAX_REDIRECTS);
		return false;
	}
	copy = strdup(location);
	if (!copy)
		return false;
	curl_multi_remove_handle(c->multi, p->easy);
	free(p->location);
	p->location = copy;
	p->redirects++;
	p->len = 0;
	p->too_big = false;
	p->errbuf[0] = '\0';
	curl_easy_setopt(p->easy, CURLOPT_URL, p->location);
	if (curl_multi_add_handle(c->multi, p->easy) != CURLM_OK)
		elog(ERROR, "could not restart a libcurl transfer");
	return true;
}

/* Fill t's results from its finished easy handle, then release libcurl's side. */
static void
HttpFinish(HttpClient *c, HttpTransfer *t, CURLcode code)
{
	HttpPriv   *p = t->priv;
	instr_time	now;
	int			i;

	INSTR_TIME_SET_CURRENT(now);
	INSTR_TIME_SUBTRACT(now, p->start);
	t->latency_ms = INSTR_TIME_GET_MILLISEC(now);
	curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE, &t->status);
	if (p->refused[0])
	{
		t->failed = true;
		t->permanent = true;
		snprintf(t->error, sizeof(t->error), "%s", p->refused);
	}
	else if (code != CURLE_OK)
	{
		t->failed = true;
		t->permanent = (code == CURLE_URL_MALFORMAT || code == CURLE_UNSUPPORTED_PROTOCOL);
		snprintf(t->error, sizeof(t->error), "%s",
				 p->too_big ? "response body larger than 256 MB"
				 : p->errbuf[0] ? p->errbuf : curl_easy_strerror(code));
	}
	t->body = palloc(p->len + 1);
	if (p->len > 0)
		memcpy(t->body, p->buf, p->len);
	t->body[p->len] = '\0';
	t->len = p->len;
	HttpRelease(c, t);
	for (i = 0; i < c->nlive; i++)
		if (c->live[i] == t)
		{
			c->live[i] = c->live[--c->nlive];
			break;
		}
	c->in_flight--;
}

/* Drive transfers for up to wait_ms; return one finished transfer or NULL. */
HttpTransfer *
HttpNextDone(HttpClient *c, int wait_ms)
{
	int			running, queued;
	CURLMsg    *msg;

	curl_multi_perform(c->multi, &running);
	msg = curl_multi_info_read(c->multi, &queued);
	if (!msg && c->in_flight > 0 && wait_ms > 0)
	{
		curl_multi_poll(c->multi, NULL, 0, wait_ms, NULL);
		curl_multi_perform(c->multi, &running);
		msg = curl_multi_info_read(c->multi, &queued);
	}
	while (msg)
	{
		if (msg->msg == CURLMSG_DONE)
		{
			HttpTransfer *t = NULL;
			CURLcode	code = msg->data.result;

			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **) &t);
			if (code == CURLE_OK && HttpFollow(c, t))
			{
				msg = curl_multi_info_read(c->multi, &queued);
				continue;
			}
			HttpFinish(c, t, code);
			return t;
		}
		msg = curl_multi_info_read(c->multi, &queued);
	}
	return NULL;
}

/* Abort whatever is in flight and free every libcurl resource. */
void
HttpClientDestroy(HttpClient *c)
{
	int			i;

	if (!c)
		return;
	for (i = 0; i < c->nlive; i++)
		HttpRelease(c, c->live[i]);
	c->nlive = 0;
	c->in_flight = 0;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	c->multi = NULL;
}
