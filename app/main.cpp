#include "Cli.h"
#include "MainWindow.h"
#include "config/InventoryLoader.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QCoreApplication>

#include <memory>

int main(int argc, char* argv[])
{
    QCoreApplication::setOrganizationName(QStringLiteral("opsdeck"));
    QCoreApplication::setApplicationName(QStringLiteral("opsdeck"));
    QCoreApplication::setApplicationVersion(QStringLiteral(OPSDECK_VERSION));

    if (argc > 1 && opsdeck::Cli::isSubcommand(QString::fromLocal8Bit(argv[1]))) {
        QCoreApplication app(argc, argv);
        return opsdeck::Cli::run(app.arguments());
    }

    QApplication app(argc, argv);
    QCommandLineParser parser;
    // --help and --version were handled by the CLI above.
    const QCommandLineOption inventory(
        QStringLiteral("inventory"), QStringLiteral("Inventory file."), QStringLiteral("FILE"));
    parser.addOption(inventory);
    parser.process(app);
    if (!parser.positionalArguments().isEmpty()) {
        qCritical(
            "opsdeck: unknown subcommand \"%s\"; run opsdeck help", qPrintable(parser.positionalArguments().first()));
        return opsdeck::Cli::Usage;
    }
    opsdeck::MainWindow window(opsdeck::InventoryLoader::resolvePath(parser.value(inventory)));
    window.show();
    return app.exec();
}
