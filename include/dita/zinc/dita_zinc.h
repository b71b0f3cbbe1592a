/* Zinc plane binary layouts: the single source of truth for every shared-memory region.
 *
 * C99, no C++ required: a strategy process can include this header, map a region and use the
 * GCC/Clang __atomic builtins on the fields marked (atomic) to write intents and read state
 * without linking the kernel. The C++ library (the dita/zinc headers) accesses the very same
 * structs through std::atomic_ref. docs/zinc-layout.md describes the protocols.
 *
 * Rules: little-endian, natural alignment, no implicit padding (every gap is an explicit
 * field), every offset and size checked below at compile time in both C and C++.
 * Hot words written by different parties live on different 64-byte cache lines.
 */
#ifndef DITA_ZINC_DITA_ZINC_H
#define DITA_ZINC_DITA_ZINC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DITA_ZINC_LAYOUT_VERSION 1u
#define DITA_ZINC_CACHE_LINE 64u
#define DITA_ZINC_HEADER_SIZE 128u

/* Region magics: ASCII "DZNSTATE", "DZNCNTRL", "DZNINTNT" read as little-endian u64. */
#define DITA_ZINC_MAGIC_STATE 0x45544154534E5A44ull
#define DITA_ZINC_MAGIC_CONTROL 0x4C52544E434E5A44ull
#define DITA_ZINC_MAGIC_INTENT 0x544E544E494E5A44ull

#define DITA_ZINC_KIND_STATE 1u
#define DITA_ZINC_KIND_CONTROL 2u
#define DITA_ZINC_KIND_INTENT 3u

/* Common header at offset 0 of every region. */
typedef struct dita_zinc_region_header {
  uint64_t magic;             /*  0 (atomic) written last, release; 0 = not initialised */
  uint32_t layout_version;    /*  8 */
  uint32_t region_kind;       /* 12 DITA_ZINC_KIND_* */
  uint64_t total_size;        /* 16 bytes, equals the mapped length */
  uint32_t header_size;       /* 24 = DITA_ZINC_HEADER_SIZE */
  uint32_t record_size;       /* 28 payload bytes per record / intent */
  uint32_t record_count;      /* 32 state: 1; control: 1; intent: queue capacity */
  uint32_t aux_count;         /* 36 intent: max producers; otherwise 0 */
  uint64_t writer_identity;   /* 40 (atomic) (pid << 32) | (start_time & 0xffffffff); CAS'd */
  uint64_t writer_start_time; /* 48 /proc/<pid>/stat field 22 (clock ticks since boot) */
  int32_t writer_pid;         /* 56 */
  uint32_t closed_cleanly;    /* 60 (atomic) 1 once the writer closed the region */
  uint64_t heartbeat_counter; /* 64 (atomic) */
  uint64_t heartbeat_mono_ns; /* 72 (atomic) CLOCK_MONOTONIC of the last heartbeat */
  uint64_t writer_epoch;      /* 80 (atomic) +1 at creation and at every takeover */
  uint64_t created_real_ns;   /* 88 CLOCK_REALTIME at creation */
  uint8_t reserved[32];       /* 96 */
} dita_zinc_region_header;    /* 128 */

/* A double-buffered latest-value cell's control block (128 bytes, two cache lines). */
typedef struct dita_zinc_cell_control {
  uint64_t generation;    /*   0 (atomic) number of complete publishes; buffer = generation & 1 */
  uint64_t write_begin;   /*   8 (atomic) generation being written; > generation while writing */
  uint32_t futex_word;    /*  16 (atomic) +1 per publish; shared futex */
  uint32_t reserved0;     /*  20 */
  uint64_t writer_lock;   /*  24 (atomic) multi-writer cells only: identity of the lock holder */
  uint8_t pad0[32];       /*  32 */
  uint32_t waiters;       /*  64 (atomic) readers sleeping in FUTEX_WAIT */
  uint8_t pad1[60];       /*  68 */
} dita_zinc_cell_control; /* 128 */

/* State region: header, cell control, buffer 0, buffer 1 (each stride bytes, 64-aligned). */
#define DITA_ZINC_STATE_CELL_OFFSET 128u
#define DITA_ZINC_STATE_BUFFER0_OFFSET 256u
#define DITA_ZINC_ROUND_UP64(n) ((((uint64_t)(n)) + 63u) & ~(uint64_t)63u)
#define DITA_ZINC_STATE_STRIDE(record_size) DITA_ZINC_ROUND_UP64(record_size)
#define DITA_ZINC_STATE_TOTAL_SIZE(record_size) \
  (DITA_ZINC_STATE_BUFFER0_OFFSET + 2u * DITA_ZINC_STATE_STRIDE(record_size))

/* Control region. Enum values are part of the layout. */
#define DITA_ZINC_MODE_NORMAL 0u
#define DITA_ZINC_MODE_DEBUG 1u
#define DITA_ZINC_VERBOSITY_QUIET 0u
#define DITA_ZINC_VERBOSITY_VERBOSE 1u
#define DITA_ZINC_VERBOSITY_TRACE 2u
#define DITA_ZINC_BACKEND_MOCK 0u
#define DITA_ZINC_BACKEND_BINGX 1u
#define DITA_ZINC_CONTROL_STATUS_APPLIED 0u
#define DITA_ZINC_CONTROL_STATUS_REJECTED 1u

typedef struct dita_zinc_control_settings {
  uint8_t mode;                     /*  0 DITA_ZINC_MODE_* */
  uint8_t verbosity;                /*  1 DITA_ZINC_VERBOSITY_* */
  uint8_t backend;                  /*  2 DITA_ZINC_BACKEND_* */
  uint8_t debug_clickhouse_enabled; /*  3 0/1 */
  uint8_t trace_transitions;        /*  4 0/1 */
  uint8_t mirror_to_hazelcast;      /*  5 0/1 */
  uint8_t reconcile_on_restart;     /*  6 0/1 */
  uint8_t reserved0;                /*  7 */
  uint32_t active_slot_limit;       /*  8 */
  uint32_t reserved1;               /* 12 */
} dita_zinc_control_settings;       /* 16 */

typedef struct dita_zinc_control_record {
  uint64_t change_seq;                 /*  0 requested: request number; applied: changes applied */
  uint64_t request_seq;                /*  8 applied: the request this answers (0 = initial) */
  dita_zinc_control_settings settings; /* 16 */
  uint32_t status;                     /* 32 applied: DITA_ZINC_CONTROL_STATUS_* */
  int32_t requester_pid;               /* 36 */
  uint8_t reserved[24];                /* 40 */
} dita_zinc_control_record;            /* 64 */

#define DITA_ZINC_CONTROL_APPLIED_CELL_OFFSET 128u
#define DITA_ZINC_CONTROL_REQUESTED_CELL_OFFSET 256u
#define DITA_ZINC_CONTROL_APPLIED_BUFFER0_OFFSET 384u
#define DITA_ZINC_CONTROL_REQUESTED_BUFFER0_OFFSET 512u
#define DITA_ZINC_CONTROL_STRIDE 64u
#define DITA_ZINC_CONTROL_TOTAL_SIZE 640u

/* Intent queue region: header, queue control, producer table, slots. */
typedef struct dita_zinc_queue_control {
  uint64_t enqueue_pos;        /*   0 (atomic) producers CAS this to claim a slot */
  uint8_t pad0[56];            /*   8 */
  uint64_t dequeue_pos;        /*  64 (atomic) next position the consumer reads */
  uint64_t committed_count;    /*  72 (atomic) */
  uint64_t duplicates_skipped; /*  80 (atomic) */
  uint64_t abandoned_count;    /*  88 (atomic) slots skipped because their producer died */
  uint8_t pad1[32];            /*  96 */
  uint32_t futex_word;         /* 128 (atomic) +1 per committed enqueue; shared futex */
  uint32_t waiters;            /* 132 (atomic) consumers sleeping */
  uint8_t pad2[56];            /* 136 */
} dita_zinc_queue_control;     /* 192 */

typedef struct dita_zinc_producer_record {
  uint64_t applied_seq;       /*  0 (atomic) highest producer sequence the consumer committed */
  uint64_t applied_count;     /*  8 (atomic) */
  uint64_t last_enqueued_seq; /* 16 (atomic) informational */
  uint64_t reserved[5];       /* 24 */
} dita_zinc_producer_record;  /* 64 */

typedef struct dita_zinc_queue_slot_header {
  uint64_t sequence;           /*  0 (atomic) Vyukov turn: pos = free, pos + 1 = committed */
  uint64_t claim_identity;     /*  8 (atomic) writer identity of the producer holding the slot */
  uint64_t claim_pos;          /* 16 (atomic) position claim_identity refers to; release */
  uint32_t producer_id;        /* 24 */
  uint32_t payload_size;       /* 28 */
  uint64_t producer_seq;       /* 32 */
  uint64_t enqueue_mono_ns;    /* 40 */
  uint8_t reserved[16];        /* 48 */
} dita_zinc_queue_slot_header; /* 64, payload follows */

#define DITA_ZINC_QUEUE_CONTROL_OFFSET 128u
#define DITA_ZINC_QUEUE_PRODUCERS_OFFSET 320u
#define DITA_ZINC_QUEUE_SLOTS_OFFSET(max_producers) \
  (DITA_ZINC_QUEUE_PRODUCERS_OFFSET + 64u * (uint64_t)(max_producers))
#define DITA_ZINC_QUEUE_SLOT_STRIDE(payload_size) (64u + DITA_ZINC_ROUND_UP64(payload_size))
#define DITA_ZINC_QUEUE_TOTAL_SIZE(payload_size, capacity, max_producers) \
  (DITA_ZINC_QUEUE_SLOTS_OFFSET(max_producers) +                          \
   (uint64_t)(capacity)*DITA_ZINC_QUEUE_SLOT_STRIDE(payload_size))

/* Compile-time layout checks (C99-compatible: a negative array size fails the build). */
#define DITA_ZINC_CAT_(a, b) a##b
#define DITA_ZINC_CAT(a, b) DITA_ZINC_CAT_(a, b)
#define DITA_ZINC_CHECK(cond) \
  typedef char DITA_ZINC_CAT(dita_zinc_layout_check_, __LINE__)[(cond) ? 1 : -1]

DITA_ZINC_CHECK(sizeof(dita_zinc_region_header) == 128);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, layout_version) == 8);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, total_size) == 16);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, record_size) == 28);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, writer_identity) == 40);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, writer_pid) == 56);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, closed_cleanly) == 60);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, heartbeat_counter) == 64);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, writer_epoch) == 80);
DITA_ZINC_CHECK(offsetof(dita_zinc_region_header, reserved) == 96);
DITA_ZINC_CHECK(sizeof(dita_zinc_cell_control) == 128);
DITA_ZINC_CHECK(offsetof(dita_zinc_cell_control, futex_word) == 16);
DITA_ZINC_CHECK(offsetof(dita_zinc_cell_control, writer_lock) == 24);
DITA_ZINC_CHECK(offsetof(dita_zinc_cell_control, waiters) == 64);
DITA_ZINC_CHECK(sizeof(dita_zinc_control_settings) == 16);
DITA_ZINC_CHECK(offsetof(dita_zinc_control_settings, active_slot_limit) == 8);
DITA_ZINC_CHECK(sizeof(dita_zinc_control_record) == 64);
DITA_ZINC_CHECK(offsetof(dita_zinc_control_record, settings) == 16);
DITA_ZINC_CHECK(offsetof(dita_zinc_control_record, status) == 32);
DITA_ZINC_CHECK(sizeof(dita_zinc_queue_control) == 192);
DITA_ZINC_CHECK(offsetof(dita_zinc_queue_control, dequeue_pos) == 64);
DITA_ZINC_CHECK(offsetof(dita_zinc_queue_control, futex_word) == 128);
DITA_ZINC_CHECK(offsetof(dita_zinc_queue_control, waiters) == 132);
DITA_ZINC_CHECK(sizeof(dita_zinc_producer_record) == 64);
DITA_ZINC_CHECK(sizeof(dita_zinc_queue_slot_header) == 64);
DITA_ZINC_CHECK(offsetof(dita_zinc_queue_slot_header, claim_pos) == 16);
DITA_ZINC_CHECK(offsetof(dita_zinc_queue_slot_header, producer_id) == 24);
DITA_ZINC_CHECK(offsetof(dita_zinc_queue_slot_header, producer_seq) == 32);
DITA_ZINC_CHECK(DITA_ZINC_QUEUE_CONTROL_OFFSET + sizeof(dita_zinc_queue_control) ==
                DITA_ZINC_QUEUE_PRODUCERS_OFFSET);
DITA_ZINC_CHECK(DITA_ZINC_CONTROL_REQUESTED_BUFFER0_OFFSET + 2u * DITA_ZINC_CONTROL_STRIDE ==
                DITA_ZINC_CONTROL_TOTAL_SIZE);

#ifdef __cplusplus
}
#endif

#endif /* DITA_ZINC_DITA_ZINC_H */
