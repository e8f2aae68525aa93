// The RAFT parsers (services/raft/RaftQueries) on an arbitrary API answer: the bytes as a StatefulSet, a pod and an
// image stream when they are a JSON object, and always as the trigger annotation's string.
#include "raft/RaftQueries.h"

#include <QJsonDocument>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QString error;
    (void)opsdeck::RaftQueries::parseTriggers(QString::fromUtf8(bytes), &error);
    const QJsonDocument document = QJsonDocument::fromJson(bytes);
    if (!document.isObject())
        return 0;
    const opsdeck::StatefulSetRow row = opsdeck::RaftQueries::statefulSetRow(document.object());
    (void)opsdeck::RaftQueries::podRow(document.object(), row.container);
    (void)opsdeck::RaftQueries::latestImage(document.object(), QStringLiteral("latest"));
    return 0;
}
