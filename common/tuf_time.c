/* SPDX-License-Identifier: MPL-2.0 */
/*
 * tuf_time: parsing and formatting of TUF "expires" timestamps (see
 * tuf_time.h). Own calendar arithmetic (days from civil date), so no
 * dependency on the process time zone. Pure functions, any thread.
 */
#include "common/tuf_time.h"

#include <stdio.h>
#include <string.h>

#include "common/err.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    int64_t era;
    unsigned yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = (unsigned)(y - era * 400);
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era;
    unsigned doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = (unsigned)(z - era * 146097);
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* Read exactly n decimal digits at s. Returns the value or -1. */
static int digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int tuf_time_parse(int64_t *out, const char *s, bool lenient)
{
    static const unsigned mdays[] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
    int y, mo, d, h, mi, sec;
    int64_t off = 0;
    const char *p;

    if (!s || strlen(s) < 20)
        return ERR_INVAL;
    y = digits(s, 4);
    mo = digits(s + 5, 2);
    d = digits(s + 8, 2);
    h = digits(s + 11, 2);
    mi = digits(s + 14, 2);
    sec = digits(s + 17, 2);
    if (y < 0 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 ||
        mi > 59 || sec < 0 || sec > 59 || s[4] != '-' || s[7] != '-' ||
        s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return ERR_INVAL;
    if ((unsigned)d > mdays[mo - 1] + (mo == 2 && leap(y)))
        return ERR_INVAL;
    p = s + 19;
    if (lenient && *p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return ERR_INVAL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (p[0] == 'Z' && p[1] == '\0') {
        off = 0;
    } else if (lenient && (p[0] == '+' || p[0] == '-') && strlen(p) == 6 &&
               p[3] == ':') {
        int oh = digits(p + 1, 2), om = digits(p + 4, 2);

        if (oh < 0 || oh > 23 || om < 0 || om > 59)
            return ERR_INVAL;
        off = (int64_t)oh * 3600 + om * 60;
        if (p[0] == '-')
            off = -off;
    } else {
        return ERR_INVAL;
    }
    /* local = UTC + offset, so UTC = local - offset. */
    *out = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 +
           (int64_t)h * 3600 + mi * 60 + sec - off;
    return 0;
}

void tuf_time_format(char out[TUF_TIME_STR_LEN], int64_t t)
{
    int64_t days = t / 86400, rem = t % 86400, y;
    unsigned m, d;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        snprintf(out, TUF_TIME_STR_LEN, "%s", y < 0 ? "0000-01-01T00:00:00Z"
                                                    : "9999-12-31T23:59:59Z");
        return;
    }
    /* m <= 12 and d <= 31; "% 100" only tells the compiler they fit. */
    snprintf(out, TUF_TIME_STR_LEN, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y,
             m % 100u, d % 100u, (int)(rem / 3600), (int)(rem / 60 % 60),
             (int)(rem % 60));
}
