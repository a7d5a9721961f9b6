#pragma once

// The guided teaching demo on the bundled data: base vs global vs the paper gate vs the
// reliability gate vs the random gate, each step explained in a sentence, ending in the results
// matrix and the gate inspector. A panel docked beside the page it explains: it moves the
// Studio from page to page, starts the demo grid (MF, 3 seeds; a few minutes on 2 cores) and
// follows its progress, all through the narrow DemoHost interface. Every number it quotes is read
// from the loaded data or the finished runs, never written in; data strings are escaped before
// they enter its rich text.

#include <QWidget>

#include <string>

#include "studio_page.h"

class QLabel;
class QPushButton;
class QTextBrowser;

namespace sllmr::ui {

struct LoadedState;

/// What the guided demo may do with the Studio (the main window implements it).
class DemoHost
{
public:
    virtual ~DemoHost() = default;
    virtual void showDemoPage(StudioPage page) = 0;
    [[nodiscard]] virtual const LoadedState& demoState() const = 0;
    /// Loads the demo grid preset and runs it; false when it cannot start (the host says why).
    virtual bool runDemoGrid() = 0;
    /// The first run of matrix row `row` of the last results matrix; 0 when there is none.
    [[nodiscard]] virtual qint64 demoMatrixRun(const std::string& row) const = 0;
    virtual void inspectRun(qint64 runId) = 0;
    /// The run open in the gate inspector (0: none) and its directions sentence.
    [[nodiscard]] virtual qint64 demoInspectedRun() const = 0;
    [[nodiscard]] virtual QString demoDirectionsSummary() const = 0;
};

class TeachingDemo : public QWidget
{
    Q_OBJECT

public:
    TeachingDemo(DemoHost* host, QWidget* parent);

    [[nodiscard]] int step() const { return m_step; }
    void goTo(int step);
    [[nodiscard]] static int stepCount();
    [[nodiscard]] QString text() const;

public Q_SLOTS:
    /// The host reports the demo grid's progress and the loaded data's changes.
    void sweepItemStarted(int position, const QString& row);
    void matrixReady();
    void render();

private:
    DemoHost* m_host;
    int m_step = 0;
    QString m_progress;
    QLabel* m_title = nullptr;
    QTextBrowser* m_text = nullptr;
    QPushButton* m_back = nullptr;
    QPushButton* m_next = nullptr;
    QPushButton* m_action = nullptr;
};

}  // namespace sllmr::ui
