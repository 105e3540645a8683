// Large allocations on transparent huge pages, for the server and
// boxoffice-bench (linked into those executables only: it replaces the
// global operator new).
//
// Where the kernel's transparent huge pages are in "madvise" mode, big
// arrays (seat maps, the tables of reservations and tokens) would sit on
// 4 KiB pages, and random access to them would miss the TLB on almost every
// seat. This replaces the global operator new: allocations of 2 MiB or more
// are aligned to 2 MiB and advised MADV_HUGEPAGE; smaller ones go to malloc.
// Everything is released with free(), so both kinds mix safely.
#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace {

constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

void* allocate(std::size_t size) {
  if (size >= huge_page_bytes) {
    void* p = nullptr;
    const std::size_t rounded = (size + huge_page_bytes - 1) / huge_page_bytes * huge_page_bytes;
    if (posix_memalign(&p, huge_page_bytes, rounded) == 0) {
      (void)madvise(p, rounded, MADV_HUGEPAGE);
      return p;
    }
    throw std::bad_alloc();
  }
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t size) { return allocate(size); }
void* operator new[](std::size_t size) { return allocate(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
