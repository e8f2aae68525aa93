#include "PullRequestBrowser.h"

#include <QDesktopServices>
#include <QImage>

namespace opsdeck {

PullRequestBrowser::PullRequestBrowser(QWidget* parent)
    : QTextBrowser(parent)
{
    // Links are ours to open (or not): QTextBrowser would otherwise follow them itself.
    setOpenLinks(false);
    setOpenExternalLinks(false);
    connect(this, &QTextBrowser::anchorClicked, this, [](const QUrl& url) {
        if (opens(url))
            QDesktopServices::openUrl(url);
    });
}

void PullRequestBrowser::showPull(const UpdatePull& pull)
{
    // GitHub's dialect without its HTML, and without md4c's permissive e-mail autolinks, which take an update
    // body's "mrc-ide/packit@fd4c1d9...d015ea4" for an address.
    constexpr int permissiveEmailAutolinks = 0x0008;
    const int features
        = (QTextDocument::MarkdownDialectGitHub | QTextDocument::MarkdownNoHTML) & ~permissiveEmailAutolinks;
    document()->setMarkdown(markdown(pull), QTextDocument::MarkdownFeatures(QFlag(features)));
}

QString PullRequestBrowser::markdown(const UpdatePull& pull)
{
    QStringList parts { tr("Head `%1`").arg(pull.headSha) };
    QStringList commits;
    for (const UpdatePull::Commit& c : pull.commits)
        commits << QStringLiteral("- `%1` %2").arg(c.sha.left(10), escaped(c.message));
    parts << tr("**Commits**") + QStringLiteral("\n\n") + (commits.isEmpty() ? tr("none") : commits.join(u'\n'));
    QStringList checks;
    for (const UpdatePull::Check& c : pull.checks)
        checks << QStringLiteral("- %1: %2 %3").arg(escaped(c.name), escaped(c.status), escaped(c.conclusion));
    parts << tr("**Checks**") + QStringLiteral("\n\n") + (checks.isEmpty() ? tr("none") : checks.join(u'\n'));
    if (!pull.body.trimmed().isEmpty())
        parts << QStringLiteral("---") << pull.body;
    return parts.join(QStringLiteral("\n\n"));
}

QString PullRequestBrowser::escaped(const QString& text)
{
    // CommonMark's backslash escapes: any ASCII punctuation character.
    static const QString punctuation = QStringLiteral("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~");
    QString result;
    result.reserve(text.size() * 2);
    for (const QChar c : text) {
        if (punctuation.contains(c))
            result += u'\\';
        result += c;
    }
    return result;
}

bool PullRequestBrowser::opens(const QUrl& url)
{
    const QString scheme = url.scheme().toLower();
    return url.isValid() && (scheme == u"https" || scheme == u"http" || scheme == u"mailto");
}

QVariant PullRequestBrowser::loadResource(int type, const QUrl&)
{
    // Something empty rather than nothing: given nothing, QTextDocument reads a local file itself.
    if (type == QTextDocument::ImageResource)
        return QVariant::fromValue(QImage());
    return QVariant::fromValue(QString());
}

} // namespace opsdeck
