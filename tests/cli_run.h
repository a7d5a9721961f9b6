#pragma once
// Runs the real `sllmr` binary of the build (SLLMR_CLI) for the tests that drive the command
// line from a Qt Test executable, with its exit code and both output streams.
#include <QByteArray>
#include <QProcess>
#include <QStringList>

struct CliResult
{
    int code = -1;
    QByteArray out;
    QByteArray err;
};

inline CliResult runCli(const QStringList& args)
{
    QProcess p;
    p.start(QStringLiteral(SLLMR_CLI), args);
    p.waitForFinished(600000);
    return {p.exitCode(), p.readAllStandardOutput(), p.readAllStandardError()};
}
