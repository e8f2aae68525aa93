#include "config/InventoryLoader.h"

#include "config/CommandTemplates.h"
#include "config/NameRules.h"

#include <QDir>
#include <QFile>
#include <QHash>
#include <QHostAddress>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QUrl>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <sstream>
#include <utility>

using namespace Qt::StringLiterals;

namespace opsdeck {

QString InventoryError::where() const
{
    // Concatenated, not arg(): a file name may itself contain "%1".
    return line == 0 ? file : file + u':' + QString::number(line) + u':' + QString::number(column);
}

QString InventoryError::toString() const
{
    return where() + u": "_s + message;
}

namespace {

SourcePos posOf(const YAML::Node& node)
{
    const YAML::Mark mark = node.Mark();
    return { mark.line + 1, mark.column + 1 };
}

QString kindOf(const YAML::Node& node)
{
    switch (node.Type()) {
    case YAML::NodeType::Scalar:
        return u"a string"_s;
    case YAML::NodeType::Sequence:
        return u"a list"_s;
    case YAML::NodeType::Map:
        return u"a map"_s;
    default:
        return u"empty"_s;
    }
}

QString oneOf(const QStringList& allowed)
{
    return u"use one of "_s + allowed.join(u", "_s);
}

// Only each document's start matters here; the documents themselves are read by YAML::LoadAll.
class DocumentStarts : public YAML::EventHandler
{
public:
    YAML::Mark last;

    void OnDocumentStart(const YAML::Mark& mark) override { last = mark; }
    void OnDocumentEnd() override { }
    void OnNull(const YAML::Mark&, YAML::anchor_t) override { }
    void OnAlias(const YAML::Mark&, YAML::anchor_t) override { }
    void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override { }
    void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { }
    void OnSequenceEnd() override { }
    void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override { }
    void OnMapEnd() override { }
};

// Where yaml-cpp's parser stops making progress, if it does: on a ',' where a document may start (",a: b", or
// after "- a"), yaml-cpp 0.7 (Debian 12's) answers an empty document without consuming the ',', again and again,
// so LoadAll never returns and keeps every document until memory runs out (found by tests/fuzz). Every
// document that parses takes at least one character, so more documents than characters means it is stuck.
// Throws YAML::Exception as LoadAll would.
std::optional<YAML::Mark> stuckAt(const std::string& yaml)
{
    std::istringstream stream(yaml);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    for (std::size_t documents = 0; parser.HandleNextDocument(starts); ++documents) {
        if (documents > yaml.size())
            return starts.last;
    }
    return std::nullopt;
}

struct Entry
{
    QString key;
    YAML::Node keyNode;
    YAML::Node value;

    // yaml-cpp places an empty value at the next token, which may be lines away; the key is where the eye goes.
    SourcePos valuePos() const { return value.IsNull() ? posOf(keyNode) : posOf(value); }
};

// One mapping whose keys are known, strings, and each there once.
struct Fields
{
    QString context; // "host", "auth", ...: the first word of every message about these fields
    SourcePos pos;
    QList<Entry> entries;

    const Entry* find(const QString& key) const
    {
        const auto it = std::find_if(entries.cbegin(), entries.cend(), [&](const Entry& e) { return e.key == key; });
        return it == entries.cend() ? nullptr : &*it;
    }
    QString field(const QString& key) const { return context + u' ' + key; }
};

enum class Target
{
    Host,
    Database,
    Cluster
};

// A name that must exist in another section; checked once every section has been read, since the YAML may
// mention a host before defining it.
struct Reference
{
    Target target;
    QString field;
    QString name;
    SourcePos pos;
    QString note; // how the name came about when the file does not spell it out
};

// A variable an inventory entry passes to a child process, checked once the secret variables are all known.
struct PassedVariable
{
    QString name;
    SourcePos pos;
    QString field; // "deploy environment"
    QString child; // "the deploy command"
};

// Where each name of one section (or one host's instances) was first defined.
bool isEnvName(const QString& name)
{
    const auto isWordChar = [](QChar c) {
        return (c >= u'A' && c <= u'Z') || (c >= u'a' && c <= u'z') || (c >= u'0' && c <= u'9') || c == u'_';
    };
    return !name.isEmpty() && std::all_of(name.cbegin(), name.cend(), isWordChar) && !name.front().isDigit();
}

QString envNameError(const QString& field, const QString& name)
{
    return u"%1 %2 is not allowed: use an environment variable name of A-Z, a-z, 0-9 and '_', not starting with a "
           "digit"_s.arg(field, NameRules::quoted(name));
}

using NameSet = QHash<QString, int>;

QString expandHome(const QString& path)
{
    if (path == u"~" || path.startsWith(u"~/"))
        return QDir::homePath() + path.mid(1);
    return path;
}

const QStringList kSections = { u"journal"_s, u"hosts"_s, u"databases"_s, u"clusters"_s, u"datamon"_s, u"machines"_s,
    u"github"_s, u"deploy"_s, u"undo"_s };

class Parser
{
public:
    explicit Parser(const QString& file)
        : m_file(file)
    {
        m_inventory.file = file;
    }

    InventoryLoadResult run(const QByteArray& yaml);

private:
    void error(SourcePos pos, const QString& message);

    std::optional<Fields> readMap(
        const YAML::Node& node, SourcePos pos, const QString& what, const QString& context, const QStringList& allowed);
    std::optional<Fields> readMap(const Entry& e, const QString& what, const QStringList& allowed);
    QList<YAML::Node> readList(const Entry& e, const QString& what);

    std::optional<QString> readScalar(const Fields& f, const QString& key, const QString& expected);
    std::optional<QString> readString(const Fields& f, const QString& key);
    std::optional<QString> requireString(const Fields& f, const QString& key);
    std::optional<QString> readName(const Fields& f, NameSet& seen);
    void checkName(const QString& context, const QString& name, SourcePos pos, NameSet& seen);
    std::optional<quint16> readPort(const Fields& f, const QString& key);
    template <typename E>
    std::optional<E> readChoice(const Fields& f, const QString& key, const QList<std::pair<QString, E>>& choices);
    Tags readTags(const Fields& f);
    std::optional<QString> readLocalPath(const Fields& f, const QString& key);
    std::optional<QString> readRemotePath(const Fields& f, const QString& key);
    std::optional<QString> readEnvName(const Fields& f, const QString& key);
    std::optional<QString> readUrl(const Fields& f, const QString& key);
    void addReference(Target target, const Fields& f, const QString& key, const QString& name);

    void readJournal(const Entry& e);
    void readUndo(const Entry& e, const QString& what, UndoPolicy& undo);
    UndoPolicy readUndo(const Fields& f);
    void readDatabaseTls(const Fields& f, Database& d);
    void readHost(const YAML::Node& node, NameSet& seen);
    void readAuth(const Fields& host, HostAuth& auth);
    QMap<QString, CommandTemplate> readCommands(const Fields& host);
    void readInstances(const Fields& host, Host& h, bool baseOk);
    void readDatabase(const YAML::Node& node, NameSet& seen);
    void readCluster(const YAML::Node& node, NameSet& seen);
    QStringList readKubeconfigFiles(const Entry& e);
    QStringList readNamespaces(const Entry& e);
    void readDatamon(const YAML::Node& node, NameSet& seen);
    void readMachine(const YAML::Node& node, NameSet& seen);
    void readGithub(const Entry& e);
    void readDeploy(const Entry& e);
    std::optional<DatamonJobs> readDatamonJobs(const Entry& e);
    // A command name or an absolute path (datamon2, gcloud) into *into, when the key is there and valid.
    void readExecutable(const Fields& f, const QString& key, QString* into);
    QStringList readEnvironment(const Entry& e, const QString& what, const QString& child);
    void checkChildEnvironment();
    std::optional<int> readCount(const Fields& f, const QString& key, int min, int max);
    std::optional<QString> readPattern(
        const Fields& f, const QString& key, const QRegularExpression& pattern, const QString& allowed);
    CommandTemplate readTemplate(const Entry& e, const QString& name);
    void checkReferences();
    void completeMachines();

    QString m_file;
    Inventory m_inventory;
    QList<InventoryError> m_errors;
    QList<Reference> m_references;
    // Databases that must be PostgreSQL (a Packit instance's, the team journal's): name, where, and who needs it.
    struct PostgresNeed
    {
        QString name;
        SourcePos pos;
        QString who;
    };
    QList<PostgresNeed> m_postgresNeeds;
    std::optional<std::pair<QString, SourcePos>> m_staging; // deploy.staging, checked against the machines
    QList<PassedVariable> m_childEnvironment; // checked against the secret variables
    QSet<QString> m_machinesWithErrors; // their defaults are not checked, so one mistake makes one error
};

void Parser::error(SourcePos pos, const QString& message)
{
    m_errors << InventoryError { m_file, pos.line, pos.column, message };
}

std::optional<Fields> Parser::readMap(
    const YAML::Node& node, SourcePos pos, const QString& what, const QString& context, const QStringList& allowed)
{
    if (!node.IsMap()) {
        error(pos, u"%1 must be a map, not %2"_s.arg(what, kindOf(node)));
        return std::nullopt;
    }
    Fields fields { context, pos, {} };
    // Iterating the pairs rather than indexing by key is what lets duplicate keys be seen at all.
    for (auto it = node.begin(); it != node.end(); ++it) {
        const YAML::Node key = it->first;
        if (!key.IsScalar()) {
            error(posOf(key), u"keys in %1 must be strings, not %2"_s.arg(context, kindOf(key)));
            continue;
        }
        const QString name = QString::fromStdString(key.Scalar());
        if (!allowed.contains(name)) {
            error(posOf(key), u"unknown key %1 in %2: %3"_s.arg(NameRules::quoted(name), context, oneOf(allowed)));
            continue;
        }
        if (const Entry* first = fields.find(name)) {
            error(posOf(key),
                u"duplicate key %1 in %2: already given at line %3"_s.arg(
                    NameRules::quoted(name), context, QString::number(posOf(first->keyNode).line)));
            continue;
        }
        fields.entries << Entry { name, key, it->second };
    }
    return fields;
}

std::optional<Fields> Parser::readMap(const Entry& e, const QString& what, const QStringList& allowed)
{
    return readMap(e.value, e.valuePos(), what, what, allowed);
}

QList<YAML::Node> Parser::readList(const Entry& e, const QString& what)
{
    QList<YAML::Node> items;
    if (e.value.IsNull())
        return items;
    if (!e.value.IsSequence()) {
        error(e.valuePos(), u"%1 must be a list, not %2"_s.arg(what, kindOf(e.value)));
        return items;
    }
    for (auto it = e.value.begin(); it != e.value.end(); ++it)
        items << *it;
    return items;
}

std::optional<QString> Parser::readScalar(const Fields& f, const QString& key, const QString& expected)
{
    const Entry* e = f.find(key);
    if (!e)
        return std::nullopt;
    if (!e->value.IsScalar()) {
        error(e->valuePos(), u"%1 must be %2, not %3"_s.arg(f.field(key), expected, kindOf(e->value)));
        return std::nullopt;
    }
    return QString::fromStdString(e->value.Scalar());
}

std::optional<QString> Parser::readString(const Fields& f, const QString& key)
{
    const auto value = readScalar(f, key, u"a string"_s);
    if (value && value->isEmpty()) {
        error(f.find(key)->valuePos(), u"%1 must not be empty"_s.arg(f.field(key)));
        return std::nullopt;
    }
    return value;
}

std::optional<QString> Parser::requireString(const Fields& f, const QString& key)
{
    if (!f.find(key)) {
        error(f.pos, u"%1 is required"_s.arg(f.field(key)));
        return std::nullopt;
    }
    return readString(f, key);
}

std::optional<QString> Parser::readName(const Fields& f, NameSet& seen)
{
    const auto name = requireString(f, u"name"_s);
    if (name)
        checkName(f.context, *name, f.find(u"name"_s)->valuePos(), seen);
    return name;
}

void Parser::checkName(const QString& context, const QString& name, SourcePos pos, NameSet& seen)
{
    const QString problem = NameRules::nameError(context + u" name"_s, name);
    if (!problem.isEmpty()) {
        error(pos, problem);
        return;
    }
    if (const auto first = seen.constFind(name); first != seen.cend()) {
        error(pos,
            u"duplicate %1 name %2: already defined at line %3; %1 names must be unique"_s.arg(
                context, NameRules::quoted(name), QString::number(*first)));
        return;
    }
    seen.insert(name, pos.line);
}

std::optional<quint16> Parser::readPort(const Fields& f, const QString& key)
{
    const QString allowed = u"an integer from 1 to 65535"_s;
    const auto text = readScalar(f, key, allowed);
    if (!text)
        return std::nullopt;
    const Entry* e = f.find(key);
    // A quoted "22" is a string to YAML; accepting it would blur the types the file promises.
    if (e->value.Tag() == "!") {
        error(e->valuePos(),
            u"%1 must be %2, not the quoted string %3"_s.arg(f.field(key), allowed, NameRules::quoted(*text)));
        return std::nullopt;
    }
    const bool digits = !text->isEmpty() && text->size() <= 5
        && std::all_of(text->cbegin(), text->cend(), [](QChar c) { return c >= u'0' && c <= u'9'; });
    const uint value = digits ? text->toUInt() : 0;
    if (value < 1 || value > 65535) {
        error(e->valuePos(), u"%1 %2 is not allowed: use %3"_s.arg(f.field(key), NameRules::quoted(*text), allowed));
        return std::nullopt;
    }
    return static_cast<quint16>(value);
}

std::optional<int> Parser::readCount(const Fields& f, const QString& key, int min, int max)
{
    const QString allowed = u"an integer from %1 to %2"_s.arg(min).arg(max);
    const auto text = readScalar(f, key, allowed);
    if (!text)
        return std::nullopt;
    bool ok = false;
    const int value = text->size() <= 9 ? text->toInt(&ok) : 0;
    if (!ok || value < min || value > max || f.find(key)->value.Tag() == "!") {
        error(f.find(key)->valuePos(),
            u"%1 %2 is not allowed: use %3"_s.arg(f.field(key), NameRules::quoted(*text), allowed));
        return std::nullopt;
    }
    return value;
}

template <typename E>
std::optional<E> Parser::readChoice(const Fields& f, const QString& key, const QList<std::pair<QString, E>>& choices)
{
    QStringList allowed;
    for (const auto& choice : choices)
        allowed << choice.first;
    const auto text = readScalar(f, key, u"one of "_s + allowed.join(u", "_s));
    if (!text)
        return std::nullopt;
    for (const auto& choice : choices) {
        if (choice.first == *text)
            return choice.second;
    }
    error(f.find(key)->valuePos(),
        u"%1 %2 is not allowed: %3"_s.arg(f.field(key), NameRules::quoted(*text), oneOf(allowed)));
    return std::nullopt;
}

Tags Parser::readTags(const Fields& f)
{
    Tags tags;
    const Entry* e = f.find(u"tags"_s);
    if (!e)
        return tags;
    const QStringList allowed = { u"production"_s, u"readOnly"_s };
    for (const YAML::Node& item : readList(*e, f.field(u"tags"_s))) {
        const QString text = item.IsScalar() ? QString::fromStdString(item.Scalar()) : QString();
        if (text == allowed[0])
            tags.production = true;
        else if (text == allowed[1])
            tags.readOnly = true;
        else if (item.IsScalar())
            error(
                posOf(item), u"%1 tag %2 is not allowed: %3"_s.arg(f.context, NameRules::quoted(text), oneOf(allowed)));
        else
            error(posOf(item), u"%1 tags must be strings, not %2: %3"_s.arg(f.context, kindOf(item), oneOf(allowed)));
    }
    return tags;
}

std::optional<QString> Parser::readLocalPath(const Fields& f, const QString& key)
{
    const auto path = readString(f, key);
    if (path)
        return expandHome(*path);
    return path;
}

std::optional<QString> Parser::readRemotePath(const Fields& f, const QString& key)
{
    const auto path = readString(f, key);
    if (!path)
        return std::nullopt;
    // These paths live on the remote host, where our $HOME means nothing; and instance data is deleted under
    // them, so no ".." may lead elsewhere.
    if (!path->startsWith(u'/') || path->split(u'/').contains(u".."_s)) {
        error(f.find(key)->valuePos(),
            u"%1 %2 is not allowed: use an absolute path on the host, without \"..\" or \"~\""_s.arg(
                f.field(key), NameRules::quoted(*path)));
        return std::nullopt;
    }
    return QDir::cleanPath(*path);
}

std::optional<QString> Parser::readEnvName(const Fields& f, const QString& key)
{
    const auto name = readString(f, key);
    if (!name)
        return std::nullopt;
    if (isEnvName(*name))
        return name;
    error(f.find(key)->valuePos(), envNameError(f.field(key), *name));
    return std::nullopt;
}

std::optional<QString> Parser::readUrl(const Fields& f, const QString& key)
{
    const auto text = readString(f, key);
    if (!text)
        return std::nullopt;
    const QUrl url(*text, QUrl::StrictMode);
    if (url.isValid() && (url.scheme() == u"https" || url.scheme() == u"http") && !url.host().isEmpty())
        return text;
    error(f.find(key)->valuePos(),
        u"%1 %2 is not allowed: use an http:// or https:// URL with a host"_s.arg(
            f.field(key), NameRules::quoted(*text)));
    return std::nullopt;
}

void Parser::addReference(Target target, const Fields& f, const QString& key, const QString& name)
{
    m_references << Reference { target, f.field(key), name, f.find(key)->valuePos(), {} };
}

void Parser::readJournal(const Entry& e)
{
    // Like the list sections, an emptied-out journal section means the defaults.
    if (e.value.IsNull())
        return;
    const auto f = readMap(e, u"journal"_s, { u"path"_s, u"database"_s, u"keyEnv"_s });
    if (!f)
        return;
    if (const auto path = readLocalPath(*f, u"path"_s))
        m_inventory.journal.path = *path;
    if (const auto keyEnv = readEnvName(*f, u"keyEnv"_s))
        m_inventory.journal.keyEnv = *keyEnv;
    if (const auto database = readString(*f, u"database"_s)) {
        if (f->find(u"path"_s)) {
            error(f->find(u"database"_s)->valuePos(),
                u"journal database and journal path exclude each other: path is one admin's SQLite file, database "
                "the team's PostgreSQL journal; keep one"_s);
            return;
        }
        m_inventory.journal.database = *database;
        addReference(Target::Database, *f, u"database"_s, *database);
        m_postgresNeeds << PostgresNeed { *database, f->find(u"database"_s)->valuePos(),
            u"journal database %1 is a mysql database: the team journal"_s };
    }
}

// An undo mapping over the policy it inherits. Like the sections, an emptied-out one (or one without retention)
// changes nothing.
void Parser::readUndo(const Entry& e, const QString& what, UndoPolicy& undo)
{
    if (e.value.IsNull())
        return;
    const auto f = readMap(e, what, { u"retention"_s });
    if (!f)
        return;
    const QString allowed = u"a duration such as 30s, 15m, 12h or 7d, from 1s to 365d, or off"_s;
    const auto text = readScalar(*f, u"retention"_s, allowed);
    if (!text)
        return;
    if (const auto seconds = UndoPolicy::parseRetention(*text))
        undo.retentionSeconds = *seconds;
    else
        error(f->find(u"retention"_s)->valuePos(),
            u"%1 %2 is not allowed: use %3"_s.arg(f->field(u"retention"_s), NameRules::quoted(*text), allowed));
}

// An entry's effective undo policy: its own undo mapping, else the top-level one (read before every section).
UndoPolicy Parser::readUndo(const Fields& f)
{
    UndoPolicy undo = m_inventory.undo;
    if (const Entry* e = f.find(u"undo"_s))
        readUndo(*e, f.field(u"undo"_s), undo);
    return undo;
}

void Parser::readHost(const YAML::Node& node, NameSet& seen)
{
    const auto f = readMap(node, posOf(node), u"each hosts entry"_s, u"host"_s,
        { u"name"_s, u"address"_s, u"port"_s, u"user"_s, u"auth"_s, u"knownHostsFile"_s, u"tags"_s, u"outpackBase"_s,
            u"metricsDir"_s, u"commands"_s, u"instances"_s, u"undo"_s });
    if (!f)
        return;
    Host h;
    h.pos = f->pos;
    const auto name = readName(*f, seen);
    if (const auto address = requireString(*f, u"address"_s))
        h.address = *address;
    if (const auto port = readPort(*f, u"port"_s))
        h.port = *port;
    if (const auto user = readString(*f, u"user"_s))
        h.user = *user;
    readAuth(*f, h.auth);
    if (const auto file = readLocalPath(*f, u"knownHostsFile"_s))
        h.knownHostsFile = *file;
    h.tags = readTags(*f);
    bool baseOk = true;
    if (const auto base = readRemotePath(*f, u"outpackBase"_s)) {
        if (*base == u"/") {
            error(f->find(u"outpackBase"_s)->valuePos(),
                u"host outpackBase \"/\" is not allowed: instance data is deleted under it, so use the directory "
                "that holds the instances' roots"_s);
            baseOk = false;
        } else {
            h.outpackBase = *base;
        }
    } else if (f->find(u"outpackBase"_s)) {
        baseOk = false;
    }
    if (const auto dir = readRemotePath(*f, u"metricsDir"_s))
        h.metricsDir = *dir;
    h.commands = readCommands(*f);
    readInstances(*f, h, baseOk);
    h.undo = readUndo(*f);
    // Kept even when other fields are wrong, so references to this host do not add errors of their own.
    if (name) {
        h.name = *name;
        m_inventory.hosts << h;
    }
}

void Parser::readAuth(const Fields& host, HostAuth& auth)
{
    const QList<std::pair<QString, AuthMethod>> methods
        = { { u"key"_s, AuthMethod::Key }, { u"agent"_s, AuthMethod::Agent }, { u"password"_s, AuthMethod::Password } };
    const Entry* e = host.find(u"auth"_s);
    if (!e) {
        error(host.pos, u"host auth is required: give its method, one of key, agent, password"_s);
        return;
    }
    const auto f = readMap(*e, u"auth"_s, { u"method"_s, u"identityFile"_s, u"secretEnv"_s });
    if (!f)
        return;
    if (const auto secretEnv = readEnvName(*f, u"secretEnv"_s))
        auth.secretEnv = *secretEnv;
    if (const auto identityFile = readLocalPath(*f, u"identityFile"_s))
        auth.identityFile = *identityFile;
    if (!f->find(u"method"_s)) {
        error(f->pos, u"auth method is required: use one of key, agent, password"_s);
        return;
    }
    const auto method = readChoice(*f, u"method"_s, methods);
    if (!method)
        return;
    auth.method = *method;
    const Entry* identityFile = f->find(u"identityFile"_s);
    if (*method == AuthMethod::Key && !identityFile)
        error(f->pos, u"auth identityFile is required when method is key: give the private key's path"_s);
    if (*method != AuthMethod::Key && identityFile)
        error(posOf(identityFile->keyNode),
            u"auth identityFile is only allowed when method is key, not %1"_s.arg(
                QString::fromStdString(f->find(u"method"_s)->value.Scalar())));
}

QMap<QString, CommandTemplate> Parser::readCommands(const Fields& host)
{
    QMap<QString, CommandTemplate> commands;
    for (const QString& name : CommandTemplates::names())
        commands.insert(name, CommandTemplates::defaultFor(name));
    const Entry* e = host.find(u"commands"_s);
    if (!e || e->value.IsNull())
        return commands;
    const auto f = readMap(*e, u"commands"_s, CommandTemplates::names());
    if (!f)
        return commands;
    for (const Entry& command : f->entries) {
        if (const CommandTemplate argv = readTemplate(command, command.key); !argv.isEmpty())
            commands.insert(command.key, argv);
    }
    return commands;
}

// A command template given as a YAML list; empty (with the error reported) when it is not a valid one.
CommandTemplate Parser::readTemplate(const Entry& e, const QString& name)
{
    const QString what = u"command template "_s + name;
    CommandTemplate argv;
    bool ok = true;
    for (const YAML::Node& arg : readList(e, what)) {
        if (arg.IsScalar()) {
            argv << QString::fromStdString(arg.Scalar());
            continue;
        }
        // The usual cause: an unquoted {units...} is a YAML flow map.
        const CommandTemplate example = CommandTemplates::defaultFor(name);
        const auto placeholder
            = std::find_if(example.cbegin(), example.cend(), [](const QString& a) { return a.startsWith(u'{'); });
        error(posOf(arg),
            u"%1 arguments must be strings, not %2: quote placeholders, as in \"%3\""_s.arg(
                what, kindOf(arg), placeholder == example.cend() ? example.last() : *placeholder));
        ok = false;
    }
    if (!ok || (!e.value.IsNull() && !e.value.IsSequence()))
        return {};
    const QString problem = CommandTemplates::validate(name, argv);
    if (!problem.isEmpty()) {
        error(e.valuePos(), problem);
        return {};
    }
    return argv;
}

void Parser::readInstances(const Fields& host, Host& h, bool baseOk)
{
    const Entry* e = host.find(u"instances"_s);
    if (!e)
        return;
    NameSet seen;
    const QList<YAML::Node> items = readList(*e, u"host instances"_s);
    for (qsizetype i = 0; i < items.size(); ++i) {
        const YAML::Node& node = items[i];
        PackitInstance instance;
        instance.index = static_cast<int>(i);
        instance.outpackPort = static_cast<quint16>(8000 + i);
        instance.apiPort = static_cast<quint16>(8080 + i);
        instance.managementPort = static_cast<quint16>(8160 + i);
        instance.pos = posOf(node);
        std::optional<QString> name;
        std::optional<Fields> f;
        if (node.IsScalar()) {
            name = QString::fromStdString(node.Scalar());
            checkName(u"instance"_s, *name, instance.pos, seen);
        } else if (node.IsMap()) {
            f = readMap(node, instance.pos, u"each instances entry"_s, u"instance"_s,
                { u"name"_s, u"outpackPort"_s, u"apiPort"_s, u"managementPort"_s, u"outpackRoot"_s, u"database"_s });
            name = readName(*f, seen);
        } else {
            error(instance.pos, u"each instances entry must be a name or a map, not %1"_s.arg(kindOf(node)));
            continue;
        }
        if (name)
            instance.name = *name;
        instance.outpackRoot = h.outpackBase + u'/' + instance.name;
        if (f) {
            if (const auto port = readPort(*f, u"outpackPort"_s))
                instance.outpackPort = *port;
            if (const auto port = readPort(*f, u"apiPort"_s))
                instance.apiPort = *port;
            if (const auto port = readPort(*f, u"managementPort"_s))
                instance.managementPort = *port;
            if (const auto root = readRemotePath(*f, u"outpackRoot"_s)) {
                instance.outpackRoot = *root;
                if (baseOk && !NameRules::isStrictlyUnder(*root, h.outpackBase))
                    error(f->find(u"outpackRoot"_s)->valuePos(),
                        u"instance outpackRoot %1 is not allowed: it must lie strictly under the host's outpackBase "
                        "%2"_s.arg(NameRules::quoted(*root), NameRules::quoted(h.outpackBase)));
            }
            if (const auto database = readString(*f, u"database"_s)) {
                instance.database = *database;
                addReference(Target::Database, *f, u"database"_s, *database);
                m_postgresNeeds << PostgresNeed { *database, f->find(u"database"_s)->valuePos(),
                    u"instance database %1 is a mysql database: a Packit instance"_s };
            }
        }
        if (name)
            h.instances << instance;
    }
}

void Parser::readDatabase(const YAML::Node& node, NameSet& seen)
{
    const auto f = readMap(node, posOf(node), u"each databases entry"_s, u"database"_s,
        { u"name"_s, u"kind"_s, u"via"_s, u"address"_s, u"port"_s, u"socket"_s, u"database"_s, u"user"_s,
            u"passwordEnv"_s, u"tls"_s, u"caFile"_s, u"tags"_s, u"undo"_s });
    if (!f)
        return;
    Database d;
    d.pos = f->pos;
    const auto name = readName(*f, seen);
    if (const auto kind = readChoice(*f, u"kind"_s,
            QList<std::pair<QString, DatabaseKind>> {
                { u"postgres"_s, DatabaseKind::Postgres }, { u"mysql"_s, DatabaseKind::Mysql } }))
        d.kind = *kind;
    if (const auto via = readString(*f, u"via"_s)) {
        d.via = *via;
        addReference(Target::Host, *f, u"via"_s, *via);
    }
    if (const auto address = readString(*f, u"address"_s))
        d.address = *address;
    if (const auto port = readPort(*f, u"port"_s))
        d.port = *port;
    else if (!f->find(u"port"_s))
        d.port = d.kind == DatabaseKind::Mysql ? 3306 : 5432;
    if (const auto socket = readRemotePath(*f, u"socket"_s))
        d.socket = *socket;
    if (const auto database = requireString(*f, u"database"_s))
        d.database = *database;
    if (const auto user = requireString(*f, u"user"_s))
        d.user = *user;
    if (const auto passwordEnv = readEnvName(*f, u"passwordEnv"_s))
        d.passwordEnv = *passwordEnv;
    readDatabaseTls(*f, d);
    d.tags = readTags(*f);
    d.undo = readUndo(*f);
    if (name) {
        d.name = *name;
        m_inventory.databases << d;
    }
}

// libpq's sslmode, of the modes that insist on TLS, and the CA for the two that check the certificate. A CA file with
// a mode that does not check would look safer than it is, so it is refused.
void Parser::readDatabaseTls(const Fields& f, Database& d)
{
    const Entry* tls = f.find(u"tls"_s);
    const Entry* caFile = f.find(u"caFile"_s);
    if ((tls || caFile) && d.kind != DatabaseKind::Postgres) {
        error((tls ? tls : caFile)->valuePos(),
            u"database %1 is for postgres databases: opsdeck does not set up TLS for mysql ones"_s.arg(
                tls ? u"tls"_s : u"caFile"_s));
        return;
    }
    if (const auto mode = readChoice(f, u"tls"_s,
            QList<std::pair<QString, QString>> { { u"require"_s, u"require"_s }, { u"verify-ca"_s, u"verify-ca"_s },
                { u"verify-full"_s, u"verify-full"_s } }))
        d.tls = *mode;
    if (const auto path = readLocalPath(f, u"caFile"_s)) {
        if (d.tls != u"verify-ca"_s && d.tls != u"verify-full"_s)
            error(caFile->valuePos(),
                u"database caFile needs tls verify-ca or verify-full, which check the server's certificate against "
                "it"_s);
        else
            d.caFile = *path;
    }
}

void Parser::readCluster(const YAML::Node& node, NameSet& seen)
{
    const auto f = readMap(node, posOf(node), u"each clusters entry"_s, u"cluster"_s,
        { u"name"_s, u"kubeconfig"_s, u"context"_s, u"namespaces"_s, u"tokenEnv"_s, u"tags"_s, u"undo"_s });
    if (!f)
        return;
    Cluster c;
    c.pos = f->pos;
    const auto name = readName(*f, seen);
    if (const Entry* kubeconfig = f->find(u"kubeconfig"_s))
        c.kubeconfig = readKubeconfigFiles(*kubeconfig);
    // Any string: kubeconfig contexts are named like "fg/api-example-org:6443/alice". It is only ever looked up.
    if (const auto context = readString(*f, u"context"_s))
        c.context = *context;
    if (const Entry* namespaces = f->find(u"namespaces"_s))
        c.namespaces = readNamespaces(*namespaces);
    if (const auto tokenEnv = readEnvName(*f, u"tokenEnv"_s))
        c.tokenEnv = *tokenEnv;
    c.tags = readTags(*f);
    c.undo = readUndo(*f);
    if (name) {
        c.name = *name;
        m_inventory.clusters << c;
    }
}

// A list of files, or one string of them joined by ':' as $KUBECONFIG writes them.
QStringList Parser::readKubeconfigFiles(const Entry& e)
{
    const QString what = u"cluster kubeconfig"_s;
    const qsizetype errorsBefore = m_errors.size();
    QStringList files;
    if (e.value.IsScalar()) {
        for (const QString& file : QString::fromStdString(e.value.Scalar()).split(u':', Qt::SkipEmptyParts))
            files << expandHome(file);
    } else {
        for (const YAML::Node& item : readList(e, what)) {
            if (!item.IsScalar() || item.Scalar().empty())
                error(posOf(item), u"%1 entries must be file names, not %2"_s.arg(what, kindOf(item)));
            else
                files << expandHome(QString::fromStdString(item.Scalar()));
        }
    }
    if (files.isEmpty() && m_errors.size() == errorsBefore)
        error(e.valuePos(), u"%1 must name a file; leave it out for $KUBECONFIG, then ~/.kube/config"_s.arg(what));
    return files;
}

// Namespaces go into API paths, so each is held to Kubernetes' own rule for them.
QStringList Parser::readNamespaces(const Entry& e)
{
    const QString what = u"cluster namespaces"_s;
    QStringList names;
    if (e.value.IsNull() || (e.value.IsSequence() && e.value.size() == 0)) {
        error(e.valuePos(), u"%1 must list at least one namespace; leave it out for the context's"_s.arg(what));
        return names;
    }
    QHash<QString, int> seen;
    for (const YAML::Node& item : readList(e, what)) {
        if (!item.IsScalar()) {
            error(posOf(item), u"%1 entries must be names, not %2"_s.arg(what, kindOf(item)));
            continue;
        }
        const QString name = QString::fromStdString(item.Scalar());
        if (const QString problem = NameRules::dnsLabelError(u"cluster namespace"_s, name); !problem.isEmpty())
            error(posOf(item), problem);
        else if (seen.contains(name))
            error(posOf(item),
                u"duplicate cluster namespace %1: already listed at line %2"_s.arg(
                    NameRules::quoted(name), QString::number(seen.value(name))));
        else {
            seen.insert(name, posOf(item).line);
            names << name;
        }
    }
    return names;
}

void Parser::readDatamon(const YAML::Node& node, NameSet& seen)
{
    const auto f = readMap(node, posOf(node), u"each datamon entry"_s, u"datamon"_s,
        { u"name"_s, u"context"_s, u"config"_s, u"host"_s, u"binary"_s, u"gcloud"_s, u"workDir"_s, u"minFreeGiB"_s,
            u"environment"_s, u"jobs"_s, u"tags"_s, u"undo"_s, u"trash"_s });
    if (!f)
        return;
    DatamonContext d;
    d.pos = f->pos;
    const auto name = readName(*f, seen);
    // Both become parts of GCS object names (contexts/<context>/context.yaml) and datamon arguments.
    if (!f->find(u"context"_s))
        error(f->pos, u"datamon context is required"_s);
    else if (const auto c = readString(*f, u"context"_s)) {
        if (const QString problem = NameRules::datamonContextError(u"datamon context"_s, *c); !problem.isEmpty())
            error(f->find(u"context"_s)->valuePos(), problem);
        else
            d.context = *c;
    }
    // GCS's bucket name rule (without the dotted, domain-named form's 222-character allowance).
    static const QRegularExpression bucket(u"^[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9]\\z"_s);
    if (!f->find(u"config"_s))
        error(f->pos, u"datamon config is required: the config bucket datamon --config names, without gs://"_s);
    else if (const auto b = readPattern(*f, u"config"_s, bucket,
                 u"a bucket name of 3-63 lowercase letters, digits, '_', '.', '-', without gs://"_s))
        d.config = *b;
    if (const auto host = readString(*f, u"host"_s)) {
        d.host = *host;
        addReference(Target::Host, *f, u"host"_s, *host);
    }
    for (const auto& [key, field] : { std::pair(u"binary"_s, &d.binary), std::pair(u"gcloud"_s, &d.gcloud) })
        readExecutable(*f, key, field);
    if (const auto workDir = readRemotePath(*f, u"workDir"_s))
        d.workDir = *workDir;
    if (const auto gib = readCount(*f, u"minFreeGiB"_s, 0, 100000))
        d.minFreeGiB = *gib;
    // Where a repo delete keeps the repo's metadata for its undo window: objects are written under it.
    static const QRegularExpression trash(
        u"^gs://[a-z0-9][a-z0-9_.-]{1,61}[a-z0-9](/(?!\\.\\.?(/|\\z))[A-Za-z0-9_.-]+)*\\z"_s);
    if (const auto t = readPattern(*f, u"trash"_s, trash,
            u"gs://BUCKET or gs://BUCKET/PREFIX, the prefix of letters, digits, '_', '.', '-' separated by '/' (no '.' "
            "or '..' part)"_s))
        d.trash = *t;
    if (const Entry* environment = f->find(u"environment"_s))
        d.environment = readEnvironment(*environment, u"datamon environment"_s, u"datamon2 on the host"_s);
    if (const Entry* jobs = f->find(u"jobs"_s))
        d.jobs = readDatamonJobs(*jobs);
    d.tags = readTags(*f);
    d.undo = readUndo(*f);
    if (name) {
        d.name = *name;
        m_inventory.datamon << d;
    }
}

void Parser::readExecutable(const Fields& f, const QString& key, QString* into)
{
    static const QRegularExpression command(u"^([A-Za-z0-9_.+-]+|(/[A-Za-z0-9_.+-]+)+)\\z"_s);
    const QString commandRule = u"a command name or an absolute path of letters, digits, '_', '.', '+', '-'"_s;
    if (const auto c = readPattern(f, key, command, commandRule)) {
        if (c->split(u'/').contains(u".."_s))
            error(f.find(key)->valuePos(), u"%1 must not contain \"..\""_s.arg(f.field(key)));
        else
            *into = *c;
    }
}

std::optional<DatamonJobs> Parser::readDatamonJobs(const Entry& e)
{
    const auto f = readMap(e, u"datamon jobs"_s,
        { u"cluster"_s, u"namespace"_s, u"image"_s, u"binary"_s, u"serviceAccount"_s, u"volumeClaim"_s });
    if (!f)
        return std::nullopt;
    const qsizetype errorsBefore = m_errors.size();
    DatamonJobs jobs;
    if (const auto cluster = requireString(*f, u"cluster"_s)) {
        jobs.cluster = *cluster;
        addReference(Target::Cluster, *f, u"cluster"_s, *cluster);
    }
    const auto dnsName = [&](const QString& key, QString* into, bool required) {
        const auto value = required ? requireString(*f, key) : readString(*f, key);
        if (!value)
            return;
        if (const QString problem = NameRules::dnsLabelError(f->field(key), *value); !problem.isEmpty())
            error(f->find(key)->valuePos(), problem);
        else
            *into = *value;
    };
    dnsName(u"namespace"_s, &jobs.jobNamespace, true);
    dnsName(u"serviceAccount"_s, &jobs.serviceAccount, false);
    dnsName(u"volumeClaim"_s, &jobs.volumeClaim, false);
    // An image reference: registry/path:tag or @sha256:digest; no spaces or shell characters.
    static const QRegularExpression image(u"^[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9_.-]+|@sha256:[0-9a-f]{64})?\\z"_s);
    if (!f->find(u"image"_s))
        error(f->pos,
            u"datamon jobs image is required: the datamon image the Jobs run, e.g. gcr.io/onec-co/datamon:v2.6.9"_s);
    else if (const auto i = readPattern(*f, u"image"_s, image, u"an image reference such as registry/datamon:v2.6.9"_s))
        jobs.image = *i;
    readExecutable(*f, u"binary"_s, &jobs.binary);
    if (m_errors.size() != errorsBefore)
        return std::nullopt;
    return jobs;
}

void Parser::readMachine(const YAML::Node& node, NameSet& seen)
{
    const auto f = readMap(node, posOf(node), u"each machines entry"_s, u"machine"_s,
        { u"name"_s, u"host"_s, u"metrics"_s, u"domain"_s, u"metricsProxy"_s, u"landingUrl"_s, u"instanceApiUrl"_s,
            u"tags"_s });
    if (!f)
        return;
    const qsizetype errorsBefore = m_errors.size();
    DeployMachine m;
    m.pos = f->pos;
    const auto name = readName(*f, seen);
    // Unset when the value is wrong, so that the host rule below adds no second error.
    const std::optional<MetricsSource> metrics = !f->find(u"metrics"_s)
        ? MetricsSource::Ssh
        : readChoice(*f, u"metrics"_s,
            QList<std::pair<QString, MetricsSource>> {
                { u"ssh"_s, MetricsSource::Ssh }, { u"http"_s, MetricsSource::Http } });
    if (metrics)
        m.metrics = *metrics;
    if (const auto host = readString(*f, u"host"_s)) {
        m.host = *host;
        addReference(Target::Host, *f, u"host"_s, *host);
    } else if (name && !f->find(u"host"_s)) {
        m.host = *name;
        // Only SSH metrics reach the machine through a host entry; an HTTP-only machine needs none. A bad name
        // has been reported already.
        if (metrics == MetricsSource::Ssh && NameRules::isValidName(*name))
            m_references << Reference { Target::Host, u"machine host"_s, *name, f->find(u"name"_s)->valuePos(),
                u" (host defaults to the machine's name when metrics is ssh)"_s };
    }
    // The domain goes into URLs, so it is held to host-name characters.
    static const QRegularExpression domainPattern(u"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?\\z"_s);
    if (const auto domain = readPattern(*f, u"domain"_s, domainPattern, u"a DNS name such as packit.example.org"_s))
        m.domain = *domain;
    if (const auto url = readUrl(*f, u"metricsProxy"_s))
        m.metricsProxy = *url;
    if (const auto url = readUrl(*f, u"landingUrl"_s))
        m.landingUrl = *url;
    if (const auto url = readString(*f, u"instanceApiUrl"_s)) {
        const QString where = f->field(u"instanceApiUrl"_s);
        const QUrl example(QString(*url).replace(u"{instance}"_s, u"instance"_s), QUrl::StrictMode);
        if (!url->contains(u"{instance}"_s))
            error(f->find(u"instanceApiUrl"_s)->valuePos(),
                u"%1 %2 must contain {instance}, which is replaced by each instance's name"_s.arg(
                    where, NameRules::quoted(*url)));
        else if (!example.isValid() || !example.scheme().startsWith(u"http"_s) || example.host().isEmpty())
            error(f->find(u"instanceApiUrl"_s)->valuePos(),
                u"%1 %2 is not allowed: use an http:// or https:// URL with a host"_s.arg(
                    where, NameRules::quoted(*url)));
        else
            m.instanceApiUrl = *url;
    }
    m.tags = readTags(*f);
    if (name && m_errors.size() != errorsBefore)
        m_machinesWithErrors.insert(*name);
    if (name) {
        m.name = *name;
        m_inventory.machines << m;
    }
}

std::optional<QString> Parser::readPattern(
    const Fields& f, const QString& key, const QRegularExpression& pattern, const QString& allowed)
{
    const auto text = readString(f, key);
    if (!text || pattern.match(*text).hasMatch())
        return text;
    error(f.find(key)->valuePos(),
        u"%1 %2 is not allowed: use %3"_s.arg(f.field(key), NameRules::quoted(*text), allowed));
    return std::nullopt;
}

void Parser::readGithub(const Entry& e)
{
    if (e.value.IsNull())
        return;
    const auto f = readMap(e, u"github"_s, { u"apiUrl"_s, u"caFile"_s, u"tokenEnv"_s, u"apiVersion"_s });
    if (!f)
        return;
    GithubConfig& g = m_inventory.github;
    if (const auto url = readUrl(*f, u"apiUrl"_s)) {
        // The token goes with every call: never in clear text over a network.
        const QUrl parsed(*url);
        const bool loopback = parsed.host() == u"localhost"_s || QHostAddress(parsed.host()).isLoopback();
        if (parsed.scheme() != u"https"_s && !loopback)
            error(f->find(u"apiUrl"_s)->valuePos(),
                u"github apiUrl %1 is not allowed: use https:// (the token is sent with every call)"_s.arg(
                    NameRules::quoted(*url)));
        else
            g.apiUrl = url->endsWith(u'/') ? url->chopped(1) : *url;
    }
    if (const auto caFile = readLocalPath(*f, u"caFile"_s))
        g.caFile = *caFile;
    if (const auto tokenEnv = readEnvName(*f, u"tokenEnv"_s))
        g.tokenEnv = *tokenEnv;
    // The two versions the REST API documents; GitHub answers 400 to any other.
    static const QRegularExpression version(u"^(2022-11-28|2026-03-10)\\z"_s);
    if (const auto v = readPattern(*f, u"apiVersion"_s, version, u"2022-11-28 or 2026-03-10"_s))
        g.apiVersion = *v;
}

void Parser::readDeploy(const Entry& e)
{
    if (e.value.IsNull())
        return;
    const auto f = readMap(e, u"deploy"_s,
        { u"repository"_s, u"branch"_s, u"sourceMetricsUrl"_s, u"updateWorkflow"_s, u"updateHead"_s, u"staging"_s,
            u"command"_s, u"environment"_s, u"undo"_s });
    if (!f)
        return;
    DeployConfig& d = m_inventory.deploy;
    d.pos = f->pos;
    static const QRegularExpression repository(u"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+\\z"_s);
    if (!f->find(u"repository"_s))
        error(f->pos, u"deploy repository is required: the GitHub repository deployed, as owner/repo"_s);
    else if (const auto r = readPattern(*f, u"repository"_s, repository, u"owner/repo (letters, digits, _ . -)"_s))
        d.repository = *r;
    static const QRegularExpression branch(u"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\\z"_s);
    if (const auto b = readPattern(*f, u"branch"_s, branch, u"a branch name of letters, digits and ._/-"_s))
        d.branch = *b;
    if (const auto url = readUrl(*f, u"sourceMetricsUrl"_s))
        d.sourceMetricsUrl = *url;
    else if (!d.repository.isEmpty())
        d.sourceMetricsUrl = u"https://%1.github.io/%2/metrics"_s.arg(d.owner(), d.repo());
    static const QRegularExpression workflow(u"^([0-9]+|[A-Za-z0-9_.-]+\\.ya?ml)\\z"_s);
    if (const auto w = readPattern(*f, u"updateWorkflow"_s, workflow, u"a workflow file name such as update.yaml"_s))
        d.updateWorkflow = *w;
    static const QRegularExpression head(u"^[A-Za-z0-9_.-]+:[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*\\z"_s);
    if (const auto h = readPattern(*f, u"updateHead"_s, head, u"owner:branch, as GitHub's head filter needs"_s))
        d.updateHead = *h;
    else if (!d.repository.isEmpty())
        d.updateHead = d.owner() + u":actions/update-packages"_s;
    if (const auto staging = readString(*f, u"staging"_s)) {
        d.staging = *staging;
        m_staging = std::pair(*staging, f->find(u"staging"_s)->valuePos());
    }
    d.command = CommandTemplates::defaultFor(u"deploy"_s);
    if (const Entry* command = f->find(u"command"_s)) {
        if (const CommandTemplate argv = readTemplate(*command, u"deploy"_s); !argv.isEmpty())
            d.command = argv;
    }
    if (const Entry* environment = f->find(u"environment"_s))
        d.environment = readEnvironment(*environment, u"deploy environment"_s, u"the deploy command"_s);
    d.undo = readUndo(*f);
}

QStringList Parser::readEnvironment(const Entry& e, const QString& what, const QString& child)
{
    QStringList names;
    for (const YAML::Node& item : readList(e, what)) {
        const QString name = item.IsScalar() ? QString::fromStdString(item.Scalar()) : QString();
        if (!item.IsScalar())
            error(posOf(item), u"%1 entries must be variable names, not %2"_s.arg(what, kindOf(item)));
        else if (!isEnvName(name))
            error(posOf(item), envNameError(what + u" entry"_s, name));
        else {
            names << name;
            m_childEnvironment << PassedVariable { name, posOf(item), what, child };
        }
    }
    return names;
}

// Variables passed to a child (the deploy command runs code from pull requests; datamon2 runs on a shared bastion):
// none of the inventory's secret variables may reach one.
void Parser::checkChildEnvironment()
{
    QMap<QString, QString> secrets; // variable -> the field that names it
    for (const Host& h : std::as_const(m_inventory.hosts))
        secrets.insert(h.auth.secretEnv, u"the secretEnv of host "_s + h.name);
    for (const Database& d : std::as_const(m_inventory.databases))
        secrets.insert(d.passwordEnv, u"the passwordEnv of database "_s + d.name);
    for (const Cluster& c : std::as_const(m_inventory.clusters))
        secrets.insert(c.tokenEnv, u"the tokenEnv of cluster "_s + c.name);
    secrets.insert(m_inventory.github.tokenEnv, u"github tokenEnv"_s);
    secrets.insert(m_inventory.journal.keyEnv, u"journal keyEnv"_s);
    secrets.remove(QString());
    for (const PassedVariable& v : std::as_const(m_childEnvironment)) {
        if (secrets.contains(v.name))
            error(v.pos,
                u"%1 entry %2 is %3, a secret: %4 must not get it; remove it from %1"_s.arg(
                    v.field, NameRules::quoted(v.name), secrets.value(v.name), v.child));
    }
}

// Fills in what a machine's defaults derive from its host, once every host is known.
void Parser::completeMachines()
{
    for (DeployMachine& m : m_inventory.machines) {
        const Host* host = m_inventory.host(m.host);
        if (!host && m.metrics == MetricsSource::Http)
            m.host.clear();
        if (m.domain.isEmpty() && host)
            m.domain = host->address;
        // An SSH machine without its host has its error already.
        const bool checked = !m_machinesWithErrors.contains(m.name) && (host || m.metrics == MetricsSource::Http);
        if (checked && m.domain.isEmpty()
            && (m.metricsProxy.isEmpty() || m.landingUrl.isEmpty() || m.instanceApiUrl.isEmpty()))
            error(m.pos,
                u"machine %1 needs a domain (there is no host entry named %1 to take its address from), or all of "
                "metricsProxy, landingUrl and instanceApiUrl"_s.arg(NameRules::quoted(m.name)));
        if (m.metricsProxy.isEmpty())
            m.metricsProxy = u"http://%1:9000"_s.arg(m.domain);
        if (m.landingUrl.isEmpty())
            m.landingUrl = u"https://%1/"_s.arg(m.domain);
        if (m.instanceApiUrl.isEmpty())
            m.instanceApiUrl = u"https://{instance}.%1/packit/api"_s.arg(m.domain);
        if (m.metricsProxy.endsWith(u'/'))
            m.metricsProxy.chop(1);
    }
    if (m_staging && !m_inventory.machine(m_staging->first)) {
        QStringList names;
        for (const DeployMachine& m : std::as_const(m_inventory.machines))
            names << m.name;
        error(m_staging->second,
            u"deploy staging %1 is not defined in machines: %2"_s.arg(
                NameRules::quoted(m_staging->first), names.isEmpty() ? u"add it there"_s : oneOf(names)));
    }
}

void Parser::checkReferences()
{
    for (const Reference& r : m_references) {
        QStringList names;
        QString section;
        if (r.target == Target::Host) {
            if (m_inventory.host(r.name))
                continue;
            for (const Host& h : std::as_const(m_inventory.hosts))
                names << h.name;
            section = u"hosts"_s;
        } else if (r.target == Target::Database) {
            if (m_inventory.database(r.name))
                continue;
            for (const Database& d : std::as_const(m_inventory.databases))
                names << d.name;
            section = u"databases"_s;
        } else {
            if (m_inventory.cluster(r.name))
                continue;
            for (const Cluster& c : std::as_const(m_inventory.clusters))
                names << c.name;
            section = u"clusters"_s;
        }
        error(r.pos,
            u"%1 %2%3 is not defined in %4: %5"_s.arg(r.field, NameRules::quoted(r.name), r.note, section,
                names.isEmpty() ? u"add it there"_s : oneOf(names)));
    }
    for (const PostgresNeed& need : std::as_const(m_postgresNeeds)) {
        const Database* d = m_inventory.database(need.name);
        if (d && d->kind != DatabaseKind::Postgres)
            error(need.pos, u"%1 needs kind postgres"_s.arg(need.who.arg(NameRules::quoted(need.name))));
    }
}

InventoryLoadResult Parser::run(const QByteArray& yaml)
{
    std::vector<YAML::Node> documents;
    try {
        const std::string text = yaml.toStdString();
        if (const auto stuck = stuckAt(text)) {
            error({ stuck->line + 1, stuck->column + 1 },
                u"YAML syntax error: unexpected %1 where a document should start"_s.arg(
                    NameRules::quoted(QString::fromLatin1(text.substr(static_cast<std::size_t>(stuck->pos), 1)))));
            return { std::nullopt, m_errors };
        }
        documents = YAML::LoadAll(text);
    } catch (const YAML::Exception& e) {
        error({ e.mark.line + 1, e.mark.column + 1 }, u"YAML syntax error: %1"_s.arg(QString::fromStdString(e.msg)));
        return { std::nullopt, m_errors };
    }
    // Empty documents, as a stray trailing "---" makes, hold nothing that could be lost.
    documents.erase(std::remove_if(documents.begin(), documents.end(), [](const YAML::Node& d) { return d.IsNull(); }),
        documents.end());
    if (documents.size() > 1)
        error(posOf(documents[1]), u"the inventory must be a single YAML document: remove the second one"_s);

    if (!documents.empty()) {
        const YAML::Node& root = documents.front();
        if (const auto top = readMap(root, posOf(root), u"the inventory"_s, u"the inventory"_s, kSections)) {
            const auto readSection = [&](const QString& key, auto readEntry) {
                const Entry* e = top->find(key);
                if (!e)
                    return;
                NameSet seen;
                for (const YAML::Node& node : readList(*e, key))
                    (this->*readEntry)(node, seen);
            };
            // First, wherever it stands in the file: every entry without an undo of its own inherits it.
            if (const Entry* undo = top->find(u"undo"_s))
                readUndo(*undo, u"undo"_s, m_inventory.undo);
            m_inventory.deploy.undo = m_inventory.undo;
            if (const Entry* journal = top->find(u"journal"_s))
                readJournal(*journal);
            readSection(u"hosts"_s, &Parser::readHost);
            readSection(u"databases"_s, &Parser::readDatabase);
            readSection(u"clusters"_s, &Parser::readCluster);
            readSection(u"datamon"_s, &Parser::readDatamon);
            readSection(u"machines"_s, &Parser::readMachine);
            if (const Entry* github = top->find(u"github"_s))
                readGithub(*github);
            if (const Entry* deploy = top->find(u"deploy"_s))
                readDeploy(*deploy);
            checkReferences();
            completeMachines();
            checkChildEnvironment();
        }
    }

    std::stable_sort(m_errors.begin(), m_errors.end(), [](const InventoryError& a, const InventoryError& b) {
        return std::pair(a.line, a.column) < std::pair(b.line, b.column);
    });
    if (!m_errors.isEmpty())
        return { std::nullopt, m_errors };
    return { m_inventory, {} };
}

} // namespace

InventoryLoadResult InventoryLoader::loadFile(const QString& path)
{
    QFile file(path);
    if (!file.exists())
        return { std::nullopt,
            { InventoryError { path, 0, 0,
                u"no such file: name the inventory with --inventory FILE or OPSDECK_INVENTORY, or create it at "_s
                    + defaultPath() } } };
    if (!file.open(QIODevice::ReadOnly))
        return { std::nullopt, { InventoryError { path, 0, 0, u"cannot read: "_s + file.errorString() } } };
    const QByteArray yaml = file.readAll();
    if (file.error() != QFileDevice::NoError)
        return { std::nullopt, { InventoryError { path, 0, 0, u"cannot read: "_s + file.errorString() } } };
    return loadString(yaml, path);
}

InventoryLoadResult InventoryLoader::loadString(const QByteArray& yaml, const QString& fileName)
{
    return Parser(fileName).run(yaml);
}

QString InventoryLoader::defaultPath()
{
    return QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) + u"/opsdeck/inventory.yaml"_s;
}

QString InventoryLoader::resolvePath(const QString& cliValue)
{
    if (!cliValue.isEmpty())
        return cliValue;
    const QString fromEnvironment = qEnvironmentVariable("OPSDECK_INVENTORY");
    return fromEnvironment.isEmpty() ? defaultPath() : fromEnvironment;
}

} // namespace opsdeck
