#pragma once

// Words a core error for a dialog: what went wrong, where (file and line for inputs) and what to
// do. Core errors carry all three; the dialog only lays them out.

#include <QString>

#include "common/error.h"

namespace sllmr::ui {

[[nodiscard]] inline QString errorText(const Error& e)
{
    QString text = QString::fromStdString(e.problem());
    if (!e.file().empty()) {
        text += QStringLiteral("\n\nFile: %1").arg(QString::fromStdString(e.file()));
        if (e.line() > 0)
            text += QStringLiteral(", line %1").arg(e.line());
    }
    if (!e.hint().empty())
        text += QStringLiteral("\n\nWhat to do: %1").arg(QString::fromStdString(e.hint()));
    return text;
}

}  // namespace sllmr::ui
