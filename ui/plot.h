#pragma once
// The one way to include QCustomPlot in this project. qcustomplot.h spells the Qt keywords
// `signals` and `foreach`, which the project-wide QT_NO_KEYWORDS removes (Torch headers clash with
// them); map them to their macro forms for this header only.
#define signals Q_SIGNALS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef foreach
#undef signals
