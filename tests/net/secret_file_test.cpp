#include "net/secret_file.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace boxoffice::net {
namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/boxoffice-secret-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

TEST_CASE("the secret is created once, owner-only, and reused") {
  TempDir dir;
  const SecretResult first = load_or_create_secret(dir.path);
  REQUIRE(first.error.empty());
  CHECK(first.created);
  struct stat st {};
  REQUIRE(::stat((dir.path + "/" + secret_file_name).c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(st.st_size == static_cast<off_t>(token_secret_bytes));
  CHECK_FALSE(std::filesystem::exists(dir.path + "/" + secret_file_name + ".tmp"));

  const SecretResult second = load_or_create_secret(dir.path);
  REQUIRE(second.error.empty());
  CHECK_FALSE(second.created);
  CHECK(second.secret == first.secret);

  TempDir other;
  const SecretResult third = load_or_create_secret(other.path);
  REQUIRE(third.error.empty());
  CHECK(third.secret != first.secret);
}

TEST_CASE("a secret of the wrong size or readable by others is an error") {
  TempDir dir;
  const std::string path = dir.path + "/" + secret_file_name;
  {
    std::ofstream f(path);
    f << "short";
  }
  ::chmod(path.c_str(), 0600);
  SecretResult r = load_or_create_secret(dir.path);
  CHECK_FALSE(r.error.empty());
  CHECK(r.error.find("secret") != std::string::npos);

  std::filesystem::remove(path);
  REQUIRE(load_or_create_secret(dir.path).error.empty());
  ::chmod(path.c_str(), 0644);
  r = load_or_create_secret(dir.path);
  CHECK(r.error.find("0644") == std::string::npos);
  CHECK(r.error.find("644") != std::string::npos);
}

TEST_CASE("a data directory that does not exist is an error, not a crash") {
  const SecretResult r = load_or_create_secret("/nonexistent/boxoffice/dir");
  CHECK_FALSE(r.error.empty());
}

}  // namespace
}  // namespace boxoffice::net
