#pragma once

#include "PagedTableModel.h"

namespace opsdeck {

// The packets of one instance: the columns of a PagedTableModel over PackitQueries' packet fields.
class PacketTableModel : public PagedTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Id,
        Name,
        DisplayName,
        Started,
        Finished,
        ColumnCount
    };

    explicit PacketTableModel(QObject* parent = nullptr);

    QString packetId(int row) const;
};

} // namespace opsdeck
