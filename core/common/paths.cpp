#include "common/paths.h"

#include "common/error.h"

#include <unistd.h>
#include <cstdlib>
#include <filesystem>

namespace sllmr {
namespace fs = std::filesystem;

namespace {

constexpr const char* kDemoPrefix = "demo:";
constexpr const char* kDataPrefix = "data:";

}  // namespace

std::string demoDir()
{
    std::error_code ec;
    if (const char* env = std::getenv("SLLMR_DEMO_DIR"); env && fs::is_directory(env, ec))
        return fs::path(env).lexically_normal().string();
    char exe[4096];
    const auto n = ::readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        const auto installed = fs::path(exe).parent_path() / ".." / "share" / "sllmr" / "demo";
        if (fs::is_directory(installed, ec))
            return installed.lexically_normal().string();
    }
#ifdef SLLMR_DEMO_DIR_DEV
    if (fs::is_directory(SLLMR_DEMO_DIR_DEV, ec))
        return SLLMR_DEMO_DIR_DEV;
#endif
    return {};
}

std::string publicDataDir()
{
    std::error_code ec;
    if (const char* env = std::getenv("SLLMR_SHARED_DATA"); env && *env)
        return fs::is_directory(env, ec) ? fs::path(env).lexically_normal().string()
                                         : std::string();
#ifdef SLLMR_PUBLIC_DATA_DEV
    if (fs::is_directory(SLLMR_PUBLIC_DATA_DEV, ec))
        return fs::path(SLLMR_PUBLIC_DATA_DEV).lexically_normal().string();
#endif
    return {};
}

std::string resolveDataPath(const std::string& path, const std::string& baseDir)
{
    if (path.empty())
        return path;
    if (path.rfind(kDemoPrefix, 0) == 0) {
        const auto dir = demoDir();
        if (dir.empty())
            throw Error(ErrorKind::NotFound,
                        "'" + path + "' names the bundled demo, which is not installed", {}, 0,
                        "set SLLMR_DEMO_DIR to the demo folder (resources/demo)");
        return (fs::path(dir) / path.substr(std::string(kDemoPrefix).size()))
            .lexically_normal()
            .string();
    }
    if (path.rfind(kDataPrefix, 0) == 0) {
        const auto dir = publicDataDir();
        if (dir.empty()) {
            const char* env = std::getenv("SLLMR_SHARED_DATA");
            throw Error(ErrorKind::NotFound,
                        "'" + path + "' names the public data folder, which " +
                            (env && *env ? "is not at " + std::string(env) + " ($SLLMR_SHARED_DATA)"
                                         : std::string("was not found")),
                        {}, 0,
                        "set SLLMR_SHARED_DATA to the folder that holds the public data sets "
                        "(e.g. amazon-2014-5core/; README, \"Data\")");
        }
        return (fs::path(dir) / path.substr(std::string(kDataPrefix).size()))
            .lexically_normal()
            .string();
    }
    fs::path p(path);
    if (p.is_relative() && !baseDir.empty())
        return (fs::path(baseDir) / p).lexically_normal().string();
    return path;
}

}  // namespace sllmr
