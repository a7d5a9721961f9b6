#pragma once
// Where the tests find their data. The bundled demo (resources/demo: MovieLens latest-small and
// ChatGPT's rankings for its users) is part of every clone; the public data folder
// (../shared/data, or $SLLMR_SHARED_DATA at run time) is not. Tests read a file from the demo
// when it is there and from the public folder otherwise; a test that needs a file only the public
// folder has skips, in the test function itself, naming the file (SLLMR_REQUIRE_DATA).
#include <QByteArray>
#include <QFileInfo>
#include <QString>
#include <QtGlobal>
#include <QtTest>

namespace testdata {

// The variable that names the public data folder at run time (also for "data:" paths).
inline constexpr const char* kSharedDataVariable = "SLLMR_SHARED_DATA";

inline QString sharedDir()
{
    const QByteArray env = qgetenv("SLLMR_SHARED_DATA");
    return env.isEmpty() ? QStringLiteral(SLLMR_SHARED_DATA) : QString::fromLocal8Bit(env);
}

inline QString demoDir()
{
    return QStringLiteral(SLLMR_DEMO_DIR);
}

// `rel` (e.g. "ml-latest-small/ratings.csv") in the bundled demo when it has it, else in the
// public data folder.
inline QString dataFile(const QString& rel)
{
    const QString demo = demoDir() + QLatin1Char('/') + rel;
    return QFileInfo::exists(demo) ? demo : sharedDir() + QLatin1Char('/') + rel;
}

inline std::string dataPath(const QString& rel)
{
    return dataFile(rel).toStdString();
}

inline bool have(const QString& rel)
{
    return QFileInfo::exists(dataFile(rel));
}

inline QByteArray missingMessage(const QString& rel)
{
    return QStringLiteral(
               "needs %1 from the public data folder %2 (not bundled with the "
               "project; point $SLLMR_SHARED_DATA at a copy to run it)")
        .arg(rel, sharedDir())
        .toUtf8();
}

// Points $SLLMR_SHARED_DATA (what "data:" paths resolve against) at `dir` until destroyed,
// then restores it.
class SharedDataOverride
{
public:
    explicit SharedDataOverride(const QByteArray& dir)
        : m_had(qEnvironmentVariableIsSet("SLLMR_SHARED_DATA"))
        , m_saved(qgetenv("SLLMR_SHARED_DATA"))
    {
        qputenv("SLLMR_SHARED_DATA", dir);
    }
    ~SharedDataOverride()
    {
        if (m_had)
            qputenv("SLLMR_SHARED_DATA", m_saved);
        else
            qunsetenv("SLLMR_SHARED_DATA");
    }
    SharedDataOverride(const SharedDataOverride&) = delete;
    SharedDataOverride& operator=(const SharedDataOverride&) = delete;

private:
    bool m_had;
    QByteArray m_saved;
};

}  // namespace testdata

// Skips the calling test function (or data row) when `rel` is in neither folder. A macro, so
// that QSKIP returns from the test function itself.
#define SLLMR_REQUIRE_DATA(rel)                               \
    do {                                                      \
        if (!testdata::have(rel))                             \
            QSKIP(testdata::missingMessage(rel).constData()); \
    } while (false)
