/*
 * webhook.h — the worker posts the alerts queued in seongsu.alert_outbox
 * to the alert webhook (webhook.c).
 */
#ifndef SEONGSU_WEBHOOK_H
#define SEONGSU_WEBHOOK_H

#include "postgres.h"

#include <signal.h>

extern bool WebhookDrain(MemoryContext cxt, volatile sig_atomic_t *stop);
extern long WebhookNextDueMs(void);
extern void WebhookPurge(void);

#endif							/* SEONGSU_WEBHOOK_H */
