/*
 * train_job.h — training as a job: its options checked at enqueue, and run
 * through the SQL function seongsu.train (train_job.c).
 */
#ifndef SEONGSU_TRAIN_JOB_H
#define SEONGSU_TRAIN_JOB_H

#include "postgres.h"

#include "utils/date.h"
#include "utils/jsonb.h"

extern void TrainJobCheck(Jsonb *options, DateADT from, DateADT to);
extern int64 TrainJobRun(int64 job_id, Jsonb *options, DateADT from, DateADT to, const char *enqueued_by,
						 bool tagged, int64 *models);

#endif							/* SEONGSU_TRAIN_JOB_H */
