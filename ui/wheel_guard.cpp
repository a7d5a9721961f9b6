#include "wheel_guard.h"

#include <QAbstractSpinBox>
#include <QComboBox>
#include <QEvent>
#include <QObject>
#include <QWidget>

namespace sllmr::ui {

namespace {

class WheelGuard : public QObject
{
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        if (event->type() == QEvent::Wheel) {
            auto* widget = qobject_cast<QWidget*>(watched);
            if (widget && !widget->hasFocus()) {
                // Ignored and filtered: the widget keeps its value and the event goes on to the
                // parent (a scroll area scrolls).
                event->ignore();
                return true;
            }
        }
        return QObject::eventFilter(watched, event);
    }
};

}  // namespace

void guardWheel(QWidget* root)
{
    auto* guard = root->findChild<WheelGuard*>(QString(), Qt::FindDirectChildrenOnly);
    if (!guard)
        guard = new WheelGuard(root);
    auto protect = [guard](QWidget* w) {
        w->setFocusPolicy(Qt::StrongFocus);  // the wheel no longer gives them the focus
        w->removeEventFilter(guard);
        w->installEventFilter(guard);
    };
    for (auto* spin : root->findChildren<QAbstractSpinBox*>())
        protect(spin);
    for (auto* combo : root->findChildren<QComboBox*>())
        protect(combo);
}

}  // namespace sllmr::ui
