#include "dita/runtime/settings.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "runtime/env_lookup.hpp"

namespace dita::runtime {
namespace {

using testing::env_of;

std::filesystem::path write_toml(const std::string& text) {
  const auto path =
      std::filesystem::temp_directory_path() /
      ("dita-settings-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
       std::to_string(std::hash<std::string>{}(text)) + ".toml");
  std::ofstream(path) << text;
  return path;
}

TEST(Settings, EmbeddedDefaultsRunTheMockVenueQuietlySafe) {
  const auto settings = load_settings(std::nullopt, env_of({}), {});
  ASSERT_TRUE(settings.has_value());
  EXPECT_EQ(settings->venue, core::BackendMode::kMock);
  EXPECT_EQ(settings->mode, core::KernelMode::kNormal);
  EXPECT_EQ(settings->verbosity, core::KernelVerbosity::kVerbose);
  EXPECT_EQ(settings->slot_count, 4U);
  EXPECT_EQ(settings->journal_fsync, "always");
}

TEST(Settings, FlagsBeatEnvironmentWhichBeatsTheFileWhichBeatsDefaults) {
  const auto file =
      write_toml("mode = \"DEBUG\"\nverbosity = \"QUIET\"\nslot_count = 8\nseed = 3\n");
  const auto settings = load_settings(
      file, env_of({{"DITA_V2_VERBOSITY", "TRACE"}, {"DITA_V2_SEED", "4"}}), {{"seed", "5"}});
  std::filesystem::remove(file);
  ASSERT_TRUE(settings.has_value()) << settings.error().describe();
  EXPECT_EQ(settings->mode, core::KernelMode::kDebug);            // file
  EXPECT_EQ(settings->slot_count, 8U);                            // file
  EXPECT_EQ(settings->verbosity, core::KernelVerbosity::kTrace);  // env over file
  EXPECT_EQ(settings->seed, 5U);                                  // flag over env
}

TEST(Settings, TheConfigFileCanComeFromTheEnvironment) {
  const auto file = write_toml("active_slot_limit = 2\n");
  const auto settings =
      load_settings(std::nullopt, env_of({{"DITA_V2_CONFIG", file.string()}}), {});
  std::filesystem::remove(file);
  ASSERT_TRUE(settings.has_value());
  EXPECT_EQ(settings->active_slot_limit, 2U);
}

TEST(Settings, AnInvalidValueNamesTheSettingItsSourceAndTheAllowedValues) {
  const auto settings = load_settings(std::nullopt, env_of({{"DITA_V2_VERBOSITY", "LOUD"}}), {});
  ASSERT_FALSE(settings.has_value());
  EXPECT_EQ(settings.error().setting, "verbosity");
  EXPECT_EQ(settings.error().source, "env DITA_V2_VERBOSITY");
  EXPECT_NE(settings.error().message.find("QUIET, VERBOSE, TRACE"), std::string::npos);
}

TEST(Settings, RejectsOutOfRangeNumbersUnknownNamesAndBadFsyncPolicies) {
  Settings settings;
  EXPECT_FALSE(apply_setting(settings, "slot_count", "0", "flag"));
  EXPECT_FALSE(apply_setting(settings, "slot_count", "257", "flag"));
  EXPECT_FALSE(apply_setting(settings, "slot_count", "4x", "flag"));
  EXPECT_FALSE(apply_setting(settings, "order_id_prefix", "Has-Upper", "flag"));
  EXPECT_FALSE(apply_setting(settings, "journal_fsync", "sometimes", "flag"));
  EXPECT_FALSE(apply_setting(settings, "journal_fsync", "batch:0", "flag"));
  EXPECT_TRUE(apply_setting(settings, "journal_fsync", "batch:16", "flag"));
  const auto unknown = apply_setting(settings, "colour", "blue", "flag");
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("known settings"), std::string::npos);
  EXPECT_EQ(settings.slot_count, 4U) << "a refused value changes nothing";
}

TEST(Settings, AnActiveSlotLimitAboveTheSlotCountIsRefused) {
  const auto settings =
      load_settings(std::nullopt, env_of({}), {{"slot_count", "2"}, {"active_slot_limit", "3"}});
  ASSERT_FALSE(settings.has_value());
  EXPECT_EQ(settings.error().setting, "active_slot_limit");
}

TEST(Settings, AMalformedTomlFileIsAnErrorWithItsLine) {
  const auto file = write_toml("mode = \"DEBUG\"\nthis is not toml\n");
  const auto settings = load_settings(file, env_of({}), {});
  std::filesystem::remove(file);
  ASSERT_FALSE(settings.has_value());
  EXPECT_NE(settings.error().message.find("line 2"), std::string::npos);
}

TEST(Settings, EnvironmentNamesFollowTheReferenceConvention) {
  EXPECT_EQ(env_name("mode"), "DITA_V2_MODE");
  EXPECT_EQ(env_name("venue"), "DITA_V2_VENUE");
  EXPECT_EQ(env_name("active_slot_limit"), "DITA_V2_ACTIVE_SLOT_LIMIT");
}

}  // namespace
}  // namespace dita::runtime
