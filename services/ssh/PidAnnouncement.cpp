#include "ssh/PidAnnouncement.h"

#include "ssh/SshLogging.h"

#include <QRandomGenerator>

#include <array>

namespace opsdeck {

PidAnnouncement::PidAnnouncement()
{
    std::array<quint32, 2> random {};
    QRandomGenerator::system()->fillRange(random.data(), random.size());
    *this = PidAnnouncement(
        QByteArray(reinterpret_cast<const char*>(random.data()), sizeof random).toHex()); // 16 hex characters
}

PidAnnouncement::PidAnnouncement(const QByteArray& nonce)
    : m_marker("opsdeck-pid-" + nonce + ':')
{
}

QByteArray PidAnnouncement::shellPrefix() const
{
    return "echo " + m_marker + "$$ >&2; ";
}

bool PidAnnouncement::take(QByteArray* data)
{
    m_head += *data;
    data->clear();
    qsizetype start = m_head.startsWith(m_marker) ? 0 : m_head.indexOf("\n" + m_marker);
    if (start > 0)
        ++start; // past the newline
    const qsizetype end = start >= 0 ? m_head.indexOf('\n', start) : -1;
    if (end < 0) {
        if (m_head.size() < kSearchLimit)
            return false;
        m_pid = -1; // a shell that did not announce: nothing to strip, nothing to kill
        std::swap(*data, m_head);
        return true;
    }
    const QByteArray text = m_head.mid(start + m_marker.size(), end - start - m_marker.size());
    bool number = false;
    const qint64 pid = text.toLongLong(&number);
    m_pid = number && pid > 1 ? pid : -1;
    if (m_pid < 0)
        qCWarning(lcSsh) << "refused the pid announcement" << text << ": the command cannot be killed, only cut off";
    *data = m_head.left(start) + m_head.mid(end + 1);
    m_head.clear();
    return true;
}

QByteArray PidAnnouncement::release()
{
    QByteArray held;
    std::swap(held, m_head);
    return held;
}

} // namespace opsdeck
