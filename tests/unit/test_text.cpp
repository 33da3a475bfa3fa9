#include <gtest/gtest.h>

#include "core/text.hpp"
#include "metrics/stats.hpp"

using namespace aifsim;

TEST(Text, FormatNumberIsShortestRoundTrip) {
  EXPECT_EQ(format_number(12.0), "12");
  EXPECT_EQ(format_number(0.25), "0.25");
  EXPECT_EQ(format_number(-0.0), "0");
  EXPECT_EQ(format_number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(format_number(781275672.0), "781275672");
}

TEST(Text, ParseRejectsTrailingGarbage) {
  EXPECT_EQ(parse_double("3.5"), 3.5);
  EXPECT_EQ(parse_double("-1"), -1.0);
  EXPECT_FALSE(parse_double("3.5x"));
  EXPECT_FALSE(parse_double(""));
  EXPECT_FALSE(parse_double("nan"));
  EXPECT_FALSE(parse_double("inf"));
  EXPECT_EQ(parse_int("42"), 42);
  EXPECT_FALSE(parse_int("4.2"));
  EXPECT_FALSE(parse_int("99999999999999999999999"));
}

TEST(Text, NearestNameSuggestsCloseKeysOnly) {
  std::vector<std::string> keys{"scheduler", "resource_unit", "overrun", "workload"};
  EXPECT_EQ(nearest_name("schedular", keys), "scheduler");
  EXPECT_EQ(nearest_name("workloads", keys), "workload");
  EXPECT_EQ(nearest_name("zzzzzzzzzz", keys), "");
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Stats, QuantilesInterpolateBetweenClosestRanks) {
  // numpy.percentile([1,2,3,4,10], [50, 95]) = 3, 8.8
  metrics::Distribution d({10, 1, 3, 2, 4});
  EXPECT_DOUBLE_EQ(d.quantile(0.5), 3.0);
  EXPECT_DOUBLE_EQ(d.quantile(0.95), 8.8);
  EXPECT_DOUBLE_EQ(d.mean(), 4.0);
  EXPECT_DOUBLE_EQ(d.max(), 10.0);
  metrics::Distribution empty({});
  EXPECT_DOUBLE_EQ(empty.quantile(0.5), 0.0);
}
