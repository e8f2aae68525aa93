#include "StatusIcons.h"

#include <QHash>
#include <QObject>
#include <QPainter>
#include <QPainterPath>
#include <QPixmap>
#include <QPolygonF>
#include <QRegularExpression>

namespace opsdeck::StatusIcons {

QColor color(Kind kind)
{
    switch (kind) {
    case Kind::Ok:
        return QColor(0x2e, 0x7d, 0x32);
    case Kind::Error:
        return QColor(0xc6, 0x28, 0x28);
    case Kind::Busy:
        return QColor(0x15, 0x65, 0xc0);
    case Kind::Warning:
        return QColor(0xef, 0x6c, 0x00);
    case Kind::Unknown:
        return QColor(0x75, 0x75, 0x75);
    case Kind::Behind:
        return QColor(0xb2, 0x6a, 0x00);
    case Kind::Equivalent:
        return QColor(0x00, 0x79, 0x6b);
    case Kind::Production:
        return QColor(0xc6, 0x28, 0x28);
    }
    return {};
}

QVariant cell(int role, Kind kind, const QString& text, const QString& tooltip)
{
    switch (role) {
    case Qt::DisplayRole:
        return text;
    case Qt::DecorationRole:
        return icon(kind);
    case Qt::ForegroundRole:
        return color(kind);
    case Qt::ToolTipRole:
        return tooltip;
    }
    return {};
}

QString errorCellText(const QString& message)
{
    // A sentence ends at ". " (or "; ") before a capital letter: not inside an address (127.0.0.1) or a path.
    static const QRegularExpression end(QStringLiteral("[.;] +(?=\\p{Lu})"));
    const QRegularExpressionMatch match = end.match(message);
    return match.hasMatch() ? message.left(match.capturedStart()) : message;
}

QString productionMeaning()
{
    return QObject::tr("Production: a destructive operation on it asks for its name to be typed");
}

QVariant productionMark(int role)
{
    switch (role) {
    case Qt::DecorationRole:
        return icon(Kind::Production);
    case Qt::ToolTipRole:
        return productionMeaning();
    case Qt::AccessibleDescriptionRole:
        return QObject::tr("production");
    }
    return {};
}

namespace {
QPixmap draw(Kind kind, int size)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter painter(&pixmap);
    painter.setRenderHint(QPainter::Antialiasing);
    const qreal s = size;
    painter.setPen(Qt::NoPen);
    painter.setBrush(color(kind));
    if (kind == Kind::Production)
        painter.drawPolygon(QPolygonF({ QPointF(s * 0.5, s * 0.02), QPointF(s * 0.98, s * 0.5),
            QPointF(s * 0.5, s * 0.98), QPointF(s * 0.02, s * 0.5) }));
    else
        painter.drawEllipse(QRectF(s * 0.06, s * 0.06, s * 0.88, s * 0.88));
    QPen pen(Qt::white, s * 0.12, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin);
    painter.setPen(pen);
    painter.setBrush(Qt::NoBrush);
    switch (kind) {
    case Kind::Ok: {
        QPainterPath check;
        check.moveTo(s * 0.28, s * 0.52);
        check.lineTo(s * 0.44, s * 0.68);
        check.lineTo(s * 0.72, s * 0.36);
        painter.drawPath(check);
        break;
    }
    case Kind::Error:
        painter.drawLine(QPointF(s * 0.34, s * 0.34), QPointF(s * 0.66, s * 0.66));
        painter.drawLine(QPointF(s * 0.66, s * 0.34), QPointF(s * 0.34, s * 0.66));
        break;
    case Kind::Busy:
        painter.setPen(Qt::NoPen);
        painter.setBrush(Qt::white);
        for (qreal x : { 0.3, 0.5, 0.7 })
            painter.drawEllipse(QPointF(s * x, s * 0.5), s * 0.07, s * 0.07);
        break;
    case Kind::Warning:
    case Kind::Production:
        painter.drawLine(QPointF(s * 0.5, s * 0.26), QPointF(s * 0.5, s * 0.56));
        painter.drawPoint(QPointF(s * 0.5, s * 0.74));
        break;
    case Kind::Behind: {
        painter.drawLine(QPointF(s * 0.5, s * 0.26), QPointF(s * 0.5, s * 0.72));
        QPainterPath head;
        head.moveTo(s * 0.32, s * 0.54);
        head.lineTo(s * 0.5, s * 0.72);
        head.lineTo(s * 0.68, s * 0.54);
        painter.drawPath(head);
        break;
    }
    case Kind::Equivalent:
        painter.drawLine(QPointF(s * 0.3, s * 0.4), QPointF(s * 0.7, s * 0.4));
        painter.drawLine(QPointF(s * 0.3, s * 0.6), QPointF(s * 0.7, s * 0.6));
        break;
    case Kind::Unknown: {
        QFont font = painter.font();
        font.setPixelSize(int(s * 0.66));
        font.setBold(true);
        painter.setFont(font);
        painter.drawText(QRectF(0, 0, s, s), Qt::AlignCenter, QStringLiteral("?"));
        break;
    }
    }
    return pixmap;
}
} // namespace

QIcon icon(Kind kind)
{
    static QHash<int, QIcon> cache;
    auto it = cache.find(int(kind));
    if (it != cache.end())
        return *it;
    QIcon result;
    for (int size : { 16, 24, 32 })
        result.addPixmap(draw(kind, size));
    cache.insert(int(kind), result);
    return result;
}

} // namespace opsdeck::StatusIcons
