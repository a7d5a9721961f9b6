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
    // WheelGuard has no meta-object of its own (findChild<WheelGuard*> would match any QObject):
    // it is found by its name.
    const QString name = QStringLiteral("sllmrWheelGuard");
    auto* guard =
        dynamic_cast<WheelGuard*>(root->findChild<QObject*>(name, Qt::FindDirectChildrenOnly));
    if (!guard) {
        guard = new WheelGuard(root);
        guard->setObjectName(name);
    }
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
