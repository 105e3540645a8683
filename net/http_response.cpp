#include "net/http_response.hpp"

#include <charconv>
#include <ctime>

namespace boxoffice::net {

namespace {

// "Date: Tue, 24 Nov 2026 09:15:00 GMT\r\n", formatted once per second per thread.
std::string_view date_header() {
  thread_local time_t cached_second = -1;
  thread_local char cached[64];
  thread_local size_t cached_size = 0;
  const time_t now = ::time(nullptr);
  if (now != cached_second) {
    struct tm tm {};
    ::gmtime_r(&now, &tm);
    cached_size = ::strftime(cached, sizeof cached, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    cached_second = now;
  }
  return {cached, cached_size};
}

void append_number(std::string& out, uint64_t v) {
  char buf[24];
  out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

}  // namespace

std::string_view reason_phrase(uint16_t status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 402:
      return "Payment Required";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 429:
      return "Too Many Requests";
    case 503:
      return "Service Unavailable";
    default:
      return "Internal Server Error";
  }
}

void append_response(const Reply& reply, bool close, BodyType type, std::string& out,
                     bool with_body) {
  out += "HTTP/1.1 ";
  append_number(out, reply.status);
  out += ' ';
  out += reason_phrase(reply.status);
  out += "\r\n";
  out += date_header();
  if (reply.status != 204) {
    out += type == BodyType::json ? "Content-Type: application/json\r\n"
                                  : "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n";
    out += "Content-Length: ";
    append_number(out, reply.body.size());
    out += "\r\n";
  }
  if (close) out += "Connection: close\r\n";
  if (!reply.allow.empty()) {
    out += "Allow: ";
    out += reply.allow;
    out += "\r\n";
  }
  if (reply.retry_after) {
    out += "Retry-After: ";
    append_number(out, retry_after_s);
    out += "\r\n";
  }
  if (reply.www_authenticate) out += "WWW-Authenticate: Bearer\r\n";
  out += "\r\n";
  if (reply.status != 204 && with_body) out += reply.body;
}

}  // namespace boxoffice::net
