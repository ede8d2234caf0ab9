
/*
 * LD_PRELOAD shim for t/073: OpenSSL's RAND_bytes() as if the generator
 * repeated itself.  RTAGENT_TEST_RAND_IDS is a pattern, one letter per
 * call for 6 bytes (the size of the tool store's record-id suffix), in
 * order: 'z' gives six zero bytes, so those ids collide, any other letter
 * the real bytes; past the pattern and for other sizes, the real ones.
 * The pattern is read when the library is loaded, in the master: nginx
 * clears the environment of its workers, which inherit it at fork.
 */


#define _GNU_SOURCE

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>


static const char  *rand_ids = "";


__attribute__((constructor)) static void
rand_ids_init(void)
{
    const char  *s;

    s = getenv("RTAGENT_TEST_RAND_IDS");
    if (s != NULL) {
        rand_ids = strdup(s);
    }
}


int
RAND_bytes(unsigned char *buf, int num)
{
    static int  (*real)(unsigned char *, int);

    if (num == 6 && *rand_ids != '\0') {
        if (*rand_ids++ == 'z') {
            memset(buf, 0, 6);
            return 1;
        }
    }

    if (real == NULL) {
        real = (int (*)(unsigned char *, int)) dlsym(RTLD_NEXT, "RAND_bytes");
    }

    return real ? real(buf, num) : 0;
}
