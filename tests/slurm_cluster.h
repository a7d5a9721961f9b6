#pragma once
// The one-node Slurm cluster of tests/slurm/start-cluster.sh for a test executable: started in
// a folder of the test's own on ports of its own (two test executables can each have one at the
// same time), stopped by the destructor. SLLMR_SLURM_CONF=PATH uses a running cluster instead.
#include <QProcess>
#include <QString>
#include <QtGlobal>

class TestCluster
{
public:
    TestCluster() = default;
    TestCluster(const TestCluster&) = delete;
    TestCluster& operator=(const TestCluster&) = delete;
    ~TestCluster() { stop(); }

    /// Starts the cluster once (later calls return the first answer) with its state in `dir`
    /// and its daemons on `port` and `port + 1`, and points SLURM_CONF at it. Returns why it
    /// cannot run here ("" when it runs).
    QString start(const QString& dir, int port)
    {
        if (m_tried)
            return m_problem;
        m_tried = true;
        if (const QByteArray conf = qgetenv("SLLMR_SLURM_CONF"); !conf.isEmpty()) {
            qputenv("SLURM_CONF", conf);
            return {};
        }
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("SLLMR_SLURM_PORT"), QString::number(port));
        p.setProcessEnvironment(env);
        p.start(QStringLiteral("bash"), {scripts() + QStringLiteral("start-cluster.sh"), dir});
        if (!p.waitForFinished(120000)) {
            p.kill();
            m_problem = QStringLiteral("start-cluster.sh did not finish within 2 minutes");
            return m_problem;
        }
        m_dir = dir;  // stopped whatever happened
        if (p.exitCode() != 0) {
            m_problem = QString::fromUtf8(p.readAllStandardError()).trimmed();
            if (m_problem.isEmpty())
                m_problem = QStringLiteral("start-cluster.sh failed (exit %1)").arg(p.exitCode());
            return m_problem;
        }
        qputenv("SLURM_CONF", (dir + QStringLiteral("/slurm.conf")).toUtf8());
        return {};
    }

    void stop()
    {
        if (m_dir.isEmpty())
            return;
        QProcess::execute(QStringLiteral("bash"),
                          {scripts() + QStringLiteral("stop-cluster.sh"), m_dir});
        m_dir.clear();
    }

private:
    static QString scripts()
    {
        return QStringLiteral(SLLMR_SOURCE_DIR) + QStringLiteral("/tests/slurm/");
    }

    QString m_dir;
    QString m_problem;
    bool m_tried = false;
};
