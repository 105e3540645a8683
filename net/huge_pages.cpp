// Large allocations on transparent huge pages, for the server and
// boxoffice-bench (linked into those executables only: it replaces the
// global operator new).
//
// Where the kernel's transparent huge pages are in "madvise" mode, big
// arrays (seat maps, the tables of reservations and tokens) would sit on
// 4 KiB pages, and random access to them would miss the TLB on almost every
// seat. This replaces the global operator new: allocations of 2 MiB or more
// are aligned to 2 MiB and advised MADV_HUGEPAGE; smaller ones go to malloc.
// Everything is released with free(), so both kinds mix safely. Not linked
// under the sanitizers, which bring their own allocator and check that
// new and delete match.
#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

// nullptr when out of memory.
void* allocate(std::size_t size) noexcept {
  if (size >= huge_page_bytes) {
    void* p = nullptr;
    const std::size_t rounded = (size + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
    if (posix_memalign(&p, huge_page_bytes, rounded) != 0) return nullptr;
    (void)madvise(p, rounded, MADV_HUGEPAGE);
    return p;
  }
  return std::malloc(size == 0 ? 1 : size);
}

void* allocate_or_throw(std::size_t size) {
  void* p = allocate(size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

// Every form that the default operator delete would free, so that whatever
// a library allocates with new (nothrow ones included) is freed by the
// free() below. The aligned forms (std::align_val_t) keep their defaults.
void* operator new(std::size_t size) { return allocate_or_throw(size); }
void* operator new[](std::size_t size) { return allocate_or_throw(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
