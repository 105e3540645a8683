// docs/openapi.yaml and the server's route table must agree: the same
// (method, path) pairs, and every error code's wire name documented.
//
// The file is read line by line, relying on its layout: under the top-level
// `paths:` key, a path is a key indented by 2 spaces and an operation a key
// indented by 4.
#include <doctest/doctest.h>

#include <fstream>
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

std::set<std::string> documented_operations(const std::string& yaml) {
  std::set<std::string> ops;
  bool in_paths = false;
  std::string path;
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
    } else if (line.size() > 4 && line.rfind("    ", 0) == 0 && line[4] != ' ') {
      const std::string key = line.substr(4, line.find(':') - 4);
      for (const char* method : {"get", "post", "delete", "put", "patch", "head", "options"}) {
        if (key == method) ops.insert(key + " " + path);
      }
    }
  }
  return ops;
}

TEST_CASE("the OpenAPI file documents exactly the router's routes") {
  const std::string yaml = read_all(BOXOFFICE_OPENAPI);
  const std::set<std::string> documented = documented_operations(yaml);
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
