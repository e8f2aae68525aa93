#include "packit/PackitBundle.h"

#include "config/CommandTemplates.h"
#include "config/NameRules.h"
#include "core/ShellQuote.h"

#include <QRegularExpression>

using namespace Qt::StringLiterals;

namespace opsdeck::PackitBundle {

namespace {

// A psql backslash command's quoted argument: '' stands for one quote.
QString psqlQuoted(const QString& text)
{
    return u'\'' + QString(text).replace(u'\'', u"''"_s) + u'\'';
}

QString fileIn(const QString& dir, const QString& name)
{
    return psqlQuoted(dir + u'/' + name);
}

QString selectTaken(const Table& table)
{
    return u"SELECT %1 FROM %2%3 ORDER BY id"_s.arg(
        table.columns, table.name, table.taken.isEmpty() ? QString() : u" WHERE "_s + table.taken);
}

// A restored grant or packet tag goes in only if what it points at outside the wipe still exists.
QString parentsExist(const QString& table)
{
    if (table == u"role_permission")
        return u"EXISTS (SELECT 1 FROM role x WHERE x.id = r.role_id) AND EXISTS (SELECT 1 FROM permission x WHERE "
               "x.id = r.permission_id) AND (r.tag_id IS NULL OR EXISTS (SELECT 1 FROM tag x WHERE x.id = r.tag_id))"_s;
    return u"EXISTS (SELECT 1 FROM tag x WHERE x.id = r.tag_id)"_s;
}

} // namespace

const QList<Table>& tables()
{
    static const QList<Table> all = {
        { u"packet_group"_s, u"id, name"_s, {} },
        { u"packet"_s, u"id, name, display_name, parameters, import_time, start_time, end_time, description"_s, {} },
        { u"role_permission"_s, u"id, role_id, permission_id, packet_id, packet_group_id, tag_id"_s,
            u"packet_id IS NOT NULL OR packet_group_id IS NOT NULL"_s },
        { u"packet_tag"_s, u"id, packet_id, tag_id"_s, {} },
        { u"pin"_s, u"id, packet_id"_s, {} },
        { u"one_time_token"_s, u"id, packet_id, file_paths, expires_at"_s, {} },
    };
    return all;
}

const QStringList& sequences()
{
    static const QStringList all = { u"packet_group_id_seq"_s, u"role_permission_id_seq"_s, u"packet_tag_id_seq"_s };
    return all;
}

QStringList sessionSettings(const QString& applicationName)
{
    // extra_float_digits: a server set lower would write the doubles rounded, and the round trip would lose them.
    return { u"SET application_name = %1"_s.arg(psqlQuoted(applicationName)), u"SET client_encoding = 'UTF8'"_s,
        u"SET datestyle = 'ISO, YMD'"_s, u"SET timezone = 'UTC'"_s, u"SET intervalstyle = 'postgres'"_s,
        u"SET extra_float_digits = 3"_s };
}

QStringList exportCommands(const QString& dir)
{
    QStringList commands;
    for (const Table& table : tables()) {
        if (table.name == u"packet")
            commands << u"\\copy (%1) TO PROGRAM %2"_s.arg(selectTaken(table),
                psqlQuoted(u"split -l %1 -d -a 4 --additional-suffix=.copy - "_s.arg(kPacketPartRows)
                    + ShellQuote::quote(dir + u"/packet."_s)));
        else
            commands << u"\\copy (%1) TO %2"_s.arg(selectTaken(table), fileIn(dir, table.name + u".copy"_s));
    }
    QStringList sequenceRows;
    for (const QString& sequence : sequences())
        sequenceRows << u"SELECT '%1', last_value, is_called FROM %1"_s.arg(sequence);
    commands << u"\\copy (%1) TO %2"_s.arg(sequenceRows.join(u" UNION ALL "_s), fileIn(dir, u"sequences.copy"_s));
    // A failing program stops psql (a failing \! would not). The sums are synced before the session goes on.
    commands << u"\\copy (SELECT 1 WHERE false) TO PROGRAM %1"_s.arg(psqlQuoted(
        u"cd %1 && sha256sum -- *.copy > SHA256SUMS.tmp && sync -- *.copy SHA256SUMS.tmp && mv -- "
        "SHA256SUMS.tmp SHA256SUMS && sync -- SHA256SUMS . && cat SHA256SUMS"_s.arg(ShellQuote::quote(dir))));
    return commands;
}

QStringList importCommands(const QString& dir, const QStringList& packetParts)
{
    QStringList commands;
    for (const Table& table : tables()) {
        if (table.name == u"packet") {
            for (const QString& part : packetParts)
                commands << u"\\copy packet (%1) FROM %2"_s.arg(table.columns, fileIn(dir, part));
        } else if (table.name == u"role_permission" || table.name == u"packet_tag") {
            const QString temp = u"opsdeck_restore_"_s + table.name;
            commands << u"CREATE TEMP TABLE %1 (LIKE %2) ON COMMIT DROP"_s.arg(temp, table.name)
                     << u"\\copy %1 (%2) FROM %3"_s.arg(temp, table.columns, fileIn(dir, table.name + u".copy"_s))
                     << u"SELECT 'SKIPPED %1 ' || r.id FROM %2 r WHERE NOT (%3) ORDER BY r.id"_s.arg(
                            table.name, temp, parentsExist(table.name))
                     << u"INSERT INTO %1 (%2) SELECT %3 FROM %4 r WHERE %5 ORDER BY r.id"_s.arg(table.name,
                            table.columns, u"r."_s + QString(table.columns).replace(u", "_s, u", r."_s), temp,
                            parentsExist(table.name));
        } else {
            commands << u"\\copy %1 (%2) FROM %3"_s.arg(
                table.name, table.columns, fileIn(dir, table.name + u".copy"_s));
        }
    }
    commands << u"CREATE TEMP TABLE opsdeck_restore_sequence (name text, last_value bigint, is_called boolean) ON "
                "COMMIT DROP"_s
             << u"\\copy opsdeck_restore_sequence FROM %1"_s.arg(fileIn(dir, u"sequences.copy"_s));
    // Compared as the next value each would hand out: a sequence is only ever raised, to the recorded value or past
    // the highest id now there, so no id handed out since the wipe can be handed out again.
    QStringList current;
    const QStringList owners = { u"packet_group"_s, u"role_permission"_s, u"packet_tag"_s };
    for (qsizetype i = 0; i < sequences().size(); ++i)
        current << u"SELECT '%1' AS name, last_value + is_called::int AS next, (SELECT coalesce(max(id), 0) + 1 FROM "
                   "%2) AS free FROM %1"_s.arg(sequences()[i], owners[i]);
    commands << u"WITH now (name, next, free) AS (%1) SELECT 'SEQUENCE ' || n.name || ' ' || CASE WHEN n.next >= "
                "greatest(r.last_value + r.is_called::int, n.free) THEN 'unchanged' WHEN r.last_value + "
                "r.is_called::int >= n.free THEN 'recorded ' || setval(n.name::regclass, r.last_value, r.is_called) "
                "ELSE 'past-max ' || setval(n.name::regclass, n.free - 1, true) END FROM now n JOIN "
                "opsdeck_restore_sequence r USING (name) ORDER BY n.name"_s.arg(current.join(u" UNION ALL "_s));
    return commands;
}

QStringList psqlArgv(const Host& host, const QString& database, const QStringList& commands)
{
    QStringList argv = CommandTemplates::expand(host.commands.value(u"psql"_s), { { u"database"_s, { database } } });
    argv << u"-X"_s << u"-A"_s << u"-t"_s << u"-v"_s << u"ON_ERROR_STOP=1"_s;
    for (const QString& command : commands)
        argv << u"-c"_s << command;
    return argv;
}

Output parse(const QByteArray& output)
{
    static const QRegularExpression sum(u"^([0-9a-f]{64})  ([A-Za-z0-9_.]+)$"_s);
    static const QRegularExpression copy(u"^COPY ([0-9]+)$"_s);
    static const QRegularExpression skipped(u"^SKIPPED ([a-z_]+ [0-9]+)$"_s);
    Output result;
    for (const QString& rawLine : QString::fromUtf8(output).split(u'\n')) {
        const QString line = rawLine.trimmed();
        if (const auto m = sum.match(line); m.hasMatch())
            result.sums.insert(m.captured(2), m.captured(1));
        else if (const auto c = copy.match(line); c.hasMatch())
            result.copied << c.captured(1).toLongLong();
        else if (const auto s = skipped.match(line); s.hasMatch())
            result.skipped << s.captured(1);
    }
    return result;
}

QStringList packetParts(const QMap<QString, QString>& sums)
{
    static const QRegularExpression part(u"^packet\\.[0-9]{4}\\.copy$"_s);
    QStringList parts;
    for (auto it = sums.cbegin(); it != sums.cend(); ++it) {
        if (part.match(it.key()).hasMatch())
            parts << it.key();
    }
    return parts; // QMap keeps them sorted, which is their order
}

QString checkSums(const QMap<QString, QString>& sums)
{
    static const QRegularExpression sha(u"^[0-9a-f]{64}$"_s);
    static const QRegularExpression part(u"^packet\\.[0-9]{4}\\.copy$"_s);
    QStringList files = { u"sequences.copy"_s };
    for (const Table& table : tables())
        files << table.name + u".copy"_s;
    for (auto it = sums.cbegin(); it != sums.cend(); ++it) {
        const bool known = part.match(it.key()).hasMatch() || (files.contains(it.key()) && it.key() != u"packet.copy");
        if (!sha.match(it.value()).hasMatch() || !known)
            return u"the bundle lists \"%1\" with \"%2\": not a bundle file and its sha256"_s.arg(it.key(), it.value());
    }
    for (const Table& table : tables()) {
        if (table.name != u"packet" && !sums.contains(table.name + u".copy"_s))
            return u"the bundle has no %1.copy"_s.arg(table.name);
    }
    if (!sums.contains(u"sequences.copy"_s))
        return u"the bundle has no sequences.copy"_s;
    const qsizetype parts = packetParts(sums).size();
    for (qsizetype i = 0; i < parts; ++i) {
        if (!sums.contains(u"packet.%1.copy"_s.arg(i, 4, 10, QChar(u'0'))))
            return u"the bundle's packet files are not numbered 0000 to %1"_s.arg(parts - 1, 4, 10, QChar(u'0'));
    }
    return {};
}

QString keptPathError(const QString& base, const QString& instance, const QString& keptRoot, const QString& bundle)
{
    const QRegularExpression kept(u"^%1/\\.opsdeck-(wipe|restore)-%2-[0-9a-f]{8}\\z"_s.arg(
        QRegularExpression::escape(base), QRegularExpression::escape(instance)));
    if (!kept.match(keptRoot).hasMatch() || !NameRules::isStrictlyUnder(keptRoot, base))
        return u"\"%1\" is not a kept root of %2 under %3"_s.arg(keptRoot, instance, base);
    if (bundle != keptRoot + u".restore"_s)
        return u"the bundle \"%1\" is not beside its kept root %2"_s.arg(bundle, keptRoot);
    return {};
}

} // namespace opsdeck::PackitBundle
