#pragma once

#include <QStringList>

namespace opsdeck {

// The headless front: `opsdeck <subcommand> ...`. It drives the same services as the GUI.
// Exit codes for every subcommand: 0 success, 1 failure, 2 invalid input or usage, 3 refused by a safety rule.
class Cli
{
public:
    enum Exit
    {
        Success = 0,
        Failure = 1,
        Usage = 2,
        Refused = 3
    };

    static bool isSubcommand(const QString& argument);
    // Runs inside an existing QCoreApplication; arguments[0] is the program name.
    static int run(const QStringList& arguments);
};

} // namespace opsdeck
