/* fuzz_addr - client addresses and admin arguments to network keys */
#include "util/addr.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    text[256], key[ADDR_KEY_MAX], again[ADDR_KEY_MAX];
    struct tp_addr a;

    if (size >= sizeof(text))
	return 0;
    memcpy(text, data, size);
    text[size] = 0;
    if (addr_parse(text, &a) == 0) {
	if (addr_network_key(&a, 24, 64, key, sizeof(key)) != 0)
	    abort();			/* every parsed address has a key */
	/* A key read back as an admin argument is the same key. */
	if (addr_key_from_arg(key, 24, 64, again, sizeof(again)) != 0
	    || strcmp(key, again) != 0)
	    abort();
    }
    (void) addr_key_from_arg(text, 20, 56, key, sizeof(key));
    return 0;
}
