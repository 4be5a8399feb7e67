/* SPDX-License-Identifier: MPL-2.0 */
/* hex: strict hex encode/decode (see hex.h). */
#include "common/hex.h"

#include "common/err.h"

void hex_encode(char *out, const uint8_t *in, size_t n)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0xf];
    }
    out[2 * n] = '\0';
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int hex_decode(uint8_t *out, size_t cap, size_t *outlen, const char *s,
               size_t slen)
{
    if (slen % 2 != 0 || slen / 2 > cap)
        return ERR_INVAL;
    for (size_t i = 0; i < slen / 2; i++) {
        int hi = hex_digit(s[2 * i]), lo = hex_digit(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return ERR_INVAL;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    *outlen = slen / 2;
    return 0;
}
