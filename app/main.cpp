#include "Cli.h"
#include "FocusStyle.h"
#include "MainWindow.h"
#include "Systems.h"
#include "config/InventoryLoader.h"
#include "core/SecretScrubber.h"

#include <QApplication>
#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QLoggingCategory>

#include <memory>

#include <unistd.h>

int main(int argc, char* argv[])
{
    QCoreApplication::setOrganizationName(QStringLiteral("opsdeck"));
    QCoreApplication::setApplicationName(QStringLiteral("opsdeck"));
    QCoreApplication::setApplicationVersion(QStringLiteral(OPSDECK_VERSION));
    // Log messages (and through them the system journal) never carry a secret this process resolved.
    opsdeck::SecretScrubber::installMessageHandler();

    QStringList arguments;
    for (int i = 0; i < argc; ++i)
        arguments << QString::fromLocal8Bit(argv[i]);
    // Decided before any QApplication exists: only these arguments with a display open the console; anything else,
    // a typo too, is the CLI's, which never loads a display's platform (xcb aborts the process without a display).
    if (const auto inventory = opsdeck::Cli::consoleInventory(arguments); inventory && opsdeck::Cli::hasDisplay()) {
        QApplication app(argc, argv);
        app.setStyle(new opsdeck::FocusStyle);
        opsdeck::MainWindow window(opsdeck::InventoryLoader::resolvePath(*inventory), opsdeck::systemPanes());
        window.show();
        return app.exec();
    }

    // The CLI shows no window, but rendering a PDF report needs a QGuiApplication: the offscreen platform gives one
    // without a display.
    qputenv("QT_QPA_PLATFORM", "offscreen");
    if (qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) {
        // What Qt would fall back to, without its warning on every command.
        const QByteArray runtime = "/tmp/runtime-" + QByteArray::number(getuid());
        QDir().mkpath(QString::fromLocal8Bit(runtime));
        QFile::setPermissions(QString::fromLocal8Bit(runtime), QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
        qputenv("XDG_RUNTIME_DIR", runtime);
    }
    // Progress and results go to the terminal; the modules' info and debug logs only when asked for.
    if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES"))
        QLoggingCategory::setFilterRules(QStringLiteral("opsdeck.*.info=false\nopsdeck.*.debug=false"));
    QGuiApplication app(argc, argv);
    return opsdeck::Cli::run(app.arguments(), opsdeck::systemCommands());
}
