#pragma once

#include "SystemPane.h"
#include "runbook/JournalLocation.h"
#include "runbook/RunRecord.h"

#include <QList>

class QComboBox;
class QDateEdit;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTreeWidget;

namespace opsdeck {

// Every run in the journal: filter by target, operation, outcome and date; a run's steps with their commands
// and output; export its report; verify the journal's hash chain.
class JournalPane : public SystemPane
{
    Q_OBJECT
public:
    explicit JournalPane(const JournalLocation& journalLocation, QWidget* parent = nullptr);

    QString title() const override { return tr("Journal"); }
    QStringList hosts() const override { return {}; }
    void updateHost(const HostStatus&) override { }
    bool showsHostState() const override { return false; }

    QTreeWidget* runList() const { return m_runs; }
    QTreeWidget* stepList() const { return m_steps; }

public slots:
    void reload();
    void verify();

signals:
    void loaded();

protected:
    void showEvent(QShowEvent* event) override;

private:
    void showRuns();
    void showRun(int index);

    JournalLocation m_journalLocation;
    QList<RunRecord> m_records; // as loaded, newest first
    QComboBox* m_target;
    QComboBox* m_operation;
    QComboBox* m_outcome;
    QDateEdit* m_from;
    QTreeWidget* m_runs;
    QTreeWidget* m_steps;
    QPlainTextEdit* m_output;
    QLabel* m_summary;
    QLabel* m_status;
    QPushButton* m_export;
};

} // namespace opsdeck
