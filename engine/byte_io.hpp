// ByteWriter and ByteReader: explicit little-endian fields, for the event
// and snapshot formats.
//
// The writer appends to a vector or a stack buffer. The reader never reads out of bounds: a
// read past the end marks it failed and yields zeros, so a decoder can read
// a whole record and check failed() once.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/assert.hpp"
#include "engine/types.hpp"

namespace boxoffice {

// Appends fields to a sink. Fixed-width integers are stored little-endian
// whatever the host's byte order.
template <typename Sink>
class FieldWriter {
 public:
  template <typename... Args>
  explicit FieldWriter(Args&&... args) : sink_(std::forward<Args>(args)...) {}
  void u8(uint8_t v) { sink_.append(&v, 1); }
  void u16(uint16_t v) { fixed(v); }
  void u32(uint32_t v) { fixed(v); }
  void u64(uint64_t v) { fixed(v); }
  void i32(int32_t v) { fixed(static_cast<uint32_t>(v)); }
  void i64(int64_t v) { fixed(static_cast<uint64_t>(v)); }
  void str(std::string_view s) {
    BOXOFFICE_ASSERT(s.size() <= UINT16_MAX);
    u16(static_cast<uint16_t>(s.size()));
    bytes(s);
  }
  void short_str(std::string_view s) {
    BOXOFFICE_ASSERT(s.size() <= UINT8_MAX);
    u8(static_cast<uint8_t>(s.size()));
    bytes(s);
  }
  void idempotency(const IdempotencyTag& tag) {
    short_str(tag.key.view());
    if (!tag.key.empty()) u64(tag.fingerprint);
  }
  const Sink& sink() const { return sink_; }

 private:
  template <typename T>
  void fixed(T v) {
    uint8_t le[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); i++) le[i] = static_cast<uint8_t>(v >> (8 * i));
    sink_.append(le, sizeof(T));
  }
  void bytes(std::string_view s) {
    sink_.append(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  Sink sink_;
};

// Appends to a vector.
class VectorSink {
 public:
  explicit VectorSink(std::vector<uint8_t>& out) : out_(out) {}
  void append(const uint8_t* p, size_t n) { out_.insert(out_.end(), p, p + n); }

 private:
  std::vector<uint8_t>& out_;
};

// Appends to a buffer of `bytes_max` on the stack, for a record that is
// nearly always small: no call per field, one copy of the whole record. A
// write that does not fit marks it overflowed, and nothing more is written.
template <size_t bytes_max>
class ArraySink {
 public:
  ArraySink() {}  // the buffer is written before it is read
  void append(const uint8_t* p, size_t n) {
    if (overflowed_ || n > bytes_max - size_) [[unlikely]] {
      overflowed_ = true;
      return;
    }
    std::memcpy(buf_.data() + size_, p, n);
    size_ += n;
  }
  bool overflowed() const { return overflowed_; }
  std::span<const uint8_t> bytes() const { return {buf_.data(), size_}; }

 private:
  std::array<uint8_t, bytes_max> buf_;
  size_t size_ = 0;
  bool overflowed_ = false;
};

using ByteWriter = FieldWriter<VectorSink>;

// Reads fields in order; any read past the end sets `failed` and yields 0.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> in) : in_(in) {}
  bool failed() const { return failed_; }
  bool at_end() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  uint8_t u8() { return static_cast<uint8_t>(fixed(1)); }
  uint16_t u16() { return static_cast<uint16_t>(fixed(2)); }
  uint32_t u32() { return static_cast<uint32_t>(fixed(4)); }
  uint64_t u64() { return fixed(8); }
  int32_t i32() { return static_cast<int32_t>(static_cast<uint32_t>(fixed(4))); }
  int64_t i64() { return static_cast<int64_t>(fixed(8)); }
  std::string_view bytes(size_t n) {
    if (failed_ || in_.size() - pos_ < n) {
      failed_ = true;
      return {};
    }
    std::string_view s(reinterpret_cast<const char*>(in_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  std::string_view str() { return bytes(u16()); }
  std::string_view short_str() { return bytes(u8()); }

 private:
  uint64_t fixed(size_t width) {
    if (failed_ || in_.size() - pos_ < width) [[unlikely]] {
      failed_ = true;
      return 0;
    }
    const uint8_t* p = in_.data() + pos_;
    pos_ += width;
    uint64_t v = 0;
    switch (width) {
      case 1:
        return p[0];
      case 2:
        return uint64_t{p[0]} | uint64_t{p[1]} << 8;
      case 4:
        return load_le<uint32_t>(p);
      default:
        break;
    }
    v = load_le<uint64_t>(p);
    return v;
  }
  template <typename T>
  static T load_le(const uint8_t* p) {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); i++)
      v = static_cast<T>(v | static_cast<T>(T{p[i]} << (8 * i)));
    return v;
  }
  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool failed_ = false;
};

}  // namespace boxoffice
