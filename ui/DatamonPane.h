#pragma once

#include "config/Inventory.h"
#include "datamon/DatamonOutput.h"
#include "datamon/DatamonTarget.h"
#include "runbook/JournalLocation.h"

#include "SystemPane.h"

#include <memory>
#include <optional>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableView;

namespace opsdeck {

class CredentialStore;
class DatamonBundleModel;
class DatamonHost;
class DatamonLabelModel;
class DatamonRepoFilter;
class DatamonRepoModel;
class ErrorBanner;
class OperationLauncher;
class PaneHeader;
class RunsDock;
template <typename Connection> class ConnectionWorker;

// The datamon contexts of the inventory: per context where its datamon2 runs, its blob bucket and the contexts
// sharing it, the purge lock and the reverse-lookup index (read with gcloud storage on that host); its repos as
// `repo list` streams them (the first rows show while it lists); for the selected repo its bundles (sizes on
// demand) and labels; and the repo delete, planned, confirmed and run in the Runs dock.
//
// Two workers, each with its own connection to the context's host: one lists the repos (10,000 take a while), the
// other reads the context's state and the selected repo's bundles, labels and sizes, so neither waits for the other.
class DatamonPane : public SystemPane
{
    Q_OBJECT
public:
    DatamonPane(const Inventory& inventory,
        CredentialStore* credentials,
        RunsDock* runs,
        const JournalLocation& journalLocation,
        QWidget* parent = nullptr);
    ~DatamonPane() override;

    QStringList hosts() const override;
    void updateHost(const HostStatus&) override { }
    QAbstractItemView* targetView() const override;
    QString selectedHost() const override;
    bool recovers(const QString& operation) const override;
    void recover(const Journal::UnfinishedRun& run) override;
    bool restores(const QString& operation) const override;
    void restore(const UndoWindow& window) override;

    // The context shown (the inventory's name); empty when none.
    QString currentContext() const;
    bool selectContext(const QString& name);
    QComboBox* contextPicker() const { return m_contexts; }

    DatamonRepoModel* repos() const { return m_repos; }
    DatamonRepoFilter* repoFilter() const { return m_filter; }
    QTableView* repoView() const { return m_repoView; }
    QLineEdit* filterBox() const { return m_filterBox; }
    // "40 repos", "1,024 repos (listing…)", "3 of 40 repos".
    QString repoCountText() const;
    bool isListing() const { return m_listing; }
    // From `repo list` starting on its worker to its first rows in the model, in ms; -1 before they came.
    qint64 firstRowsMs() const { return m_firstRowsMs; }
    QString selectedRepo() const;
    bool selectRepo(const QString& name);

    DatamonBundleModel* bundles() const { return m_bundles; }
    DatamonLabelModel* labels() const { return m_labels; }
    QPushButton* loadSizesButton() const { return m_loadSizes; }
    QAction* deleteAction() const { return m_delete; }
    QAction* countAction() const { return m_count; }
    QAction* purgeAction() const { return m_purge; }
    ErrorBanner* errors() const { return m_errors; }
    // The state strip's lines, as shown.
    QString whereText() const;
    QString blobBucketText() const;
    QString lockText() const;
    QString indexText() const;

public slots:
    // Reads the context's state and lists its repos again.
    void refresh();
    void refreshState();
    // `repo get --with-size` of the selected repo.
    void loadSizes();
    // The delete of `repo` on the shown context: planned, confirmed in the dialog and run in the Runs dock.
    void deleteRepo(const QString& repo);
    // The purge of unused blobs, in its two runs: count builds the index and counts with datamon's dry run, and once
    // it succeeds the purge's plan (those counts) is asked for at once; purge plans from the last count.
    void countUnused();
    void purgeUnused();

signals:
    void stateRead(); // the context's state was answered (shown, or its error)
    void listingFinished(); // the repo listing ended (all rows, or its error)
    void repoRead(const QString& repo); // a repo's bundles and labels were answered
    void sizesRead(const QString& repo);
    void deleteFinished(const QString& outcome); // a delete started from the pane ended
    // A purge run started from the pane ended: `run` is "count" or "purge".
    void purgeFinished(const QString& run, const QString& outcome);

protected:
    void showEvent(QShowEvent* event) override;

private:
    struct State;
    struct Details;
    void switchContext();
    void connectContext();
    void listRepos();
    void onRepoBatch(quint64 generation, const QList<DatamonRepo>& rows, qint64 startedAt);
    void onListingDone(quint64 generation, const QString& error);
    void onState(const State& state, const QString& error);
    void onSelectionChanged();
    void onDetails(const Details& details, const QString& error);
    void showRepoCount();
    void updateActions();
    void launchPurge(bool dryRunOnly);
    void showProblem(const QString& step, const QString& error, const QString& next = {});

    Inventory m_inventory;
    CredentialStore* m_credentials;
    std::optional<DatamonTarget> m_target; // resolved, its SSH secret included
    std::unique_ptr<ConnectionWorker<DatamonHost>> m_worker; // state, bundles, labels, sizes
    std::unique_ptr<ConnectionWorker<DatamonHost>> m_listWorker; // the repo listing
    bool m_connecting = false;
    quint64 m_generation = 0; // a new context starts a new one; older answers are dropped
    quint64 m_listGeneration = 0; // each listing
    quint64 m_detailGeneration = 0; // each repo selected
    bool m_listing = false;
    qint64 m_firstRowsMs = -1;
    QString m_shownRepo; // whose bundles and labels are shown or being read
    bool m_sizesLoading = false; // of m_shownRepo

    PaneHeader* m_header;
    QComboBox* m_contexts;
    QLabel* m_where;
    QLabel* m_bucket;
    QLabel* m_lock;
    QLabel* m_index;
    ErrorBanner* m_errors;
    OperationLauncher* m_launcher;
    QLineEdit* m_filterBox;
    QLabel* m_repoCount;
    QAction* m_delete;
    QAction* m_count;
    QAction* m_purge;
    bool m_purging = false; // a count or a purge of this pane is planned or running
    DatamonRepoModel* m_repos;
    DatamonRepoFilter* m_filter;
    QTableView* m_repoView;
    QLabel* m_detailTitle;
    QPushButton* m_loadSizes;
    DatamonBundleModel* m_bundles;
    DatamonLabelModel* m_labels;
};

} // namespace opsdeck
