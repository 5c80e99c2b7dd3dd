/*
 * fuzz_kma_snow_text.c — libFuzzer harness for ParseKmaSnowText.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* Map one input (as a C string) and check the result. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *s = malloc(size + 1);
	bool		ok;
	double		v;

	memcpy(s, data, size);
	s[size] = '\0';
	v = ParseKmaSnowText(s, &ok);
	FuzzCheckText(v, ok);
	free(s);
	return 0;
}
