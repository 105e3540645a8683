// BOXOFFICE_ASSERT: an invariant check that stays on in every build type.
//
// A failed assertion is a programmer error: it prints the condition with its
// file and line and aborts. It is never compiled out, so Release builds check
// the same invariants as Debug builds.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace boxoffice {

// What the current thread is doing, printed with a failed assertion (for
// example "applying event" and its sequence number during recovery). Set it
// with AssertContext; it is cleared when that goes out of scope.
struct AssertContextSlot {
  const char* label = nullptr;
  unsigned long long value = 0;
};
inline thread_local AssertContextSlot assert_context_slot;

class AssertContext {
 public:
  explicit AssertContext(const char* label) { assert_context_slot.label = label; }
  ~AssertContext() { assert_context_slot = AssertContextSlot{}; }
  AssertContext(const AssertContext&) = delete;
  AssertContext& operator=(const AssertContext&) = delete;
  void set(unsigned long long value) { assert_context_slot.value = value; }
};

namespace detail {

[[noreturn]] inline void assert_fail(const char* expr, const char* file, int line) {
  std::fprintf(stderr, "boxoffice: assertion failed: %s (%s:%d)\n", expr, file, line);
  if (assert_context_slot.label != nullptr) {
    std::fprintf(stderr, "boxoffice: while %s %llu\n", assert_context_slot.label,
                 assert_context_slot.value);
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace detail
}  // namespace boxoffice

#define BOXOFFICE_ASSERT(cond)                                     \
  do {                                                             \
    if (!(cond)) [[unlikely]] {                                    \
      ::boxoffice::detail::assert_fail(#cond, __FILE__, __LINE__); \
    }                                                              \
  } while (false)
