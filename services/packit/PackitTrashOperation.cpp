#include "packit/PackitTrashOperation.h"

#include "packit/PackitBundle.h"
#include "runbook/RunContext.h"

namespace opsdeck {

PackitTrashOperation::PackitTrashOperation(PackitTarget target, UndoWindow window, QString reason)
    : m_target(std::move(target))
    , m_window(std::move(window))
    , m_reason(std::move(reason))
    , m_keptRoot(m_window.restore.value(QStringLiteral("keptRoot")).toString())
    , m_bundle(m_window.restore.value(QStringLiteral("bundle")).toString())
{
}

PackitTrashOperation::~PackitTrashOperation() = default;

std::unique_ptr<PackitTrashOperation> PackitTrashOperation::fromWindow(
    PackitTarget target, const UndoWindow& window, const QString& reason, QString* error)
{
    auto operation = std::unique_ptr<PackitTrashOperation>(new PackitTrashOperation(std::move(target), window, reason));
    if (const QString problem = PackitBundle::keptPathError(operation->m_target.host.outpackBase,
            operation->m_target.instance.name, operation->m_keptRoot, operation->m_bundle);
        !problem.isEmpty()) {
        *error = QStringLiteral("the undo window of run %1 cannot be ended here: %2").arg(window.runId, problem);
        return nullptr;
    }
    return operation;
}

bool PackitTrashOperation::makePlan(Plan* plan, QString* error)
{
    if (const QString problem = reasonError(m_reason, QStringLiteral("the undo window ends early"));
        !problem.isEmpty()) {
        *error = problem;
        return false;
    }
    if (!m_connection)
        m_connection = std::make_unique<PackitConnection>(m_target);
    const auto root = m_connection->rootStats(m_keptRoot, error);
    const auto bundle = root ? m_connection->rootStats(m_bundle, error) : std::nullopt;
    if (!bundle)
        return false;
    plan->operation = name();
    plan->target = m_target.id();
    plan->targetName = m_window.confirmWith;
    plan->verb = QStringLiteral("End the undo window of");
    plan->typedConfirmation = true; // it takes the admin's way back away
    plan->production = m_target.host.tags.production;
    plan->readOnly = m_target.host.tags.readOnly;
    plan->irreversible = true;
    plan->parameters = { { QStringLiteral("ends"), m_window.runId }, { QStringLiteral("reason"), m_reason },
        { QStringLiteral("host"), m_target.host.name }, { QStringLiteral("instance"), m_target.instance.name },
        { QStringLiteral("keptRoot"), m_keptRoot }, { QStringLiteral("bundle"), m_bundle } };
    plan->counts = { { QStringLiteral("files"), QStringLiteral("Files in the kept root"), root->files,
                         QStringLiteral("The wiped instance's old outpack root, kept for a restore: deleted.") },
        { QStringLiteral("bytes"), QStringLiteral("Bytes freed"), root->bytes + bundle->bytes,
            QStringLiteral("The space the kept root and the restore bundle of rows take on the host.") } };
    if (!root->exists || !bundle->exists)
        plan->warnings << QStringLiteral("%1 is already gone from %2")
                              .arg(root->exists ? m_bundle : m_keptRoot, m_target.host.name);
    plan->warnings << QStringLiteral("Run %1 can no longer be restored once this ends its window.").arg(m_window.runId);
    plan->steps << Plan::Step { QStringLiteral("remove-kept"),
        QStringLiteral("Delete %1 and %2").arg(m_keptRoot, m_bundle),
        QStringLiteral("rm -r %1; rm -r %2").arg(m_keptRoot, m_bundle), QStringLiteral("neither exists any more") };
    plan->steps << Plan::Step { QStringLiteral("end-window"),
        QStringLiteral("Journal that the undo window of run %1 ends now").arg(m_window.runId),
        QStringLiteral("undo-closed {window: %1, state: ended}").arg(m_window.runId),
        QStringLiteral("the journal lists the window as ended") };
    plan->detailText = QStringLiteral("Run %1 (%2 on %3 by %4) can be taken back until %5.\nReason: %6")
                           .arg(m_window.runId, m_window.operation, m_window.target, m_window.user,
                               utcMinuteText(m_window.until), m_reason);
    return true;
}

bool PackitTrashOperation::removeKept(PackitConnection& connection, const UndoWindow& window, QString* error)
{
    const QString keptRoot = window.restore.value(QStringLiteral("keptRoot")).toString();
    const QString bundle = window.restore.value(QStringLiteral("bundle")).toString();
    const PackitTarget& target = connection.target();
    if (const QString problem
        = PackitBundle::keptPathError(target.host.outpackBase, target.instance.name, keptRoot, bundle);
        !problem.isEmpty() || window.target != target.id()) {
        *error = problem.isEmpty()
            ? QStringLiteral("run %1 kept its window on %2, not %3").arg(window.runId, window.target, target.id())
            : problem;
        return false;
    }
    for (const QString& path : { keptRoot, bundle }) {
        auto there = connection.exists(path, error);
        if (there && *there) {
            const ExecResult result = connection.runTemplate(
                QStringLiteral("removeTree"), { { QStringLiteral("path"), { path } } }, 3600000);
            there = connection.exists(path, error);
            if (there && *there)
                *error = QStringLiteral("cannot delete %1: %2").arg(path, result.describe());
        }
        if (!there || *there)
            return false;
    }
    return true;
}

bool PackitTrashOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan)
    if (!m_connection)
        m_connection = std::make_unique<PackitConnection>(m_target);
    context.begin(QStringLiteral("remove-kept"));
    QString error;
    if (!removeKept(*m_connection, m_window, &error)) {
        context.fail(error);
        context.record().summary
            = QStringLiteral("The undo window of run %1 is still open: %2. Run the trash purge again.")
                  .arg(m_window.runId, error);
        return false;
    }
    context.succeed();
    context.begin(QStringLiteral("end-window"));
    context.note(UndoWindow::kClosedKind, UndoWindows::closedData(m_window.runId, UndoWindow::State::Ended, m_reason));
    if (!context.journalError().isEmpty()) {
        context.fail(context.journalError());
        return false;
    }
    context.succeed();
    context.record().summary = QStringLiteral("The undo window of run %1 is ended: %2 and %3 are deleted (%4).")
                                   .arg(m_window.runId, m_keptRoot, m_bundle, m_reason);
    return true;
}

} // namespace opsdeck
