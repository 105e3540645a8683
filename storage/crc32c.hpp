// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of the
// snapshot envelope (log_format.hpp).
//
// The standard parameters: initial value and final xor 0xFFFFFFFF, so
// crc32c("123456789") == 0xE3069283, the same value as RocksDB's public
// FileChecksumGenCrc32c and other crc32c libraries. Uses the SSE4.2 crc32
// instruction when the CPU has it and a table otherwise; both give the same
// result (tested).
#pragma once

#include <cstdint>
#include <span>

namespace boxoffice::storage {

// The CRC-32C of `data`.
uint32_t crc32c(std::span<const uint8_t> data);

// Continues a CRC: crc32c_extend(crc32c(a), b) == crc32c(a followed by b).
uint32_t crc32c_extend(uint32_t crc, std::span<const uint8_t> data);

// The portable implementation, exposed so that tests can compare the two.
uint32_t crc32c_extend_portable(uint32_t crc, std::span<const uint8_t> data);

}  // namespace boxoffice::storage
