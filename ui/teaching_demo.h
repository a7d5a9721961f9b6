#pragma once

// The guided teaching demo on the bundled data: base vs global vs the paper gate vs the
// reliability gate vs the random gate, each step explained in a sentence, ending in the results
// matrix and the gate inspector. A small non-modal window beside the main window: it moves the
// Studio from page to page, starts the demo grid on the ablation page (MF, 3 seeds; a few
// minutes on 2 cores) and follows its progress. Every number it quotes is read from the loaded
// data or the finished runs, never written in.

#include <QDialog>

class QLabel;
class QPushButton;
class QTextBrowser;

namespace sllmr::ui {

class MainWindow;

class TeachingDemo : public QDialog
{
    Q_OBJECT

public:
    explicit TeachingDemo(MainWindow* window);

    [[nodiscard]] int step() const { return m_step; }
    void goTo(int step);
    [[nodiscard]] static int stepCount();
    [[nodiscard]] QString text() const;

private:
    void render();

    MainWindow* m_window;
    int m_step = 0;
    QString m_progress;
    QLabel* m_title = nullptr;
    QTextBrowser* m_text = nullptr;
    QPushButton* m_back = nullptr;
    QPushButton* m_next = nullptr;
    QPushButton* m_action = nullptr;
};

}  // namespace sllmr::ui
