/* C entry points of c_layout.c, called from the C++ test. */
#ifndef DITA_ZINC_TEST_C_LAYOUT_H
#define DITA_ZINC_TEST_C_LAYOUT_H
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
int dita_zinc_c_layout_matches(void);
uint64_t dita_zinc_c_read_state(const void* region, void* out, uint32_t size);
int dita_zinc_c_send_intent(void* region, uint32_t producer_id, uint64_t producer_seq,
                            const void* payload, uint32_t size);
#ifdef __cplusplus
}
#endif
#endif
