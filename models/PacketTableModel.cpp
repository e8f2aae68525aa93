#include "PacketTableModel.h"

#include "packit/PackitQueries.h"

#include <QDateTime>

namespace opsdeck {

namespace {

QString timeText(const QVariant& epochSeconds)
{
    return QDateTime::fromMSecsSinceEpoch(qint64(epochSeconds.toDouble() * 1000))
        .toString(QStringLiteral("yyyy-MM-dd HH:mm:ss"));
}

} // namespace

PacketTableModel::PacketTableModel(QObject* parent)
    : PagedTableModel({ { tr("Packet id"), PackitQueries::PacketId }, { tr("Name"), PackitQueries::PacketName },
                          { tr("Display name"), PackitQueries::PacketDisplayName },
                          { tr("Started"), PackitQueries::PacketStarted, timeText },
                          { tr("Finished"), PackitQueries::PacketFinished, timeText } },
        { PackitQueries::PacketId, false },
        parent)
{
}

QString PacketTableModel::packetId(int row) const
{
    return value(row, PackitQueries::PacketId).toString();
}

} // namespace opsdeck
