#include "pulumi/PulumiRestoreOperation.h"

#include "pulumi/PulumiLogging.h"
#include "pulumi/PulumiPurgeOperation.h"
#include "pulumi/PulumiPurgePlan.h"
#include "pulumi/PulumiUndoFiles.h"
#include "runbook/RunContext.h"
#include "sql/DatabaseConnection.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QRegularExpression>
#include <QSet>
#include <QSqlError>
#include <QSqlQuery>
#include <QThread>

namespace opsdeck {

namespace {

// A dropped tunnel or a restarting server: a file's transaction is tried again this many times (inserting what is
// missing, so a second try never doubles a row).
constexpr int kAttempts = 6;
constexpr int kListed = 20; // stacks named one by one in the plan

bool isStacksFile(const QString& name)
{
    return name.startsWith(QStringLiteral("stacks-"));
}

} // namespace

PulumiRestoreOperation::PulumiRestoreOperation(DatabaseTarget target, QString undoBase)
    : m_target(std::move(target))
    , m_undoBase(std::move(undoBase))
{
}

PulumiRestoreOperation::~PulumiRestoreOperation() = default;

std::unique_ptr<PulumiRestoreOperation> PulumiRestoreOperation::fromParameters(
    DatabaseTarget target, const QJsonObject& parameters, const QString& undoBase, QString* error)
{
    auto operation = std::unique_ptr<PulumiRestoreOperation>(new PulumiRestoreOperation(std::move(target), undoBase));
    PulumiRestoreOperation& op = *operation;
    op.m_restores = parameters.value(QStringLiteral("window")).toString();
    op.m_machine = parameters.value(QStringLiteral("machine")).toString();
    op.m_dir = parameters.value(QStringLiteral("dir")).toString();
    op.m_sums = UndoWindows::sumsFrom(parameters.value(QStringLiteral("files")).toObject());
    for (const QJsonValue& org : parameters.value(QStringLiteral("orgs")).toArray())
        op.m_orgs << org.toString();
    // They come from the journal, and name the folder this operation reads (and a trash purge deletes): checked.
    static const QRegularExpression fileName(
        QStringLiteral("^(stacks|programs)-[0-9a-f]{8}-[0-9]{7}-[0-9]{1,2}\\.rows\\z"));
    static const QRegularExpression sha(QStringLiteral("^[0-9a-f]{64}\\z"));
    QString problem;
    if (op.m_restores.isEmpty())
        problem = QStringLiteral("it names no run");
    else if (const QString dir = PulumiUndoFiles::dirProblem(undoBase, op.m_dir); !dir.isEmpty())
        problem = dir;
    else if (op.m_sums.isEmpty())
        problem = QStringLiteral("it names no restore file");
    else if (op.m_machine != PulumiUndoFiles::machine())
        problem = QStringLiteral("its restore files are on %1 (%2), not on this machine: restore it there")
                      .arg(op.m_machine, op.m_dir);
    for (auto it = op.m_sums.cbegin(); problem.isEmpty() && it != op.m_sums.cend(); ++it) {
        if (!fileName.match(it.key()).hasMatch() || !sha.match(it.value()).hasMatch())
            problem = QStringLiteral("it names a restore file \"%1\" (sha256 \"%2\") no purge writes")
                          .arg(it.key(), it.value());
    }
    if (!problem.isEmpty()) {
        *error = QStringLiteral("the undo window of run %1 cannot be used: %2").arg(op.m_restores, problem);
        return nullptr;
    }
    return operation;
}

std::unique_ptr<PulumiRestoreOperation> PulumiRestoreOperation::fromWindow(
    DatabaseTarget target, const UndoWindow& window, const QString& undoBase, QString* error)
{
    QJsonObject parameters = window.restore;
    parameters.insert(QStringLiteral("window"), window.runId);
    return fromParameters(std::move(target), parameters, undoBase, error);
}

std::unique_ptr<PulumiRestoreOperation> PulumiRestoreOperation::recovering(
    DatabaseTarget target, const QString& runId, const QJsonObject& parameters, const QString& undoBase, QString* error)
{
    auto operation = fromParameters(std::move(target), parameters, undoBase, error);
    if (operation)
        operation->m_recovers = runId;
    return operation;
}

bool PulumiRestoreOperation::connect(QString* error)
{
    if (!m_connection)
        m_connection = std::make_unique<DatabaseConnection>(m_target);
    return m_connection->open(error);
}

std::optional<QStringList> PulumiRestoreOperation::checkedFiles(QString* error) const
{
    const auto listed = PulumiUndoFiles::list(m_dir, error);
    if (!listed)
        return std::nullopt;
    QStringList stacks, programs;
    for (auto it = m_sums.cbegin(); it != m_sums.cend(); ++it) {
        if (!listed->sums.contains(it.key())) {
            *error = QStringLiteral("%1/%2 is gone: this window cannot be restored").arg(m_dir, it.key());
            return std::nullopt;
        }
        if (listed->sums.value(it.key()) != it.value()) {
            *error = QStringLiteral("%1/%2 has sha256 %3, the journal recorded %4: it is not what the purge wrote, so "
                                    "nothing is restored from it")
                         .arg(m_dir, it.key(), listed->sums.value(it.key()), it.value());
            return std::nullopt;
        }
        (isStacksFile(it.key()) ? stacks : programs) << it.key();
    }
    // A stack's Stacks rows before its Programs row, as the purge deleted them the other way round.
    return stacks + programs;
}

std::optional<QList<PulumiRowFile::Table>> PulumiRestoreOperation::readFile(const QString& name, QString* error) const
{
    QFile file(QDir(m_dir).filePath(name));
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(file.fileName(), file.errorString());
        return std::nullopt;
    }
    const QByteArray data = file.readAll();
    if (PulumiRowFile::sum(data) != m_sums.value(name)) {
        *error = QStringLiteral("%1 changed since it was checked").arg(file.fileName());
        return std::nullopt;
    }
    QString problem;
    auto tables = PulumiRowFile::decode(data, &problem);
    if (!tables) {
        *error = QStringLiteral("%1: %2").arg(file.fileName(), problem);
        return std::nullopt;
    }
    for (const PulumiRowFile::Table& table : *tables) {
        const PulumiRows::TableShape* shape = m_shape.find(table.name);
        const QString columns = shape ? PulumiRows::columnsProblem(*shape, table) : QString();
        if (!shape || !columns.isEmpty()) {
            *error = QStringLiteral("%1: %2; the schema changed since the purge, so nothing is restored")
                         .arg(file.fileName(),
                             shape ? columns
                                   : QStringLiteral("table %1 is no longer reached by the purge's cascades")
                                         .arg(table.name));
            return std::nullopt;
        }
    }
    return tables;
}

bool PulumiRestoreOperation::makePlan(Plan* plan, QString* error)
{
    if (!connect(error))
        return false;
    const QSqlDatabase db = m_connection->database();
    const auto keys = PulumiQueries::foreignKeys(db, error);
    const auto shape = keys ? PulumiRows::readShape(db, *keys, error) : std::nullopt;
    if (!shape)
        return false;
    if (!shape->problem.isEmpty()) {
        *error = QStringLiteral("the schema of %1 changed since the purge: %2; nothing is restored")
                     .arg(m_connection->describe(), shape->problem);
        return false;
    }
    m_shape = *shape;
    const auto files = checkedFiles(error);
    if (!files)
        return false;

    // What the files hold, what is there again, and whom the Programs rows belong to.
    QMap<QString, qint64> rows;
    qint64 stacks = 0, existing = 0;
    QSet<QString> orgIds;
    QList<QStringList> names; // org id, project, stack name of every restored Programs row
    for (const QString& name : *files) {
        const auto tables = readFile(name, error);
        if (!tables)
            return false;
        for (const PulumiRowFile::Table& table : *tables) {
            rows[table.name] += table.rows.size();
            if (table.name != QStringLiteral("Stacks") && table.name != QStringLiteral("Programs"))
                continue;
            const auto there = PulumiRows::countExisting(db, *m_shape.find(table.name), table, error);
            if (!there)
                return false;
            existing += *there;
            if (table.name != QStringLiteral("Programs"))
                continue;
            stacks += table.rows.size();
            const qsizetype org = table.columns.indexOf(QStringLiteral("org_id"));
            const qsizetype project = table.columns.indexOf(QStringLiteral("project_name"));
            const qsizetype stack = table.columns.indexOf(QStringLiteral("stack_name"));
            if (org < 0 || project < 0 || stack < 0)
                continue;
            for (const PulumiRowFile::Row& row : table.rows) {
                orgIds.insert(row[org].value_or(QString()));
                names << QStringList { row[org].value_or(QString()), row[project].value_or(QString()),
                    row[stack].value_or(QString()) };
            }
        }
    }

    // Every organisation must still be there: its Programs rows name it.
    const QStringList orgList(orgIds.cbegin(), orgIds.cend());
    QSqlQuery query(db);
    query.setForwardOnly(true);
    PulumiPurgePlan::prepareWithIds(query, QStringLiteral("SELECT id FROM Organizations WHERE id IN %1"), orgList);
    if (!orgList.isEmpty() && !query.exec()) {
        *error = query.lastError().text();
        return false;
    }
    QSet<QString> known;
    while (query.next())
        known.insert(query.value(0).toString());
    for (const QString& id : orgList) {
        if (!known.contains(id)) {
            *error = QStringLiteral("organisation %1 was deleted from %2 since the purge: its stacks cannot come back "
                                    "without it; nothing was touched")
                         .arg(id, m_connection->describe());
            return false;
        }
    }

    // Live stacks created since under a purged stack's name: kept as they are, beside the restored soft-deleted one.
    QStringList liveSameName;
    constexpr qsizetype kChunk = 300;
    for (qsizetype from = 0; from < names.size(); from += kChunk) {
        const QList<QStringList> chunk = names.mid(from, kChunk);
        QStringList tuples;
        for (qsizetype i = 0; i < chunk.size(); ++i)
            tuples << QStringLiteral("(?, ?, ?)");
        QSqlQuery live(db);
        live.setForwardOnly(true);
        live.prepare(QStringLiteral("SELECT o.github_login, p.project_name, p.stack_name FROM Programs AS p JOIN "
                                    "Organizations AS o ON o.id = p.org_id WHERE p.deleted_at = 0 AND "
                                    "(p.org_id, p.project_name, p.stack_name) IN (%1)")
                         .arg(tuples.join(QStringLiteral(", "))));
        for (const QStringList& name : chunk) {
            for (const QString& part : name)
                live.addBindValue(part);
        }
        if (!live.exec()) {
            *error = live.lastError().text();
            return false;
        }
        while (live.next())
            liveSameName << QStringLiteral("%1/%2/%3")
                                .arg(live.value(0).toString(), live.value(1).toString(), live.value(2).toString());
    }

    plan->operation = name();
    plan->target = QStringLiteral("%1 on %2").arg(m_orgs.join(QStringLiteral(", ")), m_connection->describe());
    plan->lock = QStringLiteral("pulumi:") + m_connection->describe(); // the purge's
    plan->targetName = m_orgs.join(u',');
    plan->verb = QStringLiteral("Restore");
    plan->production = m_target.database.tags.production;
    plan->readOnly = m_target.database.tags.readOnly;
    plan->irreversible = false;
    plan->parameters = { { QStringLiteral("database"), m_target.database.name },
        { QStringLiteral("window"), m_restores }, { QStringLiteral("machine"), m_machine },
        { QStringLiteral("dir"), m_dir }, { QStringLiteral("files"), UndoWindows::sumsJson(m_sums) },
        { QStringLiteral("orgs"), QJsonArray::fromStringList(m_orgs) } };
    // The runner checks, under the lock, that the window is still open, and ends it once the restore succeeded. A
    // recovery ends it itself, once it finds every row back.
    plan->parameters.insert(m_recovers.isEmpty() ? QStringLiteral("restores") : QStringLiteral("recovers"),
        m_recovers.isEmpty() ? m_restores : m_recovers);
    plan->counts << Plan::Count { QStringLiteral("stacks"), QStringLiteral("Stacks to put back (soft-deleted)"), stacks,
        QStringLiteral("The purged stacks in the run's restore files: they come back soft-deleted, as they "
                       "were before the purge.") };
    // In the order they go back, as the purge's plan counted them.
    for (const QList<PulumiRows::TableShape>* phase : { &m_shape.stacks, &m_shape.programs }) {
        for (const PulumiRows::TableShape& table : *phase) {
            if (rows.contains(table.table))
                plan->counts << Plan::Count { QStringLiteral("rows.") + table.table,
                    QStringLiteral("%1 rows").arg(table.table), rows.value(table.table),
                    QStringLiteral("Rows of %1 in the restore files, put back.").arg(table.table) };
        }
    }
    plan->counts << Plan::Count { QStringLiteral("existing"),
        QStringLiteral("Stacks and Programs rows there again (skipped)"), existing,
        QStringLiteral("Rows of the files that exist again (a restore that stopped midway, or put back by hand): "
                       "left as they are.") };
    plan->counts << Plan::Count { QStringLiteral("liveSameName"),
        QStringLiteral("Live stacks created since under a restored stack's name (kept)"), liveSameName.size(),
        QStringLiteral("The restored stack stays soft-deleted beside the live one of the same name.") };
    plan->measures << Plan::Measure { QStringLiteral("restoredRows"), QStringLiteral("Rows put back"),
        QStringLiteral("Rows of every table this run inserted from the restore files.") }
                   << Plan::Measure { QStringLiteral("existingRows"), QStringLiteral("Rows already there (skipped)"),
                          QStringLiteral("Rows of the files that were there when the run reached them.") }
                   << Plan::Measure { QStringLiteral("perTable"), QStringLiteral("Rows per table"),
                          QStringLiteral("Inserted: put back by this run; existed: already there, left as they are.") }
                   << Plan::Measure { QStringLiteral("existingKeys"),
                          QStringLiteral("Rows already there, by table and key") };
    if (existing > 0)
        plan->warnings << QStringLiteral("%1 Stacks and Programs rows of the files exist again (a restore that "
                                         "stopped midway, or rows put back by hand): they are left as they are")
                              .arg(existing);
    if (!liveSameName.isEmpty())
        plan->warnings << QStringLiteral("%1 live stacks were created since under a restored stack's name; they are "
                                         "kept as they are, and the restored ones come back soft-deleted beside "
                                         "them: %2%3")
                              .arg(liveSameName.size())
                              .arg(liveSameName.mid(0, kListed).join(QStringLiteral(", ")),
                                  liveSameName.size() > kListed ? QStringLiteral(", …") : QString());
    plan->undo.notRestorable << QStringLiteral("a restore only inserts: to take it back, purge the soft-deleted "
                                               "stacks again");
    plan->steps = {
        { QStringLiteral("check-files"),
            QStringLiteral("Check the %1 restore files in %2 against the sums the purge journaled")
                .arg(m_sums.size())
                .arg(m_dir),
            QStringLiteral("sha256 of each file, and its own trailer"), QStringLiteral("every file is as written") },
        { QStringLiteral("restore-stacks"),
            QStringLiteral("Put back the Stacks rows and every row below them, a file per transaction"),
            QStringLiteral("per file: INSERT the rows whose key is free, table by table; UPDATE Stacks SET "
                           "active_update_id = … for those inserted; COMMIT"),
            QStringLiteral("every row of the files is there") },
        { QStringLiteral("restore-programs"), QStringLiteral("Put back the Programs rows, soft-deleted as they were"),
            QStringLiteral("per file: INSERT the rows whose key is free, table by table; COMMIT"),
            QStringLiteral("every row of the files is there") },
        { QStringLiteral("verify"), QStringLiteral("Check that every row of every file is there"),
            QStringLiteral("SELECT the keys of each file's rows"), QStringLiteral("none missing") },
    };
    plan->detailText = QStringLiteral("Restores run %1's purge of %2 from %3:%4.")
                           .arg(m_restores, m_orgs.join(QStringLiteral(", ")), m_machine, m_dir);
    return true;
}

// One file, one transaction; tried again on a new connection when the connection goes.
bool PulumiRestoreOperation::restoreFile(
    const QString& name, RunContext& context, QMap<QString, PulumiRows::Inserted>* totals)
{
    QString error;
    const auto tables = readFile(name, &error);
    if (!tables) {
        context.fail(error);
        return false;
    }
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
        if (context.cancelled())
            return false;
        QMap<QString, PulumiRows::Inserted> done;
        const auto tryOnce = [&]() {
            if (!connect(&error))
                return false;
            QSqlDatabase db = m_connection->database();
            if (!db.transaction()) {
                error = db.lastError().text();
                return false;
            }
            QList<QList<qsizetype>> inserted;
            for (const PulumiRowFile::Table& table : *tables) {
                inserted << QList<qsizetype>();
                if (!PulumiRows::insertMissing(
                        db, *m_shape.find(table.name), table, &done[table.name], &inserted.last(), &error)) {
                    db.rollback();
                    return false;
                }
            }
            for (qsizetype i = 0; i < tables->size(); ++i) {
                const PulumiRows::TableShape& shape = *m_shape.find(tables->at(i).name);
                if (!shape.deferred.isEmpty()
                    && !PulumiRows::setDeferred(db, shape, tables->at(i), inserted[i], &error)) {
                    db.rollback();
                    return false;
                }
            }
            if (!db.commit()) {
                error = db.lastError().text();
                return false;
            }
            return true;
        };
        if (tryOnce()) {
            for (auto it = done.cbegin(); it != done.cend(); ++it) {
                PulumiRows::Inserted& total = (*totals)[it.key()];
                total.inserted += it->inserted;
                total.existed += it->existed;
                total.existedKeys += it->existedKeys;
            }
            return true;
        }
        qCWarning(lcPulumi) << "restoring" << name << "failed, attempt" << attempt << ":" << error;
        context.output(QStringLiteral("%1: %2; trying again on a new connection (attempt %3 of %4)\n")
                           .arg(name, error)
                           .arg(attempt)
                           .arg(kAttempts));
        m_connection.reset();
        QThread::msleep(500UL * static_cast<unsigned long>(attempt));
    }
    context.fail(QStringLiteral("%1 could not be restored: %2. The files before it are back; run the restore again to "
                                "finish (it inserts only what is missing)")
                     .arg(name, error));
    return false;
}

bool PulumiRestoreOperation::execute(const Plan& plan, RunContext& context)
{
    Q_UNUSED(plan)
    context.begin(QStringLiteral("check-files"));
    QString error;
    const auto files = checkedFiles(&error);
    if (!files) {
        context.fail(error + QStringLiteral("; nothing was touched"));
        return false;
    }
    context.succeed();

    QMap<QString, PulumiRows::Inserted> totals;
    for (const bool stacksPhase : { true, false }) {
        context.begin(stacksPhase ? QStringLiteral("restore-stacks") : QStringLiteral("restore-programs"));
        QStringList phase;
        for (const QString& name : *files) {
            if (isStacksFile(name) == stacksPhase)
                phase << name;
        }
        for (qsizetype i = 0; i < phase.size(); ++i) {
            if (context.cancelled()) {
                context.cancelStep(QStringLiteral("cancelled between files: %1 of %2 of this step are back; run the "
                                                  "restore again to finish")
                                       .arg(i)
                                       .arg(phase.size()));
                return false;
            }
            if (!restoreFile(phase[i], context, &totals)) {
                if (context.cancelled())
                    context.cancelStep(QStringLiteral("cancelled: the file in flight was rolled back"));
                return false;
            }
            context.progress(static_cast<double>(i + 1) / static_cast<double>(phase.size()));
        }
        context.succeed();
    }

    context.begin(QStringLiteral("verify"));
    qint64 missing = 0, rows = 0;
    for (const QString& name : *files) {
        const auto tables = readFile(name, &error);
        if (!tables || !connect(&error)) {
            context.fail(error);
            return false;
        }
        for (const PulumiRowFile::Table& table : *tables) {
            const auto there
                = PulumiRows::countExisting(m_connection->database(), *m_shape.find(table.name), table, &error);
            if (!there) {
                context.fail(error);
                return false;
            }
            rows += table.rows.size();
            missing += table.rows.size() - *there;
        }
    }
    if (missing > 0) {
        context.fail(
            QStringLiteral("%1 of the files' %2 rows are missing: run the restore again").arg(missing).arg(rows));
        return false;
    }
    context.succeed(QStringLiteral("all %1 rows of the files are there").arg(rows));

    qint64 inserted = 0, existed = 0;
    QJsonObject perTable;
    QStringList existedKeys;
    for (auto it = totals.cbegin(); it != totals.cend(); ++it) {
        inserted += it->inserted;
        existed += it->existed;
        perTable.insert(it.key(),
            QJsonObject { { QStringLiteral("inserted"), it->inserted }, { QStringLiteral("existed"), it->existed } });
        for (const QString& key : it->existedKeys)
            existedKeys << it.key() + u' ' + key;
    }
    context.record().after.insert(QStringLiteral("restoredRows"), inserted);
    context.record().after.insert(QStringLiteral("existingRows"), existed);
    context.record().after.insert(QStringLiteral("perTable"), perTable);
    if (!existedKeys.isEmpty())
        context.record().after.insert(QStringLiteral("existingKeys"), QJsonArray::fromStringList(existedKeys));
    context.record().summary
        = QStringLiteral("The stacks run %1 purged from %2 are back, soft-deleted as they were: %3 rows put back%4.")
              .arg(m_restores, m_orgs.join(QStringLiteral(", ")))
              .arg(inserted)
              .arg(existed ? QStringLiteral("; %1 rows whose key was taken again were left as they are").arg(existed)
                           : QString());
    if (!m_recovers.isEmpty())
        context.note(UndoWindow::kClosedKind,
            UndoWindows::closedData(m_restores, UndoWindow::State::Restored, context.record().summary));
    return true;
}

bool PulumiRestoreOperation::endsExpired(const UndoWindow& window) const
{
    return PulumiPurgeOperation::keepingOperations().contains(window.operation)
        && window.restore.value(QStringLiteral("database")).toString() == m_target.database.name;
}

bool PulumiRestoreOperation::endWindow(const UndoWindow& window, QString* error)
{
    return PulumiUndoFiles::remove(m_undoBase, window, error);
}

} // namespace opsdeck
