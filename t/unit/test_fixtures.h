
/*
 * Fixture loading for the cmocka unit tests.  Fixtures are read from
 * $RTAGENT_FIXTURES, by default t/fixtures (the tests
 * run from the repo root).  Static functions: each test is one program.
 */


#ifndef _TEST_FIXTURES_H_INCLUDED_
#define _TEST_FIXTURES_H_INCLUDED_


#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>


#define TEST_FIXTURES_DEFAULT  "t/fixtures"


/*
 * The file name in dir, malloc'ed, its size in *len.  A NUL follows the
 * len bytes, for yajl_tree_parse(); tests that hand a body to a parser
 * copy it into a buffer of exactly len bytes, so ASan still catches a
 * read past the end.
 */

static char *
read_file(const char *dir, const char *name, size_t *len)
{
    char    path[1024];
    char   *buf;
    long    n;
    FILE   *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);

    f = fopen(path, "rb");
    if (f == NULL) {
        fail_msg("cannot open %s (set RTAGENT_FIXTURES)", path);
    }

    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    assert_true(n > 0);
    assert_int_equal(fseek(f, 0, SEEK_SET), 0);

    buf = malloc((size_t) n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
    fclose(f);

    buf[n] = '\0';

    *len = (size_t) n;
    return buf;
}


static const char *
fixtures(void)
{
    const char  *dir;

    dir = getenv("RTAGENT_FIXTURES");

    return dir ? dir : TEST_FIXTURES_DEFAULT;
}


#endif /* _TEST_FIXTURES_H_INCLUDED_ */
