#include "tools/replay/log_view.hpp"

#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "engine/assert.hpp"

namespace boxoffice::replay {

namespace fs = std::filesystem;
using Code = storage::Status::Code;

LogView::~LogView() {
  if (log_ != nullptr) (void)log_->close();
  log_.reset();
  if (!secondary_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(secondary_dir_, ec);
  }
}

storage::Status LogView::open(const std::string& data_dir) {
  BOXOFFICE_ASSERT(log_ == nullptr && secondary_dir_.empty());
  std::error_code ec;
  const fs::path tmp = fs::temp_directory_path(ec);
  if (ec) {
    return storage::Status::error(Code::io_error,
                                  "no temporary directory for the reader: " + ec.message());
  }
  std::string pattern = (tmp / "boxoffice-replay-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    return storage::Status::error(
        Code::io_error, "cannot create a directory under " + tmp.string() + " for the reader");
  }
  secondary_dir_ = pattern;
  storage::EventLogOptions options;
  options.dir = data_dir;
  options.mode = storage::OpenMode::secondary;
  options.secondary_dir = secondary_dir_;
  return storage::EventLog::open(options, &log_);
}

EventSource LogView::source(std::function<bool()> stop) const {
  BOXOFFICE_ASSERT(log_ != nullptr);
  const storage::EventLog* log = log_.get();
  return [log, stop = std::move(stop)](uint64_t from, uint64_t to,
                                       const EventVisit& visit) -> std::string {
    uint64_t next = std::max<uint64_t>(from, 1);
    bool stopped = false;
    const storage::Status s = log->read(from, to, [&](uint64_t seq, std::span<const uint8_t> e) {
      if (stop()) {
        stopped = true;
        return false;
      }
      next = seq + 1;
      return visit(seq, e);
    });
    if (stopped) return "interrupted";
    if (!s.is_ok()) return "event " + std::to_string(next) + ": " + s.to_string();
    return "";
  };
}

}  // namespace boxoffice::replay
