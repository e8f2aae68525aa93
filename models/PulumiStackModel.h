#pragma once

#include "PagedTableModel.h"

namespace opsdeck {

// The soft-deleted stacks of a Pulumi database: the columns of a PagedTableModel over PulumiQueries' stack fields.
class PulumiStackModel : public PagedTableModel
{
    Q_OBJECT
public:
    enum Column
    {
        Organization,
        Stack,
        Project,
        DeletedAt,
        ColumnCount
    };

    explicit PulumiStackModel(QObject* parent = nullptr);

    QString stackName(int row) const;
};

} // namespace opsdeck
