#pragma once

#include "deploy/UpdatePull.h"

#include <QTextBrowser>

namespace opsdeck {

// The update pull request's details in the Deploy pane: its head, commits and checks, then its body rendered as
// GitHub renders its markdown (headings, lists, code, tables, links). The body comes from whoever wrote the pull
// request, so nothing in it acts on its own: its HTML is dropped, nothing is loaded for it (no images, local or
// remote), and a link opens in the desktop's browser when clicked, and only an http, https or mailto one.
class PullRequestBrowser : public QTextBrowser
{
    Q_OBJECT
public:
    explicit PullRequestBrowser(QWidget* parent = nullptr);

    void showPull(const UpdatePull& pull);

    // The markdown showPull renders: the facts with their text escaped, then the body as it is.
    static QString markdown(const UpdatePull& pull);
    // Text shown as it is in markdown (every ASCII punctuation character escaped).
    static QString escaped(const QString& text);
    // Whether a clicked link is opened (in the desktop's browser).
    static bool opens(const QUrl& url);

protected:
    QVariant loadResource(int type, const QUrl& name) override;
};

} // namespace opsdeck
