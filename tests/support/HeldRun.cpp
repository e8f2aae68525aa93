#include "HeldRun.h"

#include <QFile>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTest>

namespace opsdeck::test {

bool startHeldAtStep(
    QProcess* cli, const QProcessEnvironment& environment, const QStringList& arguments, const HeldStep& held)
{
    QFile hold(held.holdFile);
    if (!hold.open(QIODevice::WriteOnly))
        return false;
    hold.close();
    QSqlDatabase journal = QSqlDatabase::database(QStringLiteral("journal"), false);
    if (!journal.isValid()) {
        journal = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), QStringLiteral("journal"));
        journal.setDatabaseName(held.journalPath);
        journal.setConnectOptions(QStringLiteral("QSQLITE_BUSY_TIMEOUT=5000"));
    }
    if (!journal.open())
        return false;
    // A fresh sandbox's journal has no entries table until the first run creates it.
    QSqlQuery last(journal);
    const qint64 from = last.exec(QStringLiteral("SELECT coalesce(max(seq), 0) FROM entries")) && last.next()
        ? last.value(0).toLongLong()
        : 0;
    last.finish(); // an open statement would keep this connection on its snapshot of the journal
    QProcessEnvironment holding = environment;
    holding.insert(QStringLiteral("OPSDECK_HOLD_AT_STEP"), held.step);
    holding.insert(QStringLiteral("OPSDECK_HOLD_WHILE"), held.holdFile);
    cli->setProcessEnvironment(holding);
    cli->start(QStringLiteral(OPSDECK_BINARY), arguments);
    const QString sql = QStringLiteral("SELECT count(*) FROM entries WHERE seq > ? AND kind = 'step-start' "
                                       "AND target = ? %1AND data LIKE ?")
                            .arg(held.operation.isEmpty() ? QString() : QStringLiteral("AND operation = ? "));
    return QTest::qWaitFor(
               [&] {
                   if (cli->state() == QProcess::NotRunning)
                       return true;
                   QSqlQuery started(journal);
                   started.prepare(sql);
                   started.addBindValue(from);
                   started.addBindValue(held.target);
                   if (!held.operation.isEmpty())
                       started.addBindValue(held.operation);
                   started.addBindValue(QStringLiteral("%\"step\":\"%1\"%").arg(held.step));
                   if (!started.exec())
                       qWarning("cannot read the journal: %s", qPrintable(started.lastError().text()));
                   return started.next() && started.value(0).toInt() > 0;
               },
               held.timeoutMs)
        && cli->state() != QProcess::NotRunning;
}

} // namespace opsdeck::test
