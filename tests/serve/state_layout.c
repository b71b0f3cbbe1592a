/* Compiles dita_state.h as C99 (its layout checks run here too) and lets the C++ test compare
 * the sizes a C strategy sees with the kernel's. */
#include "dita/runtime/dita_state.h"

size_t dita_state_c_image_size(void);
size_t dita_state_c_intent_size(void);
size_t dita_state_c_slots_offset(void);

size_t dita_state_c_image_size(void) {
  return sizeof(dita_state_image);
}
size_t dita_state_c_intent_size(void) {
  return sizeof(dita_intent_record);
}
size_t dita_state_c_slots_offset(void) {
  return offsetof(dita_state_image, slots);
}
