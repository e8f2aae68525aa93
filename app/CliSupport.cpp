#include "CliSupport.h"

#include "CliHelp.h"

#include "config/InventoryLoader.h"
#include "core/SecretScrubber.h"
#include "runbook/Journal.h"
#include "runbook/OperationRunner.h"
#include "runbook/ReportWriter.h"

#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>
#include <QThread>
#include <QTimer>

#include <atomic>
#include <csignal>

namespace opsdeck::cli {

namespace {

// A standard stream that takes out every secret the process resolved before the bytes leave (the scrub rule): the
// CLI prints plans, listings, summaries and errors made of what it read (a process list quotes its statements, an
// error its command), and its output is kept in terminals' scrollback, CI logs and cron mails. QTextStream hands
// the device its buffer at each flush, or 16 KiB at a time when more is written between flushes: only a secret
// that straddles such a boundary of a long output arrives split.
class ScrubbedOutput : public QIODevice
{
public:
    explicit ScrubbedOutput(FILE* stream)
    {
        // Builds the scrubber's registry first, so that it outlives the stream over this device (statics end in
        // the reverse order of their construction), whose destructor flushes what is left through scrub().
        SecretScrubber::scrub(QByteArray());
        m_file.open(stream, QIODevice::WriteOnly | QIODevice::Unbuffered);
        open(QIODevice::WriteOnly | QIODevice::Unbuffered);
    }

protected:
    qint64 readData(char*, qint64) override { return -1; }
    qint64 writeData(const char* data, qint64 size) override
    {
        const QByteArray scrubbed = SecretScrubber::scrub(QByteArray(data, size));
        if (m_file.write(scrubbed) != scrubbed.size() || !m_file.flush())
            return -1;
        return size;
    }

private:
    QFile m_file;
};

} // namespace

QTextStream& out()
{
    static ScrubbedOutput device(stdout);
    static QTextStream stream(&device);
    return stream;
}

QTextStream& err()
{
    static ScrubbedOutput device(stderr);
    static QTextStream stream(&device);
    return stream;
}

void printJson(const QJsonValue& value)
{
    out() << (value.isArray() ? QJsonDocument(value.toArray()) : QJsonDocument(value.toObject()))
                 .toJson(QJsonDocument::Indented);
}

QString sizeText(qint64 bytes)
{
    return bytes < 0 ? QStringLiteral("?")
        : bytes == 0 ? QStringLiteral("no space")
                     : QLocale().formattedDataSize(bytes);
}

void printTable(const QStringList& headers, const QList<QStringList>& rows)
{
    QList<qsizetype> widths;
    for (qsizetype column = 0; column < headers.size(); ++column) {
        qsizetype width = headers[column].size();
        for (const QStringList& row : rows)
            width = std::max(width, row.value(column).size());
        widths << width;
    }
    auto printRow = [&](const QStringList& row) {
        QString line;
        for (qsizetype column = 0; column < headers.size(); ++column)
            line += column + 1 == headers.size() ? row.value(column)
                                                 : row.value(column).leftJustified(widths[column] + 2);
        out() << line.trimmed() << "\n";
    };
    printRow(headers);
    for (const QStringList& row : rows)
        printRow(row);
}

std::optional<JournalLocation> journalLocation(const Inventory& inventory)
{
    // Resolved once per process: a team journal's password and the chain's key are asked for (or read) once.
    // A failure too: it is printed once, not by every caller.
    static QHash<QString, std::optional<JournalLocation>> resolved;
    const QString key = inventory.file + u'\n' + inventory.journal.database;
    if (const auto found = resolved.constFind(key); found != resolved.cend())
        return *found;
    QString error;
    auto location = JournalLocation::fromInventory(inventory, &error);
    if (location && (location->isTeam() || location->isKeyed())) {
        auto [withSecrets, why]
            = awaitSecrets<std::optional<JournalLocation>>([&](CredentialStore* store, QObject* context, auto done) {
                  resolveJournalSecrets(store, *location, context, done);
              });
        location = std::move(withSecrets);
        error = why;
    }
    if (!location)
        err() << "opsdeck: cannot reach the journal: " << error << "\n";
    resolved.insert(key, location);
    return location;
}

namespace {

JournalLocation localJournalLocation(const Inventory& inventory)
{
    QString error;
    const auto location = JournalLocation::fromInventory(inventory, &error);
    return location ? *location : JournalLocation(JournalLocation::defaultPath());
}

} // namespace

QString exportsDir(const Inventory& inventory)
{
    return localJournalLocation(inventory).localDir();
}

QString undoBase(const Inventory& inventory)
{
    return localJournalLocation(inventory).undoDir();
}

std::optional<Journal> openJournal(const Inventory& inventory)
{
    const auto location = journalLocation(inventory);
    if (!location)
        return std::nullopt;
    Journal journal(*location);
    QString error;
    if (!journal.open(&error)) {
        err() << "opsdeck: cannot open the journal " << journal.describe() << ": " << error << "\n";
        return std::nullopt;
    }
    return journal;
}

void printPlan(const Plan& plan)
{
    out() << plan.verb << " " << plan.target << (plan.production ? "  [PRODUCTION]" : "")
          << (plan.readOnly ? "  [READ-ONLY: will be refused]" : "") << "\n\n";
    for (const Plan::Count& count : plan.counts)
        out() << "  " << QString::number(count.value).rightJustified(12) << "  " << count.label << "\n";
    out() << "\nSteps:\n";
    int number = 1;
    for (const Plan::Step& step : plan.steps)
        out() << "  " << number++ << ". " << step.title << "\n       " << step.command << "\n";
    if (!plan.detailText.isEmpty())
        out() << "\n" << plan.detailText << "\n";
    if (!plan.warnings.isEmpty()) {
        out() << "\nNote:\n";
        for (const QString& warning : plan.warnings)
            out() << "  - " << warning << "\n";
    }
    out() << "\n";
    if (plan.undo.available) {
        out() << "Can be undone until " << utcMinuteText(plan.undo.until)
              << " with opsdeck restore RUN_ID (the run prints its id)"
              << (plan.undo.bytesHeld > 0
                         ? QStringLiteral("; keeps %1 at %2").arg(plan.undo.bytesHeldText(QLocale()), plan.undo.where)
                         : QString())
              << ". To keep no undo window: --no-undo --reason TEXT.\n";
        for (const QString& item : plan.undo.restorable)
            out() << "  restorable: " << item << "\n";
    } else if (plan.irreversible) {
        out() << "This cannot be undone.\n";
    }
    for (const QString& item : plan.undo.notRestorable)
        out() << "  cannot be undone: " << item << "\n";
    for (const QString& item : plan.undo.endsWindows)
        out() << "  ends the undo window of " << item << "\n";
    out() << "To run it: --confirm " << plan.targetName << "\n";
}

QList<CliOption> undoOptions()
{
    return { CliOption::flag(
                 QStringLiteral("no-undo"), QStringLiteral("Keep no undo window for this run (needs --reason).")),
        CliOption::optional(QStringLiteral("reason"), QStringLiteral("TEXT"),
            QStringLiteral("Why the undo window is turned off; journaled.")) };
}

CliOption jsonOption(const QString& help)
{
    return CliOption::flag(QStringLiteral("json"), help);
}

CliOption reportOption()
{
    return CliOption::optional(QStringLiteral("report"), QStringLiteral("FILE"),
        QStringLiteral("Write the report to FILE: CSV, HTML or PDF by its extension, else JSON."));
}

std::optional<QString> resolveRunId(const QString& given, const QList<RunChoice>& runs, const QString& noneError)
{
    QList<RunChoice> matches;
    for (const RunChoice& run : runs) {
        if (run.id == given)
            return run.id; // a whole id, even if it is also the start of another
        if (!given.isEmpty() && run.id.startsWith(given))
            matches << run;
    }
    if (matches.size() == 1)
        return matches.first().id;
    if (matches.isEmpty()) {
        err() << noneError << "\n";
        return std::nullopt;
    }
    QStringList listed;
    for (const RunChoice& run : std::as_const(matches))
        listed << run.id + QStringLiteral(" (") + run.label + u')';
    err() << "opsdeck: run id \"" << given << "\" is ambiguous: it begins " << matches.size()
          << " runs: " << listed.join(QStringLiteral(", ")) << "; give more of it\n";
    return std::nullopt;
}

std::optional<UndoChoice> undoChoice(const Invocation& call)
{
    const bool off = call.isSet(QStringLiteral("no-undo"));
    const QString reason = call.value(QStringLiteral("reason")).trimmed();
    if (off && reason.isEmpty()) {
        err() << "opsdeck: --no-undo needs --reason TEXT: the journal keeps who turned the undo window off and why\n";
        return std::nullopt;
    }
    if (!off && call.isSet(QStringLiteral("reason"))) {
        err() << "opsdeck: --reason goes with --no-undo: it says why the undo window is turned off\n";
        return std::nullopt;
    }
    if (const QString problem = off ? reasonError(reason, QStringLiteral("the undo window is turned off")) : QString();
        !problem.isEmpty()) {
        err() << "opsdeck: --" << problem << "\n";
        return std::nullopt;
    }
    return UndoChoice { off, reason };
}

int UndoWindowCall::planOrRun(std::unique_ptr<Operation> operation) const
{
    int exitCode = Cli::Success;
    if (planOnly) {
        planOperation(std::move(operation), inventory, json, &exitCode);
        return exitCode;
    }
    return runOperation(std::move(operation), inventory, confirmation, reportPath, {}, undo);
}

QStringList RecoverCall::parameterList(const QString& name) const
{
    QStringList list;
    for (const QJsonValue& item : run.parameters.value(name).toArray())
        list << item.toString();
    return list;
}

QMap<QString, std::function<int(const RecoverCall&)>> recoverers(
    const QStringList& operations, const RecoveryResolver& resolve)
{
    QMap<QString, std::function<int(const RecoverCall&)>> table;
    for (const QString& operation : operations) {
        table.insert(operation, [resolve](const RecoverCall& call) {
            auto [recovery, why]
                = awaitSecrets<std::unique_ptr<Operation>>([&](CredentialStore* store, QObject* context, auto done) {
                      resolve(store, call.inventory, call.run, context, done);
                  });
            if (!recovery) {
                err() << "opsdeck: cannot recover run " << call.run.runId << ": " << why << "; nothing was touched\n";
                return int(Cli::Failure);
            }
            return runOperation(
                std::move(recovery), call.inventory, call.confirmation, call.reportPath, call.run.runId);
        });
    }
    return table;
}

Invocation::Invocation(const QStringList& arguments, const CliCommand& command)
    : m_arguments(arguments)
    , m_command(command)
{
    m_parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    for (const CliOption& option : command.options + commonOptions())
        m_parser.addOption(QCommandLineOption(option.name, option.help, option.valueName));
    m_parser.addOption(
        QCommandLineOption({ QStringLiteral("h"), QStringLiteral("help") }, QStringLiteral("Show this help.")));
}

int Invocation::usageError(const QString& problem) const
{
    err() << "opsdeck: " << m_command.name() << ": " << problem << "; " << helpPointer(m_command) << "\n";
    return Cli::Usage;
}

std::optional<int> Invocation::parse()
{
    if (!m_parser.parse(m_arguments)) {
        // Qt's sentences ("Unknown option 'hots'.") without their full stop: the line goes on.
        QString problem = m_parser.errorText().trimmed().replace(u'\n', QStringLiteral("; "));
        if (problem.endsWith(u'.'))
            problem.chop(1);
        return usageError(problem);
    }
    if (m_parser.isSet(QStringLiteral("help"))) {
        out() << commandHelp(m_command);
        return Cli::Success;
    }
    // The words that name the subcommand (after the program) are positional too.
    const QStringList positional = m_parser.positionalArguments();
    const qsizetype words = m_command.words.size();
    if (positional.size() > words + m_command.arguments.size())
        return usageError(
            QStringLiteral("unexpected argument \"%1\"").arg(positional.at(words + m_command.arguments.size())));
    for (qsizetype i = positional.size() - words; i < m_command.arguments.size(); ++i) {
        if (!m_command.arguments.at(i).startsWith(u'['))
            return usageError(QStringLiteral("missing ") + m_command.arguments.at(i));
    }
    for (const CliOption& option : m_command.options) {
        // An empty value counts as missing: "--context ''" names no context.
        if (option.need == CliOption::Need::Required && value(option.name).isEmpty())
            return usageError(
                QStringLiteral("%1 is required (%1 %2: %3)").arg(option.dashed(), option.valueName, option.help));
    }
    return std::nullopt;
}

std::optional<Inventory> Invocation::inventory() const
{
    if (m_inventory)
        return *m_inventory;
    InventoryLoadResult result
        = InventoryLoader::loadFile(InventoryLoader::resolvePath(value(QStringLiteral("inventory"))));
    for (const InventoryError& error : result.errors)
        err() << error.toString() << "\n";
    m_inventory = result.ok() ? result.inventory : std::nullopt;
    if (result.ok()) {
        startUnfinishedNotice(*result.inventory);
        if (!m_noticeLater)
            awaitUnfinishedNotice();
    }
    return *m_inventory;
}

namespace {
// The notice's reader, between startUnfinishedNotice and awaitUnfinishedNotice; its lines once it ended.
std::unique_ptr<QThread> g_noticeReader;
QStringList g_noticeLines;
bool g_noticeShown = false;
} // namespace

void startUnfinishedNotice(const Inventory& inventory)
{
    if (g_noticeReader)
        return;
    const auto location = journalLocation(inventory); // on this thread: it may prompt for the journal's secrets
    if (!location)
        return;
    g_noticeReader.reset(QThread::create([location = *location] {
        Journal journal(location);
        QString error;
        if ((!location.isTeam() && !QFileInfo::exists(location.path)) || !journal.open(&error))
            return; // the command that needs the journal says why it cannot open it
        for (const Journal::UnfinishedRun& run : journal.unfinishedRuns(&error))
            g_noticeLines << QStringLiteral("opsdeck: run %1 (%2, started %3%4) has no outcome and its console "
                                            "is gone: recover it with opsdeck recover %1 --confirm %5")
                                 .arg(run.runId, RunRecord::runName(run.operation, run.target),
                                     run.startedAt.toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm:ss")),
                                     run.lastStep.isEmpty() ? QString() : QStringLiteral(", last step ") + run.lastStep,
                                     run.confirmWith);
    }));
    g_noticeReader->start();
}

void awaitUnfinishedNotice()
{
    if (!g_noticeReader || g_noticeShown)
        return;
    g_noticeReader->wait();
    g_noticeShown = true;
    for (const QString& line : std::as_const(g_noticeLines))
        err() << line << "\n";
    err().flush();
}

namespace {

// Plans on the runner's thread and waits for it.
std::optional<Plan> plan(OperationRunner& runner, QString* error)
{
    std::optional<Plan> result;
    QEventLoop loop;
    QObject::connect(&runner, &OperationRunner::planned, &loop, [&](const Plan& plan) {
        result = plan;
        loop.quit();
    });
    QObject::connect(&runner, &OperationRunner::planFailed, &loop, [&](const QString& why) {
        *error = why;
        loop.quit();
    });
    runner.plan();
    loop.exec();
    return result;
}

std::atomic_bool g_interrupted = false;

} // namespace

std::optional<Plan> planOperation(
    std::unique_ptr<Operation> operation, const Inventory& inventory, bool json, int* exitCode)
{
    const QString name = operation->name();
    const auto journal = journalLocation(inventory);
    if (!journal) {
        *exitCode = Cli::Failure;
        return std::nullopt;
    }
    OperationRunner runner(std::move(operation), *journal);
    QString error;
    const auto result = plan(runner, &error);
    awaitUnfinishedNotice();
    if (!result) {
        err() << "opsdeck: planning " << name << " failed: " << error << "; nothing was changed\n";
        *exitCode = Cli::Failure;
        return std::nullopt;
    }
    if (json)
        printJson(result->toJson());
    else
        printPlan(*result);
    return result;
}

int runOperation(std::unique_ptr<Operation> operation,
    const Inventory& inventory,
    const QString& confirmation,
    const QString& reportPath,
    const QString& recovers,
    const UndoChoice& undo)
{
    const QString name = operation->name();
    const auto journal = journalLocation(inventory);
    if (!journal) {
        err() << "opsdeck: " << name << " was not started: a run is journaled before it changes anything\n";
        return Cli::Failure;
    }
    OperationRunner runner(std::move(operation), *journal);
    QString error;
    auto planned = plan(runner, &error);
    awaitUnfinishedNotice(); // before the plan's outcome and the run, which may be one of those it names
    if (!planned) {
        err() << "opsdeck: planning " << name << " failed: " << error << "; nothing was changed\n";
        return Cli::Failure;
    }
    if (!recovers.isEmpty())
        planned->parameters.insert(QStringLiteral("recovers"), recovers);
    if (undo.off) {
        planned->undo.enabled = false;
        planned->undo.offReason = undo.reason;
    }
    int exitCode = Cli::Success;
    // Ctrl-C cancels: the run stops between steps, interrupts what is in flight and recovers. So do SIGTERM (a
    // shutdown, `kill`) and SIGHUP (the terminal or SSH session closed): stopping dead could leave units stopped.
    g_interrupted = false;
    const auto interrupted = [](int) { g_interrupted = true; };
    auto previousInt = std::signal(SIGINT, interrupted);
    auto previousTerm = std::signal(SIGTERM, interrupted);
    auto previousHup = std::signal(SIGHUP, interrupted);
    QTimer interruptWatch;
    QObject::connect(&interruptWatch, &QTimer::timeout, &runner, [&runner] {
        if (g_interrupted.exchange(false)) {
            err() << "opsdeck: cancelling…\n";
            err().flush();
            runner.cancel();
        }
    });
    interruptWatch.start(100);

    std::optional<RunRecord> record;
    QEventLoop loop;
    QObject::connect(
        &runner, &OperationRunner::refused, &loop, [&](OperationRunner::Refusal why, const QString& message) {
            err() << "opsdeck: refused: " << message << "\n";
            exitCode = why == OperationRunner::Refusal::Journal ? Cli::Failure : Cli::Refused;
            loop.quit();
        });
    QObject::connect(&runner, &OperationRunner::progressed, &loop,
        [shown = QHash<QString, QString>()](const StepRecord& step, double fraction, qint64 eta) mutable {
            // A running step streams its output (batches, a command's log): show the complete lines that are new,
            // those after the last line shown. The step keeps only its last 64 KiB, so offsets would not do.
            if (step.state == StepRecord::State::Running) {
                const qsizetype end = step.output.lastIndexOf(u'\n') + 1;
                const QString last = shown.value(step.id);
                const qsizetype at = last.isEmpty() ? -1 : step.output.lastIndexOf(last + u'\n', end - 1);
                const qsizetype from = last.isEmpty() ? 0
                    : at >= 0                         ? at + last.size() + 1
                                                      : step.output.lastIndexOf(u'\n', end - 2) + 1;
                const QStringList lines = step.output.mid(from, end - from).split(u'\n', Qt::SkipEmptyParts);
                for (const QString& line : lines)
                    err() << "      " << line << "\n";
                err().flush();
                if (!lines.isEmpty())
                    shown.insert(step.id, lines.last());
                return;
            }
            err() << QStringLiteral("[%1%] %2: %3%4\n")
                         .arg(int(fraction * 100), 3)
                         .arg(step.title, StepRecord::stateName(step.state),
                             eta >= 0 ? QStringLiteral(" (about %1 s left)").arg(eta) : QString());
            err().flush();
        });
    QObject::connect(&runner, &OperationRunner::finished, &loop, [&](const RunRecord& finished) {
        record = finished;
        loop.quit();
    });
    runner.run(*planned, confirmation);
    loop.exec();
    std::signal(SIGINT, previousInt);
    std::signal(SIGTERM, previousTerm);
    std::signal(SIGHUP, previousHup);
    if (!record)
        return exitCode;
    if (!reportPath.isEmpty()) {
        const auto format
            = ReportWriter::formatFromName(QFileInfo(reportPath).suffix()).value_or(ReportWriter::Format::Json);
        if (!ReportWriter::write(*record, format, reportPath, &error))
            err() << "opsdeck: " << error << "\n";
    }
    out() << record->summary << "\n";
    if (record->undo.available)
        out() << record->undoSummary() << "\n";
    out() << "run " << record->id << ": " << RunRecord::outcomeName(record->outcome) << "\n";
    return record->outcome == RunRecord::Outcome::Succeeded ? Cli::Success : Cli::Failure;
}

QString planSummary(const QString& operation)
{
    return QStringLiteral("print what run %1 would do, from the target's live state; changes nothing").arg(operation);
}

QList<CliCommand> planAndRunCommands(const QString& operation,
    const QString& summary,
    const QList<CliOption>& options,
    const QString& confirmWhat,
    const OperationMaker& make)
{
    const auto plan = [make](Invocation& call) {
        call.noticeLater();
        int exitCode = Cli::Success;
        auto made = make(call, &exitCode);
        if (!made)
            return exitCode;
        planOperation(std::move(made), *call.inventory(), call.isSet(QStringLiteral("json")), &exitCode);
        return exitCode;
    };
    const auto run = [make, confirmWhat](Invocation& call) {
        const auto undo = undoChoice(call);
        if (!undo)
            return int(Cli::Usage);
        if (!call.isSet(QStringLiteral("confirm"))) {
            err() << "opsdeck: --confirm is required: type " << confirmWhat << " to confirm\n";
            return int(Cli::Refused);
        }
        call.noticeLater();
        int exitCode = Cli::Success;
        auto made = make(call, &exitCode);
        if (!made)
            return exitCode;
        return runOperation(std::move(made), *call.inventory(), call.value(QStringLiteral("confirm")),
            call.value(QStringLiteral("report")), {}, *undo);
    };
    QString confirmHelp = confirmWhat + QStringLiteral(", typed to confirm.");
    confirmHelp[0] = confirmHelp[0].toUpper();
    return {
        { { QStringLiteral("plan"), operation }, {}, planSummary(operation),
            options + QList { jsonOption(QStringLiteral("Print the plan as JSON.")) }, plan },
        { { QStringLiteral("run"), operation }, {}, summary,
            options
                + QList { CliOption::checked(QStringLiteral("confirm"), QStringLiteral("NAME"), confirmHelp),
                    reportOption() }
                + undoOptions(),
            run },
    };
}

} // namespace opsdeck::cli
