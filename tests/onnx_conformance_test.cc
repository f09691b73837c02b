// Runs tests/onnx_conformance.py (ONNX's own node test cases through `tinyforge run`) and
// requires no failure and at least kMinPassed passing cases, so that a regression that
// turns supported cases into "unsupported" is caught too. Skips (fails in strict mode) when
// /usr/bin/python3 cannot import Debian's python3-onnx backend test cases.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "shared_data.h"

namespace {

// Cases passing when this test was written (see the script's output for the list of
// unsupported ones); raise it when support grows.
constexpr int kMinPassed = 282;

TEST(OnnxConformance, NodeTestCasesRunThroughTinyforge) {
  if (std::system(
          "/usr/bin/python3 -c 'import numpy, onnx.backend.test.case.node' >/dev/null 2>&1") != 0)
    TINYFORGE_SKIP_MISSING(
        "/usr/bin/python3 cannot import onnx's backend test cases (install python3-onnx)");
  const std::string cmd = std::string("/usr/bin/python3 ") + TINYFORGE_SOURCE_DIR +
                          "/tests/onnx_conformance.py --tinyforge " + TINYFORGE_CLI +
                          " --min-passed " + std::to_string(kMinPassed) + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) output.append(buf, n);
  const int status = pclose(pipe);
  std::printf("%s", output.c_str());  // the summary line goes into the test log
  EXPECT_NE(output.find("onnx conformance: "), std::string::npos);
  EXPECT_EQ(status, 0) << "conformance script reported failures (see above)";
}

}  // namespace
