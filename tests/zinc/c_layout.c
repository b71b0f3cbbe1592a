/* Compiled as C99: proves dita_zinc.h is self-sufficient C, and that its layouts are enough to
 * write intents and read state without linking the kernel (GCC/Clang __atomic builtins). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "dita/zinc/dita_zinc.h"
#include "zinc/c_layout.h"

int dita_zinc_c_layout_matches(void) {
  int bad = 0;
  bad |= sizeof(dita_zinc_region_header) != 128;
  bad |= offsetof(dita_zinc_region_header, writer_identity) != 40;
  bad |= offsetof(dita_zinc_region_header, heartbeat_mono_ns) != 72;
  bad |= sizeof(dita_zinc_cell_control) != 128;
  bad |= sizeof(dita_zinc_control_record) != 64;
  bad |= sizeof(dita_zinc_queue_control) != 192;
  bad |= sizeof(dita_zinc_queue_slot_header) != 64;
  bad |= DITA_ZINC_STATE_TOTAL_SIZE(100) != 256 + 2 * 128;
  bad |= DITA_ZINC_QUEUE_TOTAL_SIZE(128, 8, 4) != 320 + 4 * 64 + 8 * (64 + 128);
  return bad ? 0 : 1;
}

uint64_t dita_zinc_c_read_state(const void* region, void* out, uint32_t size) {
  const unsigned char* base = (const unsigned char*)region;
  const dita_zinc_region_header* hdr = (const dita_zinc_region_header*)region;
  const dita_zinc_cell_control* cell =
      (const dita_zinc_cell_control*)(base + DITA_ZINC_STATE_CELL_OFFSET);
  uint64_t stride = DITA_ZINC_STATE_STRIDE(hdr->record_size);
  if (__atomic_load_n(&hdr->magic, __ATOMIC_ACQUIRE) != DITA_ZINC_MAGIC_STATE) return UINT64_MAX;
  if (size != hdr->record_size) return UINT64_MAX;
  for (;;) {
    uint64_t gen = __atomic_load_n(&cell->generation, __ATOMIC_ACQUIRE);
    memcpy(out, base + DITA_ZINC_STATE_BUFFER0_OFFSET + (gen & 1u) * stride, size);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&cell->write_begin, __ATOMIC_RELAXED) < gen + 2) return gen;
  }
}

int dita_zinc_c_send_intent(void* region, uint32_t producer_id, uint64_t producer_seq,
                            const void* payload, uint32_t size) {
  unsigned char* base = (unsigned char*)region;
  dita_zinc_region_header* hdr = (dita_zinc_region_header*)region;
  dita_zinc_queue_control* q = (dita_zinc_queue_control*)(base + DITA_ZINC_QUEUE_CONTROL_OFFSET);
  dita_zinc_producer_record* producers =
      (dita_zinc_producer_record*)(base + DITA_ZINC_QUEUE_PRODUCERS_OFFSET);
  unsigned char* slots = base + DITA_ZINC_QUEUE_SLOTS_OFFSET(hdr->aux_count);
  uint64_t stride = DITA_ZINC_QUEUE_SLOT_STRIDE(hdr->record_size);
  uint64_t mask = (uint64_t)hdr->record_count - 1u;
  uint64_t pos;
  dita_zinc_queue_slot_header* slot;
  uint64_t expected;
  if (__atomic_load_n(&hdr->magic, __ATOMIC_ACQUIRE) != DITA_ZINC_MAGIC_INTENT) return -1;
  if (size != hdr->record_size || producer_id >= hdr->aux_count || producer_seq == 0) return -1;
  if (producer_seq <= __atomic_load_n(&producers[producer_id].applied_seq, __ATOMIC_ACQUIRE)) {
    return 1; /* already applied */
  }
  pos = __atomic_load_n(&q->enqueue_pos, __ATOMIC_RELAXED);
  for (;;) {
    int64_t diff;
    slot = (dita_zinc_queue_slot_header*)(slots + (pos & mask) * stride);
    diff = (int64_t)(__atomic_load_n(&slot->sequence, __ATOMIC_ACQUIRE) - pos);
    if (diff == 0) {
      if (__atomic_compare_exchange_n(&q->enqueue_pos, &pos, pos + 1, 1, __ATOMIC_RELAXED,
                                      __ATOMIC_RELAXED)) {
        break;
      }
    } else if (diff < 0) {
      return -2; /* QueueFull */
    } else {
      pos = __atomic_load_n(&q->enqueue_pos, __ATOMIC_RELAXED);
    }
  }
  __atomic_store_n(&slot->claim_identity, 0, __ATOMIC_RELAXED); /* identity unknown in C */
  __atomic_store_n(&slot->claim_pos, pos, __ATOMIC_RELEASE);
  slot->producer_id = producer_id;
  slot->payload_size = size;
  slot->producer_seq = producer_seq;
  slot->enqueue_mono_ns = 0;
  memcpy((unsigned char*)slot + sizeof(dita_zinc_queue_slot_header), payload, size);
  expected = pos;
  if (!__atomic_compare_exchange_n(&slot->sequence, &expected, pos + 1, 0, __ATOMIC_RELEASE,
                                   __ATOMIC_RELAXED)) {
    return -3; /* abandoned */
  }
  __atomic_add_fetch(&q->futex_word, 1u, __ATOMIC_SEQ_CST);
  /* A real producer would FUTEX_WAKE here when q->waiters != 0. */
  return 0;
}
