/* fuzz_admin_line - the admin socket's line protocol: splitting a line
 * into a command and its arguments, and finding the command */
#include "admin.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char    line[4097];
    char   *argv[34];
    int     argc;

    if (size >= sizeof(line))
	return 0;
    memcpy(line, data, size);
    line[size] = 0;
    argc = admin_split(line, argv, 32);
    if (argc > 32)
	abort();
    for (int i = 0; i < argc; i++)
	if (argv[i] < line || argv[i] > line + size)
	    abort();			/* words point into the line */
    if (argc > 0)
	(void) admin_command(argv[0]);
    return 0;
}
