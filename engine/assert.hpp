// BOXOFFICE_ASSERT: an invariant check that stays on in every build type.
//
// A failed assertion is a programmer error: it prints the condition with its
// file and line and aborts. It is never compiled out, so Release builds check
// the same invariants as Debug builds.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace boxoffice::detail {

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "boxoffice: assertion failed: %s (%s:%d)\n", expr, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace boxoffice::detail

#define BOXOFFICE_ASSERT(cond)                                     \
  do {                                                             \
    if (!(cond)) [[unlikely]] {                                    \
      ::boxoffice::detail::assert_fail(#cond, __FILE__, __LINE__); \
    }                                                              \
  } while (false)
