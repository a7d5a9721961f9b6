#include "teaching_demo.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <cmath>

#include "engine/workbench.h"

namespace sllmr::ui {

namespace {

struct Step
{
    const char* title;
    const char* text;
    StudioPage page;
    const char* action;  // button text, or nullptr
};

const Step kSteps[] = {
    {QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo", "1. The data"),
     QT_TRANSLATE_NOOP(
         "sllmr::ui::TeachingDemo",
         "MovieLens ml-latest-small as split for the LLM study: %1 users, %2 items, "
         "%3 test interactions. Cold-start users are those with the shortest "
         "histories (|H(u)| &lt; %4), long-tail items the least rated (pop(i) &lt; %5). "
         "Drag the dashed lines to see how the segments change."),
     StudioPage::Data, nullptr},
    {QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo", "2. The LLM's opinion"),
     QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo",
                       "ChatGPT re-ranked candidate lists for these users offline. On its own it "
                       "ranks test items with AUC %1 overall, %2 on cold users and %3 on "
                       "long-tail items (0.5 is chance): its opinion helps in some places and "
                       "hurts in others. That is what a gate has to learn."),
     StudioPage::LlmScores, nullptr},
    {QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo", "3. Five ways to use it"),
     QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo",
                       "<b>none</b>: matrix factorization alone. <b>global</b>: add the LLM's "
                       "pairwise preferences everywhere. <b>paper</b>: a gate learned jointly "
                       "with the model decides where. <b>reliability</b>: the gate learns where "
                       "the LLM's order agrees with what users did. <b>random</b>: the gate "
                       "opens at random, as often as the reliability gate; if it does as well, "
                       "<i>where</i> the gate opens does not matter. Press Run: 5 variants x 3 "
                       "seeds, a few minutes on two cores."),
     StudioPage::Ablation, QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo", "Run the demo")},
    {QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo", "4. The verdict"),
     QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo",
                       "The matrix shows test AUC per segment, mean \u00b1 std over the seeds, "
                       "with each variant compared with 'global' by paired tests over users "
                       "(each user's mean AUC; Holm-corrected). Green bold differences are "
                       "significant, grey italic ones are not; a dagger marks values resting on "
                       "fewer than 50 test interactions, and MostPop, ItemKNN and the LLM alone "
                       "are the reference rows to beat. Read the tail column: does selective "
                       "regularization beat global regularization on long-tail items, by how "
                       "much, and is it significant?"),
     StudioPage::Ablation, nullptr},
    {QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo", "5. Inside the gate"),
     QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo",
                       "The inspector shows what a gate did. For the paper gate, the activation "
                       "falls epoch after epoch: the LLM loss can only shrink by closing the "
                       "gate, so it closes. The reliability gate stays open where the LLM tends "
                       "to be right; search a user or a movie title to see each LLM pair, its "
                       "gate value and whether the LLM was right."),
     StudioPage::Inspector,
     QT_TRANSLATE_NOOP("sllmr::ui::TeachingDemo", "Inspect the reliability run")},
};

QString auc(double v)
{
    return std::isnan(v) ? QStringLiteral("n/a") : QString::number(v, 'f', 3);
}

}  // namespace

int TeachingDemo::stepCount()
{
    return static_cast<int>(std::size(kSteps));
}

TeachingDemo::TeachingDemo(DemoHost* host, QWidget* parent) : QWidget(parent), m_host(host)
{
    setWindowTitle(tr("Guided demo: where does the LLM help?"));
    auto* layout = new QVBoxLayout(this);
    m_title = new QLabel(this);
    m_title->setTextFormat(Qt::PlainText);
    QFont f = m_title->font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 1.2);
    m_title->setFont(f);
    layout->addWidget(m_title);
    m_text = new QTextBrowser(this);
    m_text->setObjectName(QStringLiteral("demoText"));
    m_text->setOpenExternalLinks(false);
    layout->addWidget(m_text, 1);
    auto* buttons = new QHBoxLayout;
    m_back = new QPushButton(tr("Back"), this);
    m_action = new QPushButton(this);
    m_next = new QPushButton(tr("Next"), this);
    buttons->addWidget(m_back);
    buttons->addStretch(1);
    buttons->addWidget(m_action);
    buttons->addWidget(m_next);
    layout->addLayout(buttons);
    connect(m_back, &QPushButton::clicked, this, [this] { goTo(m_step - 1); });
    connect(m_next, &QPushButton::clicked, this, [this] { goTo(m_step + 1); });
    connect(m_action, &QPushButton::clicked, this, [this] {
        if (m_step == 2) {
            m_host->runDemoGrid();
        } else if (m_step == 4) {
            if (const qint64 run = m_host->demoMatrixRun("reliability"); run > 0)
                m_host->inspectRun(run);
        }
    });
    setMinimumWidth(340);
    goTo(0);
}

void TeachingDemo::sweepItemStarted(int position, const QString& row)
{
    m_progress = tr("Training %1 (queue item %2)...").arg(row).arg(position + 1);
    render();
}

void TeachingDemo::matrixReady()
{
    m_progress = tr("The matrix is ready.");
    if (m_step == 2)
        goTo(3);
    else
        render();
}

void TeachingDemo::goTo(int step)
{
    m_step = std::clamp(step, 0, stepCount() - 1);
    m_host->showDemoPage(kSteps[m_step].page);
    render();
}

QString TeachingDemo::text() const
{
    return m_text->toPlainText();
}

void TeachingDemo::render()
{
    const Step& s = kSteps[m_step];
    m_title->setText(tr(s.title));
    QString body = tr(s.text);
    const auto& state = m_host->demoState();
    if (m_step == 0 && state.dataset && state.segmentation)
        body = body.arg(state.dataset->numUsers())
                   .arg(state.dataset->numItems())
                   .arg(state.dataset->test.size())
                   .arg(state.segmentation->tauUser)
                   .arg(state.segmentation->tauItem);
    // The step texts are rich text written here; everything filled in is escaped.
    const auto escaped = [](const QString& text) { return text.toHtmlEscaped(); };
    if (m_step == 1) {
        double overall = std::nan(""), cold = std::nan(""), tail = std::nan("");
        for (const auto& q : state.llmQuality) {
            if (q.segment == "overall")
                overall = q.auc;
            else if (q.segment == "cold")
                cold = q.auc;
            else if (q.segment == "tail")
                tail = q.auc;
        }
        body = body.arg(escaped(auc(overall)), escaped(auc(cold)), escaped(auc(tail)));
    }
    if (m_step == 4 && m_host->demoInspectedRun() > 0)
        body +=
            QStringLiteral("</p><p>") + tr("In run %1: %2")
                                            .arg(m_host->demoInspectedRun())
                                            .arg(m_host->demoDirectionsSummary().toHtmlEscaped());
    if (!m_progress.isEmpty() && (m_step == 2 || m_step == 3))
        body += QStringLiteral("<p><i>%1</i></p>").arg(escaped(m_progress));
    m_text->setHtml(QStringLiteral("<p>%1</p>").arg(body));
    m_back->setEnabled(m_step > 0);
    m_next->setEnabled(m_step + 1 < stepCount());
    m_action->setVisible(s.action != nullptr);
    if (s.action)
        m_action->setText(tr(s.action));
}

}  // namespace sllmr::ui
