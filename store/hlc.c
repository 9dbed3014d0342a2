/*
 * hlc.c - the hybrid logical clock
 *
 * 64 bits: milliseconds since the epoch in the upper 48, a counter in the
 * lower 16. A local change takes max(last + 1, now); a remote change's clock
 * is followed only up to WG_HLC_MAX_DRIFT_MS beyond our wall clock, so one
 * peer with a clock a year ahead cannot drag every node after it. The value
 * is persisted with every commit, so it never goes backwards across
 * restarts.
 */
#include "store_int.h"

#include <time.h>

uint64_t wg_hlc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t wg_store__hlc_tick(wg_store *st)
{
    uint64_t wall = wg_hlc_now_ms() << 16;
    st->hlc = wall > st->hlc ? wall : st->hlc + 1;
    return st->hlc;
}

int wg_store__hlc_observe(wg_store *st, uint64_t remote)
{
    uint64_t limit = (wg_hlc_now_ms() + WG_HLC_MAX_DRIFT_MS) << 16;
    if (remote > limit) {
        if (limit > st->hlc)
            st->hlc = limit;
        return 1;
    }
    if (remote > st->hlc)
        st->hlc = remote;
    return 0;
}

void wg_hlc_format(uint64_t hlc, char out[32])
{
    wg_ident_time_utc((int64_t)((hlc >> 16) / 1000), out);
}
