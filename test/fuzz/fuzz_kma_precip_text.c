/*
 * fuzz_kma_precip_text.c — libFuzzer harness for ParseKmaPrecipText.
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
	v = ParseKmaPrecipText(s, &ok);
	FuzzCheckText(v, ok);
	free(s);
	return 0;
}
