/* Payload layouts of the kernel's Zinc regions: the state image the kernel publishes into
 * /dita.<instance>.state and the intent record strategies enqueue into /dita.<instance>.intent.
 *
 * C99, no C++ required: together with dita/zinc/dita_zinc.h (region header, cell and queue
 * protocols) a strategy can read slot state and write intents without linking the kernel.
 * docs/zinc-layout.md ("Kernel payloads") describes the fields and their rules.
 *
 * Rules: little-endian, natural alignment, no implicit padding, every offset checked below.
 * Money, prices and quantities are int64 in units of 1e-8 (dita::core fixed point). Text
 * fields are NUL-terminated and NUL-padded. Enum codes equal the order of dita::core's enums,
 * whose stable strings (`IDLE`, `LONG`, ...) are what tools print.
 */
#ifndef DITA_RUNTIME_DITA_STATE_H
#define DITA_RUNTIME_DITA_STATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the payloads below (the region header's layout_version is Zinc's own). */
/* 2: sinks[] appended to the image; 3: a sink's last_error 88 -> 472 bytes (whole server
 * messages, which ran past 88) */
#define DITA_STATE_LAYOUT_VERSION 3u
/* Every image carries room for this many slots (dita::core::Kernel::kMaxSlots); entries at or
 * past header.slot_count are zero. A fixed size keeps the region geometry independent of the
 * configured slot count, so a reader needs no configuration to open it. */
#define DITA_STATE_MAX_SLOTS 256u
#define DITA_STATE_ASSET_SIZE 24u
#define DITA_STATE_ORDER_ID_SIZE 48u
/* Sink health entries at the end of the image: [0] ClickHouse, [1] Hazelcast. */
#define DITA_STATE_SINK_COUNT 2u
#define DITA_STATE_SINK_CLICKHOUSE 0u
#define DITA_STATE_SINK_HAZELCAST 1u
#define DITA_STATE_SINK_ERROR_SIZE 472u

/* dita::core::TradeStage */
#define DITA_STAGE_IDLE 0u
#define DITA_STAGE_ENTRY_WORKING 1u
#define DITA_STAGE_POSITION_OPEN 2u
#define DITA_STAGE_EXIT_WORKING 3u
#define DITA_STAGE_CLOSED 4u
#define DITA_STAGE_STALE_STATE_RECONCILING 5u
/* dita::core::Side */
#define DITA_SIDE_LONG 0u
#define DITA_SIDE_SHORT 1u
/* dita::core::OrderStatus, OrderRole, OrderSide, OrderType */
#define DITA_ORDER_STATUS_PENDING_NEW 0u
#define DITA_ORDER_STATUS_NEW 1u
#define DITA_ORDER_STATUS_PARTIALLY_FILLED 2u
#define DITA_ORDER_STATUS_FILLED 3u
#define DITA_ORDER_STATUS_CANCELED 4u
#define DITA_ORDER_STATUS_REJECTED 5u
#define DITA_ORDER_STATUS_NOT_FOUND 6u
#define DITA_ORDER_ROLE_ENTRY 0u
#define DITA_ORDER_ROLE_EXIT 1u
#define DITA_ORDER_SIDE_BUY 0u
#define DITA_ORDER_SIDE_SELL 1u
#define DITA_ORDER_TYPE_MARKET 0u
#define DITA_ORDER_TYPE_LIMIT 1u
/* dita::core::KernelIntentKind */
#define DITA_INTENT_ENTER 0u
#define DITA_INTENT_EXIT 1u
#define DITA_INTENT_CANCEL 2u

/* dita_state_slot.flags */
#define DITA_SLOT_FLAG_WORKING_ORDER 1u    /* the order_* fields describe the working order */
#define DITA_SLOT_FLAG_SETTLED 2u          /* the current trade closed and was settled */
#define DITA_SLOT_FLAG_CANCEL_REQUESTED 4u /* a cancel of the working order is in flight */

/* dita_state_sink.state (dita::sink::SinkState) */
#define DITA_SINK_STATE_DISABLED 0u /* not configured (or switched off by a setting) */
#define DITA_SINK_STATE_UP 1u       /* last delivery succeeded, backlog small */
#define DITA_SINK_STATE_DEGRADED 2u /* retrying after a failure, or a large backlog */
#define DITA_SINK_STATE_DOWN 3u     /* repeated failures; records keep spooling */

/* dita_state_header.status */
#define DITA_STATE_STATUS_STARTING 0u /* regions taken, journal being recovered */
#define DITA_STATE_STATUS_RUNNING 1u  /* taking inputs */
#define DITA_STATE_STATUS_STOPPED 2u  /* clean shutdown: journal closed, nothing more comes */

typedef struct dita_state_header {
  uint32_t layout_version;     /*  0 DITA_STATE_LAYOUT_VERSION */
  uint32_t slot_count;         /*  4 slots the kernel has (1..DITA_STATE_MAX_SLOTS) */
  uint64_t inputs_processed;   /*  8 kernel input sequence of the last input folded */
  uint64_t journal_sequence;   /* 16 last journal record committed when this was published */
  int64_t updated_real_ns;     /* 24 CLOCK_REALTIME of this publish */
  uint32_t active_slot_limit;  /* 32 the limit the kernel applies now */
  int32_t kernel_pid;          /* 36 */
  uint64_t intents_handled;    /* 40 intents taken from the queue by this server process */
  uint64_t control_change_seq; /* 48 applied control change the kernel runs with */
  uint32_t status;             /* 56 DITA_STATE_STATUS_* */
  uint32_t reserved0;          /* 60 */
} dita_state_header;           /* 64 */

typedef struct dita_state_account {
  int64_t capital;          /*  0 */
  int64_t peak_capital;     /*  8 */
  int64_t drawdown;         /* 16 */
  int64_t max_drawdown;     /* 24 */
  int64_t realized_total;   /* 32 */
  int64_t unrealized_total; /* 40 */
  uint64_t trade_seq;       /* 48 closed trades settled */
  uint8_t seeded;           /* 56 0/1 capital was seeded */
  uint8_t reserved0[7];     /* 57 */
} dita_state_account;       /* 64 */

typedef struct dita_state_slot {
  uint32_t slot_id;                               /*   0 */
  uint32_t trade_id;                              /*   4 0 = no trade yet */
  uint8_t stage;                                  /*   8 DITA_STAGE_* */
  uint8_t stage_before_reconcile;                 /*   9 DITA_STAGE_* */
  uint8_t side;                                   /*  10 DITA_SIDE_* */
  uint8_t flags;                                  /*  11 DITA_SLOT_FLAG_* */
  uint16_t leverage;                              /*  12 */
  uint16_t exit_legs_filled;                      /*  14 */
  char asset[DITA_STATE_ASSET_SIZE];              /*  16 "BTC-USDT"; empty before the first trade */
  int64_t size;                                   /*  40 open position, coins */
  int64_t entry_price;                            /*  48 average entry price */
  int64_t realized_pnl;                           /*  56 this trade */
  int64_t unrealized_pnl;                         /*  64 against mark_price */
  int64_t fees_paid;                              /*  72 */
  int64_t mark_price;                             /*  80 */
  int64_t opened_ts_ns;                           /*  88 */
  int64_t closed_ts_ns;                           /*  96 */
  uint64_t last_input_seq;                        /* 104 kernel input that last changed the slot */
  uint8_t order_status;                           /* 112 working order: DITA_ORDER_STATUS_* */
  uint8_t order_role;                             /* 113 DITA_ORDER_ROLE_* */
  uint8_t order_side;                             /* 114 DITA_ORDER_SIDE_* */
  uint8_t order_type;                             /* 115 DITA_ORDER_TYPE_* */
  uint16_t order_leg;                             /* 116 0 = entry, 1.. exit legs */
  uint16_t order_attempt;                         /* 118 */
  int64_t order_quantity;                         /* 120 */
  int64_t order_price;                            /* 128 limit price, 0 = market */
  int64_t order_filled;                           /* 136 cumulative */
  int64_t venue_order_id;                         /* 144 0 until acknowledged */
  char client_order_id[DITA_STATE_ORDER_ID_SIZE]; /* 152 as sent to the venue */
  uint8_t reserved0[56];                          /* 200 */
} dita_state_slot;                                /* 256 */

/* Health of one sink of the server's sink pipeline, refreshed on heartbeat (100 ms). */
typedef struct dita_state_sink {
  uint32_t state;                /*  0 DITA_SINK_STATE_* */
  uint32_t reserved0;            /*  4 zero */
  uint64_t spool_depth;          /*  8 spooled records the sink has not accepted */
  uint64_t delivered_records;    /* 16 accepted by the sink since the server started */
  uint64_t failures;             /* 24 failed delivery attempts since start */
  uint64_t consecutive_failures; /* 32 */
  char last_error[DITA_STATE_SINK_ERROR_SIZE]; /* 40 truncated; empty once a delivery succeeded */
} dita_state_sink;                             /* 512 */

/* The one blob of the state region: one generation covers header, account, every slot and
 * the sink health. */
typedef struct dita_state_image {
  dita_state_header header;                     /*     0 */
  dita_state_account account;                   /*    64 */
  dita_state_slot slots[DITA_STATE_MAX_SLOTS];  /*   128 */
  dita_state_sink sinks[DITA_STATE_SINK_COUNT]; /* 65664 (layout version 2) */
} dita_state_image;                             /* 65664 + 2 * 512 = 66688 */

/* One intent in the intent queue. The queue slot header carries the producer id and sequence
 * (exactly-once); the echo fields below let a producer bind the payload to them. */
typedef struct dita_intent_record {
  uint8_t kind;                      /*  0 DITA_INTENT_* */
  uint8_t side;                      /*  1 ENTER: DITA_SIDE_* */
  uint16_t leverage;                 /*  2 ENTER: 1..125 */
  uint32_t slot;                     /*  4 */
  char asset[DITA_STATE_ASSET_SIZE]; /*  8 ENTER: "BTC-USDT" (or "BTCUSDT"), NUL-terminated */
  int64_t size;                      /* 32 ENTER: > 0; EXIT: 0 = everything left */
  int64_t price;                     /* 40 limit price; 0 = market */
  uint64_t producer_seq;             /* 48 0, or must equal the queue tag's sequence */
  uint32_t producer_id;              /* 56 checked against the queue tag when producer_seq != 0 */
  uint32_t reserved0;                /* 60 zero */
} dita_intent_record;                /* 64 */

#define DITA_STATE_CAT_(a, b) a##b
#define DITA_STATE_CAT(a, b) DITA_STATE_CAT_(a, b)
#define DITA_STATE_CHECK(cond) \
  typedef char DITA_STATE_CAT(dita_state_layout_check_, __LINE__)[(cond) ? 1 : -1]

DITA_STATE_CHECK(sizeof(dita_state_header) == 64);
DITA_STATE_CHECK(offsetof(dita_state_header, journal_sequence) == 16);
DITA_STATE_CHECK(offsetof(dita_state_header, active_slot_limit) == 32);
DITA_STATE_CHECK(offsetof(dita_state_header, intents_handled) == 40);
DITA_STATE_CHECK(offsetof(dita_state_header, status) == 56);
DITA_STATE_CHECK(sizeof(dita_state_account) == 64);
DITA_STATE_CHECK(offsetof(dita_state_account, trade_seq) == 48);
DITA_STATE_CHECK(offsetof(dita_state_account, seeded) == 56);
DITA_STATE_CHECK(sizeof(dita_state_slot) == 256);
DITA_STATE_CHECK(offsetof(dita_state_slot, stage) == 8);
DITA_STATE_CHECK(offsetof(dita_state_slot, leverage) == 12);
DITA_STATE_CHECK(offsetof(dita_state_slot, asset) == 16);
DITA_STATE_CHECK(offsetof(dita_state_slot, size) == 40);
DITA_STATE_CHECK(offsetof(dita_state_slot, last_input_seq) == 104);
DITA_STATE_CHECK(offsetof(dita_state_slot, order_status) == 112);
DITA_STATE_CHECK(offsetof(dita_state_slot, order_quantity) == 120);
DITA_STATE_CHECK(offsetof(dita_state_slot, venue_order_id) == 144);
DITA_STATE_CHECK(offsetof(dita_state_slot, client_order_id) == 152);
DITA_STATE_CHECK(offsetof(dita_state_slot, reserved0) == 200);
DITA_STATE_CHECK(offsetof(dita_state_image, account) == 64);
DITA_STATE_CHECK(offsetof(dita_state_image, slots) == 128);
DITA_STATE_CHECK(sizeof(dita_state_sink) == 512);
DITA_STATE_CHECK(offsetof(dita_state_sink, spool_depth) == 8);
DITA_STATE_CHECK(offsetof(dita_state_sink, delivered_records) == 16);
DITA_STATE_CHECK(offsetof(dita_state_sink, last_error) == 40);
DITA_STATE_CHECK(offsetof(dita_state_image, sinks) == 128 + 256 * 256);
DITA_STATE_CHECK(sizeof(dita_state_image) == 128 + 256 * 256 + 2 * 512);
DITA_STATE_CHECK(sizeof(dita_intent_record) == 64);
DITA_STATE_CHECK(offsetof(dita_intent_record, asset) == 8);
DITA_STATE_CHECK(offsetof(dita_intent_record, size) == 32);
DITA_STATE_CHECK(offsetof(dita_intent_record, price) == 40);
DITA_STATE_CHECK(offsetof(dita_intent_record, producer_seq) == 48);
DITA_STATE_CHECK(offsetof(dita_intent_record, producer_id) == 56);

#ifdef __cplusplus
}
#endif

#endif /* DITA_RUNTIME_DITA_STATE_H */
