/*
 * http.h — concurrent HTTP GETs (and JSON POSTs) with libcurl's multi
 * interface.
 *
 * libcurl allocates with malloc; every handle and buffer is released by
 * HttpClientDestroy, which callers run on every path (PG_FINALLY).  Bodies are
 * copied into palloc'd memory once a transfer completes.  A redirect is
 * followed only at the URL's own origin; one to another host fails the
 * transfer (permanent) before anything is sent there; a POST follows none.
 */
#ifndef SEONGSU_HTTP_H
#define SEONGSU_HTTP_H

#include "postgres.h"

/* One GET (or POST): the caller fills url, post_json and arg, the client the rest. */
typedef struct HttpTransfer
{
	const char *url;
	const char *post_json;		/* NULL: GET; else POSTed as application/json (kept by the caller until done) */
	void	   *arg;			/* the caller's */
	long		status;			/* HTTP status, 0 when no response */
	bool		failed;			/* transport error (timeout, connection, short body) */
	bool		permanent;		/* a transport error that retrying cannot fix */
	char		error[256];
	char	   *body;			/* palloc'd, NUL-terminated */
	size_t		len;
	double		latency_ms;
	void	   *priv;			/* the client's */
} HttpTransfer;

typedef struct HttpClient HttpClient;

extern HttpClient *HttpClientCreate(long timeout_ms);
extern void HttpStart(HttpClient *client, HttpTransfer *t);
extern int	HttpInFlight(HttpClient *client);
extern HttpTransfer *HttpNextDone(HttpClient *client, int wait_ms);
extern void HttpClientDestroy(HttpClient *client);

#endif							/* SEONGSU_HTTP_H */
