#include "secrets/TerminalPrompter.h"

#include <QByteArray>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <termios.h>
#include <unistd.h>

#include <iterator>
#include <utility>

namespace opsdeck {

namespace {

// What the signal handler needs to give the terminal back. A prompt killed by Ctrl-C must not leave the user's shell
// with echo off.
int echoOffFd = -1;
termios savedTermios;
constexpr int restoringSignals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
struct sigaction previousActions[std::size(restoringSignals)];

void restorePreviousActions()
{
    for (std::size_t i = 0; i < std::size(restoringSignals); ++i)
        sigaction(restoringSignals[i], &previousActions[i], nullptr);
}

// Only async-signal-safe calls (tcsetattr, sigaction, raise). The signal is re-raised with the previous action, which
// runs once this handler returns: by default it ends the process, now with the terminal restored.
void restoreTerminalAndReraise(int signal)
{
    tcsetattr(echoOffFd, TCSAFLUSH, &savedTermios);
    restorePreviousActions();
    raise(signal);
}

// Turns echo off on the terminal for its lifetime.
class EchoOff
{
public:
    explicit EchoOff(int fd)
    {
        if (tcgetattr(fd, &savedTermios) != 0)
            return;
        echoOffFd = fd;
        struct sigaction action = {};
        action.sa_handler = restoreTerminalAndReraise;
        sigemptyset(&action.sa_mask);
        for (std::size_t i = 0; i < std::size(restoringSignals); ++i)
            sigaction(restoringSignals[i], &action, &previousActions[i]);

        termios silent = savedTermios;
        silent.c_lflag &= ~static_cast<tcflag_t>(ECHO | ECHONL);
        // TCSAFLUSH drops typeahead: keys pressed before the prompt appeared were not meant as this secret.
        m_active = tcsetattr(fd, TCSAFLUSH, &silent) == 0;
        if (!m_active)
            restorePreviousActions();
    }
    ~EchoOff()
    {
        if (!m_active)
            return;
        tcsetattr(echoOffFd, TCSAFLUSH, &savedTermios);
        restorePreviousActions();
    }
    EchoOff(const EchoOff&) = delete;
    EchoOff& operator=(const EchoOff&) = delete;

    bool active() const { return m_active; }

private:
    bool m_active = false;
};

bool writeAll(int fd, const QByteArray& bytes)
{
    qsizetype written = 0;
    while (written < bytes.size()) {
        const ssize_t n = ::write(fd, bytes.constData() + written, static_cast<std::size_t>(bytes.size() - written));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        written += n;
    }
    return true;
}

// One line without its newline; std::nullopt on end of input (Ctrl-D on an empty line) or an error.
std::optional<QString> readLine(int fd)
{
    QByteArray line;
    for (;;) {
        char c = 0;
        const ssize_t n = ::read(fd, &c, 1);
        if (n != 1)
            return std::nullopt;
        if (c == '\n')
            return QString::fromLocal8Bit(line);
        line.append(c);
    }
}

class FileDescriptor
{
public:
    explicit FileDescriptor(int fd)
        : m_fd(fd)
    {
    }
    ~FileDescriptor()
    {
        if (m_fd >= 0)
            ::close(m_fd);
    }
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;

    int get() const { return m_fd; }

private:
    int m_fd;
};

} // namespace

TerminalPrompter::TerminalPrompter(const QString& ttyPath)
    : m_ttyPath(ttyPath)
{
}

void TerminalPrompter::ask(const Request& request, std::function<void(std::optional<QString>)> done)
{
    const FileDescriptor tty(::open(m_ttyPath.toLocal8Bit().constData(), O_RDWR | O_NOCTTY | O_CLOEXEC));
    if (tty.get() < 0 || !isatty(tty.get()))
        return done(std::nullopt);

    std::optional<QString> answer;
    {
        const EchoOff echoOff(tty.get());
        if (!echoOff.active())
            return done(std::nullopt);

        QByteArray text;
        if (!request.willBeRemembered)
            text += "(no OS keychain: the answer is kept for this run only)\n";
        text += (request.label.isEmpty() ? request.key : request.label).toLocal8Bit() + ": ";
        if (writeAll(tty.get(), text))
            answer = readLine(tty.get());
    }
    // The user's Enter was not echoed either.
    writeAll(tty.get(), "\n");
    done(std::move(answer));
}

} // namespace opsdeck
