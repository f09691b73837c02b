#include "ir/params.h"

#include <gtest/gtest.h>

#include "expect_error.h"

namespace tinyforge::ir {
namespace {

struct Window {
  int size = 0;
  bool operator==(const Window& o) const { return size == o.size; }
};
struct Axis {
  int axis = 0;
  bool operator==(const Axis& o) const { return axis == o.axis; }
};

TEST(IrParams, GetReturnsTheStoredStruct) {
  Params p = Window{3};
  EXPECT_EQ(p.get<Window>().size, 3);
  p.get<Window>().size = 5;
  EXPECT_EQ(p.find<Window>()->size, 5);
  EXPECT_EQ(p.find<Axis>(), nullptr);
}

TEST(IrParams, ReadingAnotherOpsTypeThrowsNamingBoth) {
  const Params p = Window{3};
  try {
    p.get<Axis>();
    FAIL() << "no error";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("Window"), std::string::npos) << msg;
    EXPECT_NE(msg.find("Axis"), std::string::npos) << msg;
  }
  EXPECT_ERROR(Params{}.get<Axis>(), Error, "node params are absent");
}

TEST(IrParams, EqualityComparesTypeAndValue) {
  EXPECT_EQ(Params{}, Params{});
  EXPECT_EQ(Params{Window{3}}, Params{Window{3}});
  EXPECT_NE(Params{Window{3}}, Params{Window{4}});
  EXPECT_NE(Params{Window{0}}, Params{Axis{0}});
  EXPECT_NE(Params{Window{0}}, Params{});
}

}  // namespace
}  // namespace tinyforge::ir
