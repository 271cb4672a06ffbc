/* fuzz_record - the on-disk codec: decode anything, re-encode exactly */
#include "store/record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tp_record r, back;
    struct tp_stats s;
    unsigned char buf[RECORD_MAX_SIZE];
    size_t  n;

    if (record_decode(data, size, &r) == 0) {
	n = record_encode(&r, buf, sizeof(buf));
	if (n == 0 || record_decode(buf, n, &back) != 0
	    || memcmp(&r, &back, sizeof(r)) != 0)
	    abort();			/* what decodes must round-trip */
    }
    (void) stats_decode(data, size, &s);
    return 0;
}
