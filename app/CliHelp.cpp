#include "CliHelp.h"

#include <QMap>

#include <functional>

namespace opsdeck::cli {

namespace {

constexpr qsizetype kWidth = 118; // the usage's lines, as the hand-written usage had them
constexpr qsizetype kSummaryColumn = 56; // where a listing's summaries start
constexpr QLatin1StringView kIndent("       "); // under "usage: "

// `units` joined by spaces into lines of at most `width` characters, a unit never split (one longer than the width
// stands alone).
QStringList wrapped(const QStringList& units, qsizetype width)
{
    QStringList lines;
    QString line;
    for (const QString& unit : units) {
        if (!line.isEmpty() && line.size() + 1 + unit.size() > width) {
            lines << line;
            line.clear();
        }
        line += (line.isEmpty() ? QString() : QStringLiteral(" ")) + unit;
    }
    if (!line.isEmpty())
        lines << line;
    return lines;
}

QStringList wrappedText(const QString& text, qsizetype width)
{
    return wrapped(text.split(u' ', Qt::SkipEmptyParts), width);
}

// The synopsis's pieces, each kept on one line: the words, the arguments, and each option ("--host HOST",
// "[--json]", "[--input NAME=VALUE]..."); `bold` and `italic` mark up the literal and the replaceable parts.
QStringList synopsisUnits(const CliCommand& command,
    const std::function<QString(const QString&)>& bold,
    const std::function<QString(const QString&)>& italic)
{
    QStringList units;
    for (const QString& word : command.words)
        units << bold(word);
    for (const QString& argument : command.arguments)
        units << (argument.startsWith(u'[') ? u'[' + italic(argument.mid(1, argument.size() - 2)) + u']'
                                            : italic(argument));
    for (const CliOption& option : command.options) {
        QString unit = bold(option.dashed());
        if (option.takesValue())
            unit += u' ' + italic(option.valueName);
        if (option.need == CliOption::Need::Optional)
            unit = u'[' + unit + u']';
        if (option.repeatable)
            unit += QStringLiteral("...");
        units << unit;
    }
    return units;
}

QString plain(const QString& text)
{
    return text;
}

// The synopsis's lines, starting "opsdeck ", at most `width` wide: the words stay on the first line, and what does not
// fit goes on lines under the first argument or option.
QStringList synopsisLines(const CliCommand& command, qsizetype width)
{
    const QString head = QStringLiteral("opsdeck ") + command.name() + u' ';
    QStringList lines = wrapped(synopsisUnits(command, plain, plain).mid(command.words.size()), width - head.size());
    if (lines.isEmpty())
        return { head.trimmed() };
    for (qsizetype i = 0; i < lines.size(); ++i)
        lines[i].prepend(i == 0 ? head : QString(head.size(), u' '));
    return lines;
}

// "--host HOST" as the options' column shows it.
QString optionLabel(const CliOption& option)
{
    return option.dashed() + (option.takesValue() ? u' ' + option.valueName : QString());
}

QString optionHelp(const CliOption& option)
{
    QString help = option.help;
    if (option.need == CliOption::Need::Required)
        help += QStringLiteral(" Required.");
    if (option.repeatable)
        help += QStringLiteral(" Repeatable.");
    return help;
}

// What the console needs, for the first line of the usage and the man page.
const QString kConsoleSummary = QStringLiteral("open the console (needs a display: a graphical session or ssh -X)");
const QString kExitCodes
    = QStringLiteral("Exit codes: 0 success, 1 failure, 2 invalid input or usage, 3 refused by a safety rule.");

QString roff(const QString& text)
{
    QString escaped = text;
    escaped.replace(u'\\', QStringLiteral("\\e"));
    escaped.replace(u'-', QStringLiteral("\\-"));
    // A line that starts with a dot or an apostrophe would be read as a request.
    if (escaped.startsWith(u'.') || escaped.startsWith(u'\''))
        escaped.prepend(QStringLiteral("\\&"));
    return escaped;
}

QString roffBold(const QString& text)
{
    return QStringLiteral("\\fB") + roff(text) + QStringLiteral("\\fR");
}

QString roffItalic(const QString& text)
{
    return QStringLiteral("\\fI") + roff(text) + QStringLiteral("\\fR");
}

// Prose as roff lines: each line of `text` escaped on its own.
QString roffText(const QString& text)
{
    QStringList lines;
    for (const QString& line : text.split(u'\n'))
        lines << roff(line);
    return lines.join(u'\n') + u'\n';
}

} // namespace

QList<CliOption> commonOptions()
{
    return { CliOption::optional(QStringLiteral("inventory"), QStringLiteral("FILE"),
        QStringLiteral("The inventory (default $OPSDECK_INVENTORY, else ~/.config/opsdeck/inventory.yaml).")) };
}

QString synopsis(const CliCommand& command)
{
    return synopsisUnits(command, plain, plain).join(u' ');
}

QString helpPointer(const CliCommand& command)
{
    return QStringLiteral("see opsdeck %1 --help").arg(command.name());
}

QString commandListing(const QList<CliCommand>& commands)
{
    QString text;
    for (const CliCommand& command : commands) {
        QStringList lines = synopsisLines(command, kWidth - kIndent.size());
        for (QString& line : lines)
            line.prepend(kIndent);
        const QStringList summary = wrappedText(command.summary, kWidth - kSummaryColumn);
        qsizetype first = 0;
        if (lines.last().size() + 2 <= kSummaryColumn && !summary.isEmpty())
            lines.last() = lines.last().leftJustified(kSummaryColumn) + summary.at(first++);
        for (qsizetype i = first; i < summary.size(); ++i)
            lines << QString(kSummaryColumn, u' ') + summary.at(i);
        text += lines.join(u'\n') + u'\n';
    }
    return text;
}

QString usageText(const QList<CliCommand>& commands)
{
    return QStringLiteral("usage: opsdeck [--inventory FILE]").leftJustified(kSummaryColumn) + kConsoleSummary + u'\n'
        + commandListing(commands)
        + QStringLiteral("Every subcommand takes --inventory FILE (default $OPSDECK_INVENTORY, else "
                         "~/.config/opsdeck/inventory.yaml) and --help (its own options).\n")
        + kExitCodes + u'\n';
}

QString commandHelp(const CliCommand& command)
{
    QStringList lines = synopsisLines(command, kWidth - kIndent.size());
    for (qsizetype i = 0; i < lines.size(); ++i)
        lines[i].prepend(i == 0 ? QStringLiteral("usage: ") : QString(kIndent));
    QString text
        = lines.join(u'\n') + QStringLiteral("\n\n") + wrappedText(command.summary, kWidth).join(u'\n') + u'\n';
    if (!command.details.isEmpty())
        text += u'\n' + wrappedText(command.details, kWidth).join(u'\n') + u'\n';
    const QList<CliOption> options = command.options + commonOptions();
    qsizetype labelWidth = QStringLiteral("-h, --help").size();
    for (const CliOption& option : options)
        labelWidth = std::max(labelWidth, optionLabel(option).size());
    labelWidth = std::min<qsizetype>(labelWidth, 28);
    const QString gap(2 + labelWidth + 2, u' ');
    text += QStringLiteral("\nOptions:\n");
    const auto addOption = [&](const QString& label, const QString& help) {
        const QStringList helpLines = wrappedText(help, kWidth - gap.size());
        const bool own = label.size() > labelWidth; // a long label gets a line of its own
        text += QStringLiteral("  ") + label;
        for (qsizetype i = 0; i < helpLines.size(); ++i) {
            if (i == 0 && !own)
                text += QString(labelWidth - label.size() + 2, u' ') + helpLines.at(i) + u'\n';
            else
                text += (i == 0 ? QStringLiteral("\n") : QString()) + gap + helpLines.at(i) + u'\n';
        }
    };
    for (const CliOption& option : options)
        addOption(optionLabel(option), optionHelp(option));
    addOption(QStringLiteral("-h, --help"), QStringLiteral("Show this help."));
    return text + u'\n' + kExitCodes + u'\n';
}

QString manPage(const QList<CliCommand>& commands, const QString& version)
{
    QString page = QStringLiteral(".TH OPSDECK 1 \"\" \"opsdeck %1\" \"User Commands\"\n").arg(roff(version));
    page += QStringLiteral(".SH NAME\nopsdeck \\- admin console for Packit, Pulumi, deploys, RAFT and datamon\n");
    page += QStringLiteral(".SH SYNOPSIS\n.B opsdeck\n[\\fB\\-\\-inventory\\fR \\fIFILE\\fR]\n.br\n.B opsdeck\n"
                           "\\fISUBCOMMAND\\fR [\\fIOPTION\\fR]...\n");
    page += QStringLiteral(".SH DESCRIPTION\n")
        + roffText(QStringLiteral(
            "Without a subcommand, opsdeck opens the console window, which needs a display: run it in a graphical "
            "session, or over ssh -X (or -Y) so that DISPLAY is set. Without one it lists the subcommands instead."))
        + QStringLiteral(".PP\n")
        + roffText(QStringLiteral(
            "A subcommand runs headless and drives the same services as the console: every destructive operation is "
            "planned first (plan OPERATION, or --plan), runs only with its target's name typed as --confirm, and is "
            "journaled with its plan, confirmation, steps and outcome."));
    page += QStringLiteral(".SH COMMANDS\n");
    for (const CliCommand& command : commands) {
        page += QStringLiteral(".TP\n\\fBopsdeck\\fR ") + synopsisUnits(command, roffBold, roffItalic).join(u' ')
            + u'\n' + roffText(command.summary);
        if (!command.details.isEmpty())
            page += QStringLiteral(".IP\n") + roffText(command.details);
        if (command.options.isEmpty())
            continue;
        page += QStringLiteral(".RS\n");
        for (const CliOption& option : command.options)
            page += QStringLiteral(".TP\n") + roffBold(option.dashed())
                + (option.takesValue() ? u' ' + roffItalic(option.valueName) : QString()) + u'\n'
                + roffText(optionHelp(option));
        page += QStringLiteral(".RE\n");
    }
    page += QStringLiteral(".SH OPTIONS\nEvery subcommand takes these besides its own:\n");
    for (const CliOption& option : commonOptions())
        page += QStringLiteral(".TP\n") + roffBold(option.dashed()) + u' ' + roffItalic(option.valueName) + u'\n'
            + roffText(option.help);
    page += QStringLiteral(".TP\n\\fB\\-h\\fR, \\fB\\-\\-help\\fR\nShow the subcommand's own help.\n");
    page += QStringLiteral(".SH EXIT STATUS\n.TP\n0\nSuccess.\n.TP\n1\nFailure.\n.TP\n2\nInvalid input or usage.\n"
                           ".TP\n3\nRefused by a safety rule (a missing or wrong confirmation, a read-only target).\n");
    page += QStringLiteral(
        ".SH ENVIRONMENT\n.TP\n.B OPSDECK_INVENTORY\nThe inventory, when \\-\\-inventory is not given.\n"
        ".TP\n\\fBDISPLAY\\fR, \\fBWAYLAND_DISPLAY\\fR\nWhere the console's window is shown.\n");
    page += QStringLiteral(".SH FILES\n.TP\n.I ~/.config/opsdeck/inventory.yaml\n")
        + roffText(QStringLiteral("The inventory, when neither --inventory nor OPSDECK_INVENTORY names one."));
    return page;
}

QString bashCompletion(const QList<CliCommand>& commands)
{
    // The words that come first, in order, and the second words of each group.
    QStringList firsts;
    QMap<QString, QStringList> seconds;
    for (const CliCommand& command : commands) {
        if (!firsts.contains(command.words.first()))
            firsts << command.words.first();
        if (command.words.size() > 1)
            seconds[command.words.first()] << command.words.at(1);
    }
    QString script = QStringLiteral(
        "# bash completion for opsdeck, made by `opsdeck completion bash` from the definitions its parser uses\n"
        "_opsdeck()\n{\n"
        "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]} command=${COMP_WORDS[1]}\n"
        "    COMPREPLY=()\n"
        "    if ((COMP_CWORD == 1)); then\n"
        "        COMPREPLY=($(compgen -W '%1 --inventory --help --version' -- \"$cur\"))\n"
        "        return\n"
        "    fi\n"
        "    case $command in\n")
                         .arg(firsts.join(u' '));
    for (auto group = seconds.cbegin(); group != seconds.cend(); ++group)
        script += QStringLiteral("    %1)\n"
                                 "        if ((COMP_CWORD == 2)); then\n"
                                 "            COMPREPLY=($(compgen -W '%2' -- \"$cur\"))\n"
                                 "            return\n"
                                 "        fi\n"
                                 "        command=\"$command ${COMP_WORDS[2]}\"\n"
                                 "        ;;\n")
                      .arg(group.key(), group.value().join(u' '));
    script
        += QStringLiteral("    esac\n"
                          "    # Each subcommand's options, those that take a value, and those whose value is a file.\n"
                          "    local options values files\n"
                          "    case $command in\n");
    for (const CliCommand& command : commands) {
        QStringList options;
        QStringList values;
        QStringList files;
        for (const CliOption& option : command.options + commonOptions()) {
            options << option.dashed();
            if (option.takesValue())
                values << option.dashed();
            if (option.valueName == QStringLiteral("FILE") || option.valueName == QStringLiteral("INVENTORY"))
                files << option.dashed();
        }
        options << QStringLiteral("--help");
        script += QStringLiteral("    '%1') options='%2' values='%3' files='%4' ;;\n")
                      .arg(command.name(), options.join(u' '), values.join(u' '), files.join(u' '));
    }
    script += QStringLiteral("    *) return ;;\n"
                             "    esac\n"
                             "    if [[ \" $files \" == *\" $prev \"* ]]; then\n"
                             "        compopt -o filenames\n"
                             "        COMPREPLY=($(compgen -f -- \"$cur\"))\n"
                             "    elif [[ \" $values \" != *\" $prev \"* && $cur == -* ]]; then\n"
                             "        COMPREPLY=($(compgen -W \"$options\" -- \"$cur\"))\n"
                             "    fi\n"
                             "}\n"
                             "complete -F _opsdeck opsdeck\n");
    return script;
}

} // namespace opsdeck::cli
