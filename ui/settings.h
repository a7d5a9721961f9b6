#pragma once

// Typed QSettings keys: the key name and its fallback live together in one constant, so a
// setting is read and written with the same type everywhere.
//
//   const sllmr::ui::SettingKey<int> kLastPage{"mainWindow/page", 0};
//   stack->setCurrentIndex(kLastPage.get());
//   kLastPage.set(stack->currentIndex());
//
// QSettings uses the organisation and application names set on the QCoreApplication.

#include <QSettings>
#include <QString>
#include <QVariant>

namespace sllmr::ui {

template <class T>
struct SettingKey
{
    const char* name;
    T fallback;

    /// The stored value, or the fallback when the key is missing or does not convert to T.
    [[nodiscard]] T get() const
    {
        const QVariant stored = QSettings().value(QLatin1String(name));
        if (!stored.isValid() || !stored.canConvert<T>()) {
            return fallback;
        }
        return stored.value<T>();
    }

    void set(const T& value) const
    {
        QSettings().setValue(QLatin1String(name), QVariant::fromValue(value));
    }

    [[nodiscard]] bool isStored() const { return QSettings().contains(QLatin1String(name)); }
    void remove() const { QSettings().remove(QLatin1String(name)); }
};

}  // namespace sllmr::ui
