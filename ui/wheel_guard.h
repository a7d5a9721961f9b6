#pragma once

// Scrolling a form must not change its fields: spin boxes and combo boxes take the mouse wheel
// only when they have the keyboard focus (click or Tab into them first). Otherwise the wheel
// scrolls the page they sit on.

class QWidget;

namespace sllmr::ui {

/// Guards every spin box and combo box under `root` (call once its widgets exist).
void guardWheel(QWidget* root);

}  // namespace sllmr::ui
