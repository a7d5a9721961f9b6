#include "llm/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <mutex>

namespace sllmr {
namespace {

void globalInit()
{
    static std::once_flag once;
    std::call_once(once, [] {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        std::atexit([] { curl_global_cleanup(); });
    });
}

std::size_t onBody(char* data, std::size_t size, std::size_t n, void* user)
{
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

std::size_t onHeader(char* data, std::size_t size, std::size_t n, void* user)
{
    const std::string line(data, size * n);
    auto* out = static_cast<HttpResponse*>(user);
    const std::string key = "retry-after:";
    if (line.size() > key.size()) {
        std::string head = line.substr(0, key.size());
        std::transform(head.begin(), head.end(), head.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (head == key) {
            char* end = nullptr;
            const double v = std::strtod(line.c_str() + key.size(), &end);
            if (end != line.c_str() + key.size() && v >= 0)
                out->retryAfterSeconds = v;
        }
    }
    return size * n;
}

int onProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t)
{
    const auto* cancel = static_cast<const std::atomic<bool>*>(user);
    return cancel && cancel->load(std::memory_order_relaxed) ? 1 : 0;
}

}  // namespace

HttpResponse httpPostJson(const std::string& url, const std::vector<std::string>& headers,
                          const std::string& body, double timeoutSeconds,
                          const std::atomic<bool>* cancel)
{
    globalInit();
    HttpResponse r;
    CURL* h = curl_easy_init();
    if (!h) {
        r.transportError = "cannot create an HTTP handle";
        return r;
    }
    curl_slist* list = nullptr;
    list = curl_slist_append(list, "Content-Type: application/json");
    // No "Expect: 100-continue" round trip before the body: some servers never answer it.
    list = curl_slist_append(list, "Expect:");
    for (const auto& hd : headers)
        list = curl_slist_append(list, hd.c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &r);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(timeoutSeconds * 1000.0));
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(std::min(timeoutSeconds, 30.0) * 1000.0));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (cancel) {
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, onProgress);
        curl_easy_setopt(h, CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(cancel));
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    }
    curl_easy_setopt(h, CURLOPT_USERAGENT, "sllmr/" SLLMR_VERSION);
    const CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
    if (rc != CURLE_OK) {
        r.transportError = curl_easy_strerror(rc);
        r.timedOut = rc == CURLE_OPERATION_TIMEDOUT;
        r.cancelled = rc == CURLE_ABORTED_BY_CALLBACK;
    }
    curl_slist_free_all(list);
    curl_easy_cleanup(h);
    return r;
}

std::string endpointHost(const std::string& url)
{
    std::string rest = url;
    if (const auto p = rest.find("://"); p != std::string::npos)
        rest = rest.substr(p + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const auto at = rest.rfind('@'); at != std::string::npos)
        rest = rest.substr(at + 1);
    return rest;
}

}  // namespace sllmr
