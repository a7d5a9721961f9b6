#include "table_export.h"

#include <QAbstractItemModel>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QMessageBox>
#include <QStringList>

namespace sllmr::ui {

namespace {

QString csvField(QString text)
{
    text.replace(QLatin1Char('\n'), QLatin1Char(' '));
    if (text.contains(QLatin1Char(',')) || text.contains(QLatin1Char('"')))
        return QLatin1Char('"') + text.replace(QLatin1Char('"'), QStringLiteral("\"\"")) +
               QLatin1Char('"');
    return text;
}

QString latexField(QString text)
{
    text.replace(QLatin1Char('\n'), QLatin1Char(' '));
    text.replace(QLatin1Char('\\'), QStringLiteral("\\textbackslash{}"));
    for (const char c : {'&', '%', '$', '#', '_', '{', '}'})
        text.replace(QLatin1Char(c), QStringLiteral("\\") + QLatin1Char(c));
    text.replace(QLatin1Char('~'), QStringLiteral("\\textasciitilde{}"));
    text.replace(QLatin1Char('^'), QStringLiteral("\\textasciicircum{}"));
    text.replace(QStringLiteral("\u00b1"), QStringLiteral("$\\pm$"));
    return text;
}

}  // namespace

QString exportTable(const QAbstractItemModel& model, const QHeaderView* header, bool latex)
{
    QList<int> columns;
    for (int v = 0; v < header->count(); ++v) {
        const int c = header->logicalIndex(v);
        if (!header->isSectionHidden(c))
            columns << c;
    }
    auto field = [latex](const QString& text) { return latex ? latexField(text) : csvField(text); };
    const QString sep = latex ? QStringLiteral(" & ") : QStringLiteral(",");
    const QString end = latex ? QStringLiteral(" \\\\\n") : QStringLiteral("\n");
    QString out;
    if (latex)
        out += QStringLiteral("\\begin{tabular}{%1}\n\\hline\n")
                   .arg(QString(columns.size(), QLatin1Char('l')));
    QStringList cells;
    for (int c : columns)
        cells << field(model.headerData(c, Qt::Horizontal, Qt::DisplayRole).toString());
    out += cells.join(sep) + end;
    if (latex)
        out += QStringLiteral("\\hline\n");
    for (int r = 0; r < model.rowCount(); ++r) {
        cells.clear();
        for (int c : columns)
            cells << field(model.data(model.index(r, c), Qt::DisplayRole).toString());
        out += cells.join(sep) + end;
    }
    if (latex)
        out += QStringLiteral("\\hline\n\\end{tabular}\n");
    return out;
}

void exportTableWithDialog(QWidget* parent, const QAbstractItemModel& model,
                           const QHeaderView* header, const QString& stem)
{
    const QString path = QFileDialog::getSaveFileName(
        parent, QObject::tr("Export table"), stem + QStringLiteral(".csv"),
        QObject::tr("CSV (*.csv);;LaTeX table (*.tex)"));
    if (path.isEmpty())
        return;
    const bool latex =
        QFileInfo(path).suffix().compare(QLatin1String("tex"), Qt::CaseInsensitive) == 0;
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text) ||
        file.write(exportTable(model, header, latex).toUtf8()) < 0)
        QMessageBox::critical(parent, QObject::tr("Export table"),
                              QObject::tr("Could not write %1: %2. Check that the folder exists "
                                          "and is writable.")
                                  .arg(path, file.errorString()));
}

}  // namespace sllmr::ui
