// The readers of GitHub's answers (services/deploy/GithubClient, UpdatePull) on an arbitrary HTTP response, given
// as `curl -si` prints one: a status line, headers, a blank line, the body. The corpus holds the GitHub
// stand-in's answers.
#include "deploy/GithubClient.h"
#include "deploy/UpdatePull.h"

#include <QJsonDocument>

#include <cstddef>
#include <cstdint>

namespace {

opsdeck::HttpResponse responseFrom(const QByteArray& input)
{
    opsdeck::HttpResponse response;
    qsizetype pos = 0;
    bool statusLine = true;
    while (pos < input.size()) {
        qsizetype end = input.indexOf('\n', pos);
        if (end < 0)
            end = input.size();
        const QByteArray line = input.mid(pos, end - pos).trimmed();
        pos = end + 1;
        if (line.isEmpty())
            break;
        if (statusLine) {
            response.status = line.split(' ').value(1).toInt();
            statusLine = false;
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (colon > 0)
            response.headers.append({ line.left(colon).trimmed(), line.mid(colon + 1).trimmed() });
    }
    response.body = input.mid(pos);
    return response;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    using namespace opsdeck;
    static const GithubClient client = [] {
        GithubConfig github;
        github.apiUrl = QStringLiteral("https://api.github.com");
        DeployConfig deploy;
        deploy.repository = QStringLiteral("reside-ic/packit-infra");
        return GithubClient(github, deploy, QStringLiteral("token"));
    }();
    const HttpResponse response
        = responseFrom(QByteArray(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size)));
    (void)client.describe(
        "GET", QStringLiteral("https://api.github.com/repos/reside-ic/packit-infra/pulls/1"), response);
    (void)GithubClient::nextLink(response.header("link"));
    const QJsonArray items = GithubClient::listItems(response.body);
    const UpdatePull pull = UpdatePull::fromJson(QJsonDocument::fromJson(response.body).object(), items, items);
    (void)pull.checksSummary();
    (void)pull.toJson();
    return 0;
}
