/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests of replicator/db without a server: the embedded migrations
 * and the value helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/err.h"
#include "replicator/db/db.h"
#include "replicator/db/db_internal.h"
#include "replicator/db/db_migrate.h"

static void test_db_embed__migrations_consecutive(void **state)
{
    size_t n = 0, i;
    const struct db_migration *m = db_migrate_list(&n);

    (void)state;
    assert_true(n >= 2);
    assert_int_equal(db_migrate_latest(), (int64_t)n);
    for (i = 0; i < n; i++) {
        assert_int_equal(m[i].version, (int64_t)i + 1);
        assert_true(strlen(m[i].name) > 0);
        /* embedded text is the file, SPDX line first */
        assert_non_null(strstr(m[i].up, "SPDX-License-Identifier"));
        assert_non_null(strstr(m[i].down, "SPDX-License-Identifier"));
    }
    assert_non_null(strstr(m[0].up, "repo_depot_port INT4 NOT NULL "
                                    "DEFAULT 12348"));
    assert_non_null(strstr(m[0].down, "DROP TABLE tuf_repo;"));
}

static void test_db_embed__uuid_valid(void **state)
{
    (void)state;
    assert_true(db_uuid_valid("0123abcd-4567-89ef-ABCD-0123456789ab"));
    assert_false(db_uuid_valid("0123abcd-4567-89ef-ABCD-0123456789a"));
    assert_false(db_uuid_valid("0123abcd-4567-89ef-ABCD-0123456789abc"));
    assert_false(db_uuid_valid("0123abcd_4567-89ef-ABCD-0123456789ab"));
    assert_false(db_uuid_valid("0123abcg-4567-89ef-ABCD-0123456789ab"));
    assert_false(db_uuid_valid(""));
    assert_false(db_uuid_valid(NULL));
}

static void test_db_embed__time_str(void **state)
{
    char buf[DB_TIME_STR];
    struct err e = ERR_INIT;

    (void)state;
    assert_int_equal(db_time_str(buf, 0, &e), 0);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
    assert_int_equal(db_time_str(buf, 1700000000, &e), 0);
    assert_string_equal(buf, "2023-11-14T22:13:20Z");
    assert_int_equal(db_time_str(buf, INT64_MAX, &e), ERR_INVAL);
    assert_string_equal(e.msg, "time 9223372036854775807 out of range");
    db_i64_str(buf, -42);
    assert_string_equal(buf, "-42");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_db_embed__migrations_consecutive),
        cmocka_unit_test(test_db_embed__uuid_valid),
        cmocka_unit_test(test_db_embed__time_str),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
