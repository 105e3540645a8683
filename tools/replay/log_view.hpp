// LogView: a data directory's log opened for reading beside a running
// server, and the replayer's EventSource over it.
//
// open() makes a secondary directory of the view's own under the system's
// temporary directory (RocksDB keeps its info log there) and opens the log in
// OpenMode::secondary: it sees what the writer had written when it opened,
// never takes the writer's lock and writes nothing into the data directory.
// The secondary directory is removed when the view is destroyed, also after
// a failed open.
//
// Secondary rather than read-only: RocksDB's read-only mode is meant for
// short reads beside a writer (the writer may delete files it has open), and
// EventLog::checkpoint refuses a read-only log.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "storage/event_log.hpp"
#include "storage/status.hpp"
#include "tools/replay/replayer.hpp"

namespace boxoffice::replay {

class LogView {
 public:
  LogView() = default;
  ~LogView();
  LogView(const LogView&) = delete;
  LogView& operator=(const LogView&) = delete;

  // REQUIRES: not open yet.
  storage::Status open(const std::string& data_dir);

  // REQUIRES: open() succeeded.
  storage::EventLog& log() { return *log_; }
  const storage::EventLog& log() const { return *log_; }

  // Reads the log's events in order. A read error names the sequence number
  // where it happened ("event N: corruption: ..."). Reading stops, and the
  // source returns "interrupted", as soon as stop() is true (checked before
  // each event).
  EventSource source(std::function<bool()> stop) const;

 private:
  std::string secondary_dir_;
  std::unique_ptr<storage::EventLog> log_;
};

}  // namespace boxoffice::replay
