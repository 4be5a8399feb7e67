/* SPDX-License-Identifier: MPL-2.0 */
/*
 * load_hostile: the hostile clients of the load bench (issue 10's list),
 * one thread that opens them from 127.0.0.2-17, keeps them misbehaving
 * and reopens every one the server closes, once a second: idle
 * connections (on TLS a third each: TCP only, never a handshake; a
 * ClientHello and nothing more; a finished handshake and then nothing),
 * slowloris request heads (one byte a second, inside TLS on TLS) and
 * readers that ask for a large reply and never read it.
 */
#ifndef BENCH_LOAD_HOSTILE_H
#define BENCH_LOAD_HOSTILE_H

#include <pthread.h>
#include <stdbool.h>

#define HOSTILE_HEADS 50
#define HOSTILE_READERS 20
#define HOSTILE_MAX_IDLE 4000
#define HOSTILE_MAX_PORTS 2

struct hostile_cfg {
    bool tls;
    int ports[HOSTILE_MAX_PORTS]; /* idle ones and heads alternate */
    int nports;
    int reader_port;              /* readers: GET reader_path there */
    const char *reader_path;
    const char *head_path;        /* the slowloris heads' target */
    int nidle;
};

struct hostile;

/* Start the thread and return once every hostile connection was tried
 * (NULL when out of memory or threads). */
struct hostile *hostile_start(const struct hostile_cfg *c);

/* Stop, close everything, free. Returns how many connections the server
 * closed and were reopened meanwhile; adds the CPU time the hostile
 * thread used (user + system, seconds) to *cpu_s: on a small machine it
 * is taken from the server and the legitimate clients. */
unsigned long hostile_stop(struct hostile *h, double *cpu_s);

#endif
