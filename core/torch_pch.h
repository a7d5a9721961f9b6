#pragma once
// Precompiled header for sllmr_core: the Torch C++ API plus the standard headers we use most.
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>
