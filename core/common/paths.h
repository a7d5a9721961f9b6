#pragma once
// Where data files are: the bundled demo folder and the resolution of the paths a config names
// ("demo:REL" for a file of the demo, "data:REL" for one of the public data folder, relative paths
// against the config file's folder).
#include <string>

namespace sllmr {

// The bundled demo folder: $SLLMR_DEMO_DIR, <exe>/../share/sllmr/demo, or the source tree's
// resources/demo; empty when none exists.
std::string demoDir();
// The public data folder (MovieLens, the Amazon 5-core sequences, ...; not bundled):
// $SLLMR_SHARED_DATA, else the folder the build was configured with (-DSLLMR_SHARED_DATA, by
// default ../shared/data beside the source tree); empty when none exists.
std::string publicDataDir();
// Resolves "demo:REL" against demoDir(), "data:REL" against publicDataDir() and relative paths
// against `baseDir`. Error(NotFound) for a "demo:" or "data:" path whose folder does not exist.
std::string resolveDataPath(const std::string& path, const std::string& baseDir);

}  // namespace sllmr
