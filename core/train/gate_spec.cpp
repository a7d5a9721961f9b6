#include "train/gate_spec.h"

#include "data/segments.h"

namespace sllmr {

GateThresholds resolveGateThresholds(const GateSpec& spec, const Segmentation& segmentation)
{
    return {spec.tauUser.value_or(segmentation.tauUser),
            spec.tauItem.value_or(segmentation.tauItem)};
}

bool thresholdRule(GateRule rule, const std::array<bool, 3>& enabled,
                   const std::array<bool, 3>& holds)
{
    bool any = false;
    bool all = true;
    bool some = false;
    for (std::size_t k = 0; k < enabled.size(); ++k) {
        if (!enabled[k])
            continue;
        some = true;
        any = any || holds[k];
        all = all && holds[k];
    }
    if (!some)
        return false;
    return rule == GateRule::All ? all : any;
}

}  // namespace sllmr
