// The C header is usable from plain C: layouts agree and a C producer/reader interoperates.
#include <gtest/gtest.h>

#include <array>

#include "dita/zinc/intent_queue.hpp"
#include "dita/zinc/snapshot.hpp"
#include "zinc/c_layout.h"

namespace dita::zinc {
namespace {

struct Payload {
  std::array<std::uint8_t, 128> bytes;
};

TEST(ZincCHeader, TheCLayoutMatchesTheCppLayout) {
  EXPECT_EQ(dita_zinc_c_layout_matches(), 1);
  EXPECT_EQ(RegionGeometry::state(100)->total_size(), 512U);
  EXPECT_EQ(RegionGeometry::intent(128, 8, 4)->total_size(), 320U + 4 * 64 + 8 * 192);
  EXPECT_EQ(RegionGeometry::control().total_size(), DITA_ZINC_CONTROL_TOTAL_SIZE);
}

TEST(ZincCHeader, ACProducerWritesIntentsTheKernelConsumes) {
  auto region = Region::create_in_memory(*RegionGeometry::intent(sizeof(Payload), 4, 2));
  ASSERT_TRUE(region);
  auto consumer = IntentConsumer<Payload>::attach(*region);
  ASSERT_TRUE(consumer);
  Payload p{};
  p.bytes.fill(0xAB);
  EXPECT_EQ(dita_zinc_c_send_intent(region->base(), 1, 1, &p, sizeof p), 0);
  auto e = consumer->peek();
  ASSERT_TRUE(e && e->has_value());
  EXPECT_EQ((*e)->meta.producer_id, 1U);
  EXPECT_EQ((*e)->payload.bytes[5], 0xAB);
  ASSERT_TRUE(consumer->commit(**e));
  EXPECT_EQ(dita_zinc_c_send_intent(region->base(), 1, 1, &p, sizeof p), 1);  // already applied
}

TEST(ZincCHeader, ACReaderReadsTheKernelsLatestState) {
  auto region = Region::create_in_memory(*RegionGeometry::state(sizeof(Payload)));
  ASSERT_TRUE(region);
  auto writer = SnapshotWriter<Payload>::attach(*region);
  ASSERT_TRUE(writer);
  Payload p{};
  p.bytes.fill(7);
  writer->publish(p);
  p.bytes.fill(8);
  writer->publish(p);
  Payload out{};
  EXPECT_EQ(dita_zinc_c_read_state(region->base(), &out, sizeof out), 2U);
  EXPECT_EQ(out.bytes[127], 8);
}

}  // namespace
}  // namespace dita::zinc
