#pragma once

// The Studio's workflow pages, in navigation order (Ctrl+1 ... Ctrl+8).

namespace sllmr::ui {

enum class StudioPage { Data, LlmScores, ModelAndGate, Run, Results, Runs, Inspector, Ablation };

}  // namespace sllmr::ui
