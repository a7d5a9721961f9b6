#pragma once
// A minimal HTTP(S) POST over libcurl for chat-completions endpoints. One call = one request on
// its own easy handle, so calls from several threads are safe. Transport problems (refused,
// timed out, truncated body) come back as `transportError`, never as exceptions; the caller
// decides what to retry. Headers may carry credentials: they are never logged here.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sllmr {

struct HttpResponse
{
    long status = 0;  // 0 when no HTTP answer arrived
    std::string body;
    std::string transportError;  // empty when an answer arrived complete
    bool timedOut = false;
    std::optional<double> retryAfterSeconds;  // from a Retry-After header (seconds form)
    bool cancelled = false;                   // `cancel` was set while the request was in flight
};

// Posts `body`; a set `cancel` aborts a request in flight (curl polls it at least once a second).
HttpResponse httpPostJson(const std::string& url, const std::vector<std::string>& headers,
                          const std::string& body, double timeoutSeconds,
                          const std::atomic<bool>* cancel = nullptr);

// "https://user:secret@host:8080/v1" -> "host:8080": what may be written into provenance.
std::string endpointHost(const std::string& url);

}  // namespace sllmr
