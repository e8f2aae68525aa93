#include "PulumiStackModel.h"

#include "pulumi/PulumiQueries.h"

#include <QDateTime>

namespace opsdeck {

PulumiStackModel::PulumiStackModel(QObject* parent)
    : PagedTableModel({ { tr("Organisation"), PulumiQueries::StackOrg }, { tr("Stack"), PulumiQueries::StackName },
                          { tr("Project"), PulumiQueries::StackProject },
                          { tr("Deleted at"), PulumiQueries::StackDeletedAt,
                              [](const QVariant& epochSeconds) {
                                  return QDateTime::fromSecsSinceEpoch(epochSeconds.toLongLong())
                                      .toString(QStringLiteral("yyyy-MM-dd HH:mm"));
                              } } },
        { PulumiQueries::StackName, false },
        parent)
{
}

QString PulumiStackModel::stackName(int row) const
{
    return value(row, PulumiQueries::StackName).toString();
}

} // namespace opsdeck
