#pragma once

#include "ssh/SshTypes.h"

#include <QDateTime>
#include <QJsonObject>

namespace opsdeck {

// What opsdeck knows about reaching one host: the row of `opsdeck hosts` and of the panes' target lists.
struct HostStatus
{
    enum class Reachability
    {
        Unchecked,
        Checking,
        Reachable,
        Unreachable
    };

    QString name;
    QString address;
    quint16 port = 0;
    QString auth; // key / agent / password
    Reachability reachability = Reachability::Unchecked;
    HostKeyInfo hostKey;
    SshError error;
    QDateTime checkedAt;

    bool reachable() const { return reachability == Reachability::Reachable; }
    QJsonObject toJson() const;
    static QString authName(AuthMethod method);
};

} // namespace opsdeck
