#pragma once
// Shared by the libFuzzer targets: each target writes its input to a file with the name a reader
// expects (the readers take paths) and calls the real reader. sllmr::Error is the documented way
// to refuse bad input and is caught; anything else (a crash, a sanitizer report, another
// exception escaping) is a finding.
#include "common/error.h"

#include <unistd.h>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace sllmr::fuzz {

// A private folder for this process, removed at exit.
inline const std::filesystem::path& scratch()
{
    static const std::filesystem::path dir = [] {
        const char* base = std::getenv("TMPDIR");
        auto path = std::filesystem::path(base && *base ? base : "/tmp") /
                    ("sllmr-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratch(), ec);
        });
        return path;
    }();
    return dir;
}

// Writes `data` to scratch()/name and returns the path.
inline std::string writeInput(const char* name, const std::uint8_t* data, std::size_t size)
{
    const auto path = (scratch() / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    return path;
}

// Runs `body`; only sllmr::Error is an accepted outcome.
template <typename Body>
int refuseOrRead(Body&& body)
{
    try {
        body();
    } catch (const sllmr::Error&) {}
    return 0;
}

}  // namespace sllmr::fuzz
