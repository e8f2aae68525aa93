#include "core/ChildEnvironment.h"

namespace opsdeck::ChildEnvironment {

QProcessEnvironment allowlisted(const QStringList& passThrough)
{
    static const QStringList base = { QStringLiteral("PATH"), QStringLiteral("HOME"), QStringLiteral("USER"),
        QStringLiteral("LOGNAME"), QStringLiteral("LANG"), QStringLiteral("LANGUAGE"), QStringLiteral("TZ") };
    const QProcessEnvironment own = QProcessEnvironment::systemEnvironment();
    QProcessEnvironment child;
    for (const QString& name : own.keys()) {
        if (base.contains(name) || passThrough.contains(name) || name.startsWith(QStringLiteral("LC_")))
            child.insert(name, own.value(name));
    }
    return child;
}

} // namespace opsdeck::ChildEnvironment
