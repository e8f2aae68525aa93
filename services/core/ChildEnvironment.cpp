#include "core/ChildEnvironment.h"

#include <QRegularExpression>

namespace opsdeck::ChildEnvironment {

namespace {

const QStringList base = { QStringLiteral("PATH"), QStringLiteral("HOME"), QStringLiteral("USER"),
    QStringLiteral("LOGNAME"), QStringLiteral("LANG"), QStringLiteral("LANGUAGE"), QStringLiteral("TZ") };

} // namespace

QProcessEnvironment allowlisted(const QStringList& passThrough)
{
    const QProcessEnvironment own = QProcessEnvironment::systemEnvironment();
    QProcessEnvironment child;
    for (const QString& name : own.keys()) {
        if (base.contains(name) || passThrough.contains(name) || name.startsWith(QStringLiteral("LC_")))
            child.insert(name, own.value(name));
    }
    return child;
}

QStringList remoteWrapper(const QStringList& passThrough)
{
    static const QStringList locale = { QStringLiteral("LC_ALL"), QStringLiteral("LC_CTYPE"),
        QStringLiteral("LC_MESSAGES"), QStringLiteral("LC_NUMERIC"), QStringLiteral("LC_TIME"),
        QStringLiteral("LC_COLLATE"), QStringLiteral("LC_MONETARY") };
    static const QRegularExpression variable(QStringLiteral("^[A-Za-z_][A-Za-z0-9_]*\\z"));
    QString assignments;
    for (const QString& name : base + locale + passThrough) {
        // ${NAME+"NAME=$NAME"}: one word when set (spaces and all), nothing when unset.
        if (variable.match(name).hasMatch())
            assignments += QStringLiteral(" ${%1+\"%1=$%1\"}").arg(name);
    }
    return { QStringLiteral("/bin/sh"), QStringLiteral("-c"),
        QStringLiteral("exec env -i%1 \"$@\" </dev/null").arg(assignments), QStringLiteral("sh") };
}

} // namespace opsdeck::ChildEnvironment
