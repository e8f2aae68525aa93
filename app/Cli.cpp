#include "Cli.h"

#include "config/InventoryLoader.h"
#include "core/Logging.h"
#include "secrets/CredentialStore.h"
#include "secrets/TerminalPrompter.h"
#include "ssh/HostProber.h"
#include "ssh/SshConnectionPool.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QEventLoop>
#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTextStream>

#include <cstdio>

namespace opsdeck {

namespace {

QTextStream& out()
{
    static QTextStream stream(stdout);
    return stream;
}

QTextStream& err()
{
    static QTextStream stream(stderr);
    return stream;
}

const QStringList kSubcommands = { QStringLiteral("check"), QStringLiteral("hosts") };

QString usageText()
{
    return QStringLiteral("usage: opsdeck [--inventory FILE]            open the console\n"
                          "       opsdeck check [--inventory FILE]      validate the inventory\n"
                          "       opsdeck hosts [--inventory FILE] [--json] [--accept-host-key SHA256:...]\n"
                          "                                             connect to every host and report\n");
}

QCommandLineOption inventoryOption()
{
    return { QStringLiteral("inventory"),
        QStringLiteral("Inventory file (default: $OPSDECK_INVENTORY, else ~/.config/opsdeck/inventory.yaml)."),
        QStringLiteral("FILE") };
}

// Parses the subcommand's options. Returns an exit code when the command is done (usage error or --help),
// std::nullopt when it should go on.
std::optional<int> parse(QCommandLineParser& parser, const QStringList& arguments)
{
    parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    const QCommandLineOption help = parser.addHelpOption();
    if (!parser.parse(arguments)) {
        err() << "opsdeck: " << parser.errorText() << "\n" << usageText();
        return Cli::Usage;
    }
    if (parser.isSet(help)) {
        out() << usageText() << "\n" << parser.helpText();
        return Cli::Success;
    }
    if (!parser.positionalArguments().isEmpty()) {
        err() << "opsdeck: unexpected argument \"" << parser.positionalArguments().first() << "\"\n" << usageText();
        return Cli::Usage;
    }
    return std::nullopt;
}

std::optional<Inventory> loadInventory(const QCommandLineParser& parser, int* exitCode)
{
    const QString path = InventoryLoader::resolvePath(parser.value(QStringLiteral("inventory")));
    InventoryLoadResult result = InventoryLoader::loadFile(path);
    for (const InventoryError& error : result.errors)
        err() << error.toString() << "\n";
    if (!result.ok()) {
        *exitCode = Cli::Usage;
        return std::nullopt;
    }
    return result.inventory;
}

int runCheck(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.addOption(inventoryOption());
    if (const auto done = parse(parser, arguments))
        return *done;
    int exitCode = Cli::Success;
    const auto inventory = loadInventory(parser, &exitCode);
    if (!inventory)
        return exitCode;
    out() << inventory->file << ": ok (" << inventory->hosts.size() << " hosts, " << inventory->databases.size()
          << " databases, " << inventory->clusters.size() << " clusters, " << inventory->datamon.size()
          << " datamon contexts, " << inventory->machines.size() << " machines)\n";
    return Cli::Success;
}

void printHostTable(const QList<HostStatus>& statuses)
{
    const QStringList headers = { QStringLiteral("NAME"), QStringLiteral("ADDRESS"), QStringLiteral("REACHABLE"),
        QStringLiteral("HOST KEY"), QStringLiteral("AUTH"), QStringLiteral("ERROR") };
    QList<QStringList> rows;
    for (const HostStatus& status : statuses) {
        rows << QStringList { status.name, QStringLiteral("%1:%2").arg(status.address).arg(status.port),
            status.reachable() ? QStringLiteral("yes") : QStringLiteral("no"),
            status.hostKey.sha256.isEmpty() ? QStringLiteral("-") : status.hostKey.sha256, status.auth,
            status.error.isError() ? status.error.message : QString() };
    }
    QList<qsizetype> widths;
    for (qsizetype column = 0; column < headers.size(); ++column) {
        qsizetype width = headers[column].size();
        for (const QStringList& row : rows)
            width = std::max(width, row[column].size());
        widths << width;
    }
    auto printRow = [&](const QStringList& row) {
        QString line;
        for (qsizetype column = 0; column < row.size(); ++column)
            line += column + 1 == row.size() ? row[column] : row[column].leftJustified(widths[column] + 2);
        out() << line.trimmed() << "\n";
    };
    printRow(headers);
    for (const QStringList& row : rows)
        printRow(row);
}

int runHosts(const QStringList& arguments)
{
    QCommandLineParser parser;
    parser.addOption(inventoryOption());
    const QCommandLineOption jsonOption(QStringLiteral("json"), QStringLiteral("Print a JSON array."));
    const QCommandLineOption acceptOption(QStringLiteral("accept-host-key"),
        QStringLiteral("Trust an unknown host presenting exactly this key, and "
                       "write it to known_hosts."),
        QStringLiteral("SHA256:..."));
    parser.addOption(jsonOption);
    parser.addOption(acceptOption);
    if (const auto done = parse(parser, arguments))
        return *done;
    const QString accepted = parser.value(acceptOption);
    static const QRegularExpression fingerprintPattern(QStringLiteral("^SHA256:[A-Za-z0-9+/]{43}$"));
    if (!accepted.isEmpty() && !fingerprintPattern.match(accepted).hasMatch()) {
        err()
            << "opsdeck: --accept-host-key: \"" << accepted
            << "\" is not a SHA-256 fingerprint; expected SHA256: followed by 43 base64 characters, as ssh-keygen -lf "
               "prints it\n";
        return Cli::Usage;
    }
    int exitCode = Cli::Success;
    const auto inventory = loadInventory(parser, &exitCode);
    if (!inventory)
        return exitCode;

    CredentialStore credentials;
    TerminalPrompter prompter;
    credentials.setPrompter(&prompter);
    SshConnectionPool pool(*inventory, &credentials);
    if (!accepted.isEmpty())
        pool.acceptHostKey(accepted);
    HostProber prober(*inventory, &pool);
    QMap<QString, HostStatus> statuses;
    QObject::connect(&prober, &HostProber::statusChanged,
        [&statuses](const HostStatus& status) { statuses.insert(status.name, status); });
    QEventLoop loop;
    QObject::connect(&prober, &HostProber::finished, &loop, &QEventLoop::quit);
    prober.probeAll();
    if (prober.pending() > 0)
        loop.exec();

    QList<HostStatus> ordered;
    for (const Host& host : inventory->hosts)
        ordered << statuses.value(host.name);
    if (parser.isSet(jsonOption)) {
        QJsonArray array;
        for (const HostStatus& status : ordered)
            array.append(status.toJson());
        out() << QJsonDocument(array).toJson(QJsonDocument::Indented);
    } else {
        printHostTable(ordered);
    }
    return Cli::Success; // unreachable hosts are reported, not a failure of the command
}

} // namespace

bool Cli::isSubcommand(const QString& argument)
{
    // Help and version must work without a display, so they never reach the GUI's QApplication.
    static const QStringList headless
        = { QStringLiteral("help"), QStringLiteral("--help"), QStringLiteral("-h"), QStringLiteral("--version") };
    return kSubcommands.contains(argument) || headless.contains(argument);
}

int Cli::run(const QStringList& arguments)
{
    const QString subcommand = arguments.value(1);
    QStringList rest = arguments.mid(1); // the parser treats the subcommand as argv[0]
    int code = Usage;
    if (subcommand == QStringLiteral("check"))
        code = runCheck(rest);
    else if (subcommand == QStringLiteral("hosts"))
        code = runHosts(rest);
    else if (subcommand == QStringLiteral("--version")) {
        out() << QCoreApplication::applicationName() << " " << QCoreApplication::applicationVersion() << "\n";
        code = Success;
    } else if (subcommand == QStringLiteral("help") || subcommand == QStringLiteral("--help")
        || subcommand == QStringLiteral("-h")) {
        out() << usageText();
        code = Success;
    } else
        err() << "opsdeck: unknown subcommand \"" << subcommand << "\"\n" << usageText();
    out().flush();
    err().flush();
    return code;
}

} // namespace opsdeck
