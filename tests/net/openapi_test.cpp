// docs/openapi.yaml and the server's route table must agree: the same
// (method, path) pairs, every error code's wire name documented, and the
// statuses the HTTP layer gives on any route declared on every operation.
//
// The file is read line by line, relying on its layout: under the top-level
// `paths:` key, a path is a key indented by 2 spaces, an operation a key
// indented by 4, and a response status a quoted key indented by 8.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <set>
#include <string>

#include "net/render.hpp"
#include "net/router.hpp"

namespace boxoffice::net {
namespace {

std::string read_all(const char* path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot read " << path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Each operation ("get /v1/balance") with the statuses it declares.
std::map<std::string, std::set<std::string>> documented_operations(const std::string& yaml) {
  std::map<std::string, std::set<std::string>> ops;
  bool in_paths = false;
  std::string path;
  std::string op;
  size_t pos = 0;
  while (pos < yaml.size()) {
    size_t end = yaml.find('\n', pos);
    if (end == std::string::npos) end = yaml.size();
    const std::string line = yaml.substr(pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line[0] != ' ' && line[0] != '#') {
      in_paths = line.rfind("paths:", 0) == 0;
      continue;
    }
    if (!in_paths) continue;
    if (line.rfind("  /", 0) == 0 && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
      op.clear();
    } else if (line.size() > 4 && line.rfind("    ", 0) == 0 && line[4] != ' ') {
      const std::string key = line.substr(4, line.find(':') - 4);
      op.clear();
      for (const char* method : {"get", "post", "delete", "put", "patch", "head", "options"}) {
        if (key == method) op = key + " " + path;
      }
      if (!op.empty()) ops[op];
    } else if (!op.empty() && line.size() >= 14 && line.rfind("        \"", 0) == 0 &&
               line[8] != ' ' && line.compare(12, 2, "\":") == 0) {
      ops[op].insert(line.substr(9, 3));
    }
  }
  return ops;
}

TEST_CASE("the OpenAPI file documents exactly the router's routes") {
  const std::string yaml = read_all(BOXOFFICE_OPENAPI);
  std::set<std::string> documented;
  for (const auto& [op, statuses] : documented_operations(yaml)) documented.insert(op);
  std::set<std::string> served;
  for (const RouteSpec& spec : route_table()) {
    std::string method(method_name(spec.method));
    for (char& c : method) c = static_cast<char>(c - 'A' + 'a');
    served.insert(method + " " + std::string(spec.path));
  }
  for (const std::string& op : served) {
    CAPTURE(op);
    CHECK_MESSAGE(documented.count(op) == 1, "served but not in docs/openapi.yaml");
  }
  for (const std::string& op : documented) {
    CAPTURE(op);
    CHECK_MESSAGE(served.count(op) == 1, "in docs/openapi.yaml but not served");
  }
  CHECK(documented.size() == route_table().size());
}

TEST_CASE("every operation declares the statuses the HTTP layer gives on any route") {
  // A body over the limit is 413 and a request that is not HTTP/1.1 is 400
  // before routing (docs/API.md, "The limits apply to every route").
  const auto ops = documented_operations(read_all(BOXOFFICE_OPENAPI));
  REQUIRE(ops.size() == route_table().size());
  for (const auto& [op, statuses] : ops) {
    CAPTURE(op);
    CHECK(statuses.count("200") + statuses.count("201") + statuses.count("204") >= 1);
    CHECK(statuses.count("400") == 1);
    CHECK(statuses.count("413") == 1);
  }
}

TEST_CASE("every error code is in the OpenAPI file") {
  const std::string yaml = read_all(BOXOFFICE_OPENAPI);
  for (uint8_t c = 1; c <= static_cast<uint8_t>(Code::method_not_allowed); c++) {
    const std::string_view name = code_name(static_cast<Code>(c));
    CAPTURE(name);
    CHECK(yaml.find(std::string(name)) != std::string::npos);
  }
}

}  // namespace
}  // namespace boxoffice::net
