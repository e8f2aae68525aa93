#pragma once

#include "StatusIcons.h"
#include "config/Inventory.h"

#include <QWidget>

class QComboBox;
class QToolButton;

namespace opsdeck {

// A badge in a pane's bars (production, read-only, TLS not verified): an icon and a word, the colour only repeating
// them, its meaning in the tooltip. Hidden until its owner shows it.
QToolButton* makeBadge(
    const QString& objectName, StatusIcons::Kind kind, const QColor& color, const QString& text, QWidget* parent);

// An entry of a pane's target chooser (database, cluster, context): a production one has the production icon, and its
// tags are said in words after its name ("training (production, read-only)").
void addTargetChoice(QComboBox* box, const QString& text, const QVariant& data, const Tags& tags);
// A target's tags in words, as choosers and tables say them: "production", "read-only".
QStringList tagWords(const Tags& tags);

// A pane's title, with the production badge while what the pane works on (the selected instance, machine or host,
// the database, cluster or context) is production: every pane marks it alike, as every table marks the row.
class PaneHeader : public QWidget
{
    Q_OBJECT
public:
    PaneHeader(const QString& title, QWidget* parent);

    // `target` names what is production ("training on packit-host"); false hides the badge.
    void setProduction(bool production, const QString& target);
    // The badge's words while shown, else empty.
    QString productionText() const;

private:
    QToolButton* m_production;
};

} // namespace opsdeck
