// The token-signing secret, kept in the data directory.
//
// Contract: load_or_create_secret(dir) returns the 32 bytes stored in
// `dir/token-secret`. On first start the file does not exist: 32 bytes from
// the OpenSSL CSPRNG are written to a temporary file created with mode 0600
// (owner read/write only), synced, and renamed into place, and the
// directory is synced, so a crash leaves either no secret or a whole one.
// A file of another size, or one that group or others may read, is an error
// (tokens must not silently change, and a leaked secret forges any token).
#pragma once

#include <string>

#include "net/token_codec.hpp"
#include "storage/log_format.hpp"

namespace boxoffice::net {

inline constexpr const char* secret_file_name = storage::token_secret_file_name;

struct SecretResult {
  TokenSecret secret{};
  bool created = false;
  std::string error;  // empty on success
};

SecretResult load_or_create_secret(const std::string& dir);

}  // namespace boxoffice::net
