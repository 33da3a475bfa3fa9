#include <gtest/gtest.h>

#include "k8s/quantity.hpp"

using aifsim::k8s::format_quantity;
using aifsim::k8s::parse_quantity;

// resource.Quantity semantics, in thousandths of a unit.
TEST(Quantity, ParsesEverySuffixExactly) {
  EXPECT_EQ(parse_quantity("500m"), 500);
  EXPECT_EQ(parse_quantity("2"), 2000);
  EXPECT_EQ(parse_quantity("1.5"), 1500);
  EXPECT_EQ(parse_quantity("0.1"), 100);
  EXPECT_EQ(parse_quantity("1k"), 1000LL * 1000);
  EXPECT_EQ(parse_quantity("1M"), 1000LL * 1000 * 1000);
  EXPECT_EQ(parse_quantity("1Ki"), 1024LL * 1000);
  EXPECT_EQ(parse_quantity("16Gi"), 16LL * 1024 * 1024 * 1024 * 1000);
  EXPECT_EQ(parse_quantity("1.5Gi"), 1536LL * 1024 * 1024 * 1000);
  EXPECT_EQ(parse_quantity("2e3"), 2000LL * 1000);
  EXPECT_EQ(parse_quantity("1e-3"), 1);
  EXPECT_EQ(parse_quantity("+4"), 4000);
  // Sub-milli precision rounds up, as Quantity.MilliValue does.
  EXPECT_EQ(parse_quantity("0.0001"), 1);
}

TEST(Quantity, RejectsWhatIsNotAQuantity) {
  for (const char* bad : {"", "abc", "1x", "Gi", "-1", "1.2.3", "1Ei", "5E", "99999999999999999999", "1e400", "1e31", "."})
    EXPECT_FALSE(parse_quantity(bad)) << bad;
  EXPECT_EQ(parse_quantity("0E"), 0);
  EXPECT_EQ(parse_quantity("1e-300"), 1);  // far below a thousandth: rounds up
  EXPECT_EQ(parse_quantity("0e-300"), 0);
}

TEST(Quantity, Formats) {
  EXPECT_EQ(format_quantity(500), "500m");
  EXPECT_EQ(format_quantity(2000), "2");
}
