/*
 * daily_seongsu.h — settings shared by the parts of the extension.
 */
#ifndef DAILY_SEONGSU_H
#define DAILY_SEONGSU_H

#endif							/* DAILY_SEONGSU_H */
