// EXPECT_ERROR(statement, ExceptionType, "text"): the statement throws ExceptionType (or a
// subclass) whose what() contains "text" -- a refusal for the expected reason, not just any
// exception. Header only, for tests.
#pragma once
#include <gtest/gtest.h>

#include <string>

#define EXPECT_ERROR(statement, exception_type, text)                                      \
  do {                                                                                     \
    bool tinyforge_thrown_ = false;                                                        \
    try {                                                                                  \
      statement;                                                                           \
    } catch (const exception_type& e) {                                                    \
      tinyforge_thrown_ = true;                                                            \
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos)                       \
          << #statement " threw \"" << e.what() << "\"; expected it to mention \"" << text \
          << "\"";                                                                         \
    }                                                                                      \
    EXPECT_TRUE(tinyforge_thrown_) << #statement " did not throw " #exception_type;        \
  } while (0)
