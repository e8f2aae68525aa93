#include "config/CommandTemplates.h"

#include "config/NameRules.h"

#include <QRegularExpression>

#include <algorithm>

using namespace Qt::StringLiterals;

namespace opsdeck::CommandTemplates {

namespace {

struct Placeholder
{
    QString name;
    bool list = false; // takes any number of values, so only "{name...}" as a whole argument makes sense
};

struct Definition
{
    QString name;
    CommandTemplate defaultArgv;
    QList<Placeholder> placeholders;
    bool onHost = true; // run on an inventory host over SSH; else run locally by the console
};

const QList<Definition>& definitions()
{
    static const QList<Definition> all = {
        { u"stopUnits"_s, { u"systemctl"_s, u"stop"_s, u"{units...}"_s }, { { u"units"_s, true } } },
        { u"startUnits"_s, { u"systemctl"_s, u"start"_s, u"{units...}"_s }, { { u"units"_s, true } } },
        { u"unitState"_s, { u"systemctl"_s, u"show"_s, u"-p"_s, u"ActiveState,SubState"_s, u"{unit}"_s },
            { { u"unit"_s, false } } },
        { u"removeTree"_s, { u"rm"_s, u"-r"_s, u"{path}"_s }, { { u"path"_s, false } } },
        { u"psql"_s, { u"psql"_s, u"{database}"_s }, { { u"database"_s, false } } },
        { u"journal"_s, { u"journalctl"_s, u"{unitFlags...}"_s, u"-r"_s, u"-n"_s, u"{lines}"_s },
            { { u"unitFlags"_s, true }, { u"lines"_s, false } } },
        { u"readMetrics"_s, { u"cat"_s, u"{file}"_s }, { { u"file"_s, false } } },
        // packit-update-deploy.md's deploy command, run on the admin's machine, pinned to the commit the plan
        // resolved: with a ref, nix would resolve it again by itself and could build a commit nobody confirmed.
        { u"deploy"_s,
            { u"nix"_s, u"run"_s, u"--refresh"_s, u"github:{repository}?rev={rev}#deploy"_s, u"{machine}"_s },
            { { u"repository"_s, false }, { u"rev"_s, false }, { u"machine"_s, false } }, false },
    };
    return all;
}

const Definition* find(const QString& name)
{
    for (const Definition& d : definitions()) {
        if (d.name == name)
            return &d;
    }
    return nullptr;
}

// Any other brace text is literal, so an argument such as "{print $1}" needs no escaping.
const QRegularExpression& placeholderPattern()
{
    static const QRegularExpression pattern(u"\\{([A-Za-z][A-Za-z0-9]*)(\\.\\.\\.)?\\}"_s);
    return pattern;
}

QString spelled(const Placeholder& p)
{
    return p.list ? u"{%1...}"_s.arg(p.name) : u"{%1}"_s.arg(p.name);
}

QString spelledAll(const QList<Placeholder>& placeholders)
{
    QStringList result;
    for (const Placeholder& p : placeholders)
        result << spelled(p);
    return result.join(u", "_s);
}

} // namespace

QStringList names()
{
    QStringList result;
    for (const Definition& d : definitions()) {
        if (d.onHost)
            result << d.name;
    }
    return result;
}

CommandTemplate defaultFor(const QString& name)
{
    const Definition* d = find(name);
    return d ? d->defaultArgv : CommandTemplate();
}

QStringList placeholdersFor(const QString& name)
{
    QStringList result;
    if (const Definition* d = find(name)) {
        for (const Placeholder& p : d->placeholders)
            result << p.name;
    }
    return result;
}

QString validate(const QString& name, const CommandTemplate& t)
{
    const Definition* d = find(name);
    if (!d)
        return u"command template %1 is not known: use one of %2"_s.arg(NameRules::quoted(name), names().join(u", "_s));
    const QString what = u"command template %1"_s.arg(name);
    if (t.isEmpty())
        return u"%1 is empty: give the program and its arguments, e.g. [%2]"_s.arg(what, d->defaultArgv.join(u", "_s));
    if (t.front().isEmpty() || placeholderPattern().match(t.front()).hasMatch())
        return u"%1 must start with a fixed program, not %2"_s.arg(what, NameRules::quoted(t.front()));

    QStringList used;
    for (const QString& arg : t) {
        auto it = placeholderPattern().globalMatch(arg);
        while (it.hasNext()) {
            const QRegularExpressionMatch m = it.next();
            const QString placeholder = m.captured(1);
            const bool listForm = m.capturedLength(2) > 0;
            const auto allowed = std::find_if(d->placeholders.cbegin(), d->placeholders.cend(),
                [&](const Placeholder& p) { return p.name == placeholder; });
            if (allowed == d->placeholders.cend())
                return u"%1 cannot use %2: use %3"_s.arg(what, m.captured(0), spelledAll(d->placeholders));
            if (listForm != allowed->list || (listForm && m.captured(0) != arg))
                return u"%1 uses %2 in %3: write %4 %5"_s.arg(what, m.captured(0), NameRules::quoted(arg),
                    spelled(*allowed), allowed->list ? u"as a whole argument of its own"_s : u"for its single value"_s);
            used << placeholder;
        }
    }
    for (const Placeholder& p : d->placeholders) {
        // A template that ignores its input would run something other than what the plan showed.
        if (!used.contains(p.name))
            return u"%1 never uses %2: the command must act on it"_s.arg(what, spelled(p));
    }
    return {};
}

QStringList expand(const CommandTemplate& t, const QMap<QString, QStringList>& values, QString* error)
{
    auto fail = [error](const QString& message) {
        if (error)
            *error = message;
        return QStringList();
    };
    QStringList argv;
    for (const QString& arg : t) {
        const QRegularExpressionMatch whole = placeholderPattern().match(arg);
        if (whole.hasMatch() && whole.capturedLength(2) > 0 && whole.captured(0) == arg) {
            const auto value = values.constFind(whole.captured(1));
            if (value == values.cend())
                return fail(u"no value for %1"_s.arg(arg));
            argv << *value;
            continue;
        }
        // Built piecewise so that a value containing "{x}" stays data.
        QString expanded;
        qsizetype done = 0;
        auto it = placeholderPattern().globalMatch(arg);
        while (it.hasNext()) {
            const QRegularExpressionMatch m = it.next();
            if (m.capturedLength(2) > 0)
                return fail(
                    u"%1 must be a whole argument, not part of %2"_s.arg(m.captured(0), NameRules::quoted(arg)));
            const auto value = values.constFind(m.captured(1));
            if (value == values.cend())
                return fail(u"no value for %1"_s.arg(m.captured(0)));
            if (value->size() != 1)
                return fail(u"%1 takes exactly one value, not %2"_s.arg(m.captured(0), QString::number(value->size())));
            expanded += QStringView(arg).mid(done, m.capturedStart(0) - done);
            expanded += value->front();
            done = m.capturedEnd(0);
        }
        expanded += QStringView(arg).mid(done);
        argv << expanded;
    }
    return argv;
}

} // namespace opsdeck::CommandTemplates
