#pragma once
// Where data files are: the bundled demo folder and the resolution of the paths a config names
// ("demo:REL" for a file of the demo, relative paths against the config file's folder).
#include <string>

namespace sllmr {

// The bundled demo folder: $SLLMR_DEMO_DIR, <exe>/../share/sllmr/demo, or the source tree's
// resources/demo; empty when none exists.
std::string demoDir();
// Resolves "demo:REL" against demoDir() and relative paths against `baseDir`. Error(NotFound)
// for a "demo:" path when no demo folder exists.
std::string resolveDataPath(const std::string& path, const std::string& baseDir);

}  // namespace sllmr
