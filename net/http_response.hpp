// The bytes of an HTTP/1.1 response, written by hand (no serializer).
//
// Contract: append_response() appends one complete response to `out`:
// the status line, Date, Content-Type (JSON, or text for /metrics),
// Content-Length, Connection: close when the connection ends after it, the
// reply's Allow / Retry-After / WWW-Authenticate, a blank line, the body. A
// 204 has no body and no Content-Type. Appending to the same string lets a
// connection send several pipelined responses in one write.
#pragma once

#include <string>
#include <string_view>

#include "net/render.hpp"

namespace boxoffice::net {

enum class BodyType : uint8_t { json, prometheus_text };

// `with_body` false (an answer to HEAD): the headers only, Content-Length
// still that of the body.
void append_response(const Reply& reply, bool close, BodyType type, std::string& out,
                     bool with_body = true);

// The reason phrase of a status code ("OK", "Not Found"...).
std::string_view reason_phrase(uint16_t status);

}  // namespace boxoffice::net
