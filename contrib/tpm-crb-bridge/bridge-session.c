/*
 * Copyright (c) 2026 The tpm-crb-chunk authors
 * SPDX-License-Identifier: GPL-2.0-or-later
 *
 * The bridge's managed session: a keeper process that owns a swtpm +
 * emulator pair between bridge invocations, stops it on request, after
 * an idle period, or when either process dies.
 *
 * The keeper also owns the one qtest connection to the emulator and
 * passes a duplicate of it (SCM_RIGHTS) to each bridge. The connection
 * therefore never closes between tpm2-tools commands: this tree's
 * emulator, like a libqtest-driven QEMU, shuts down when its qtest client
 * goes, and a fresh connection per command would also cost a round of
 * socket setup each time.
 *
 * Session directory layout:
 *   lock          flock()ed by the bridge using the session, and by the
 *                 keeper while it shuts down for idleness
 *   keeper.pid    the keeper's pid while the pair runs
 *   config        how the pair was started (emulator, window, chunking)
 *   activity      touched by every bridge invocation (idle clock)
 *   qtest.sock    the emulator's qtest server socket
 *   handoff.sock  the keeper hands its qtest connection out here
 *   state/        swtpm state, kept across sessions
 *   *.log         keeper, emulator and swtpm logs
 */

#include "qemu/osdep.h"
#include <poll.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "qemu/error-report.h"
#include "qtest-accessor.h"
#include "bridge-session.h"

#define KEEPER_NAME "tpm-crb-keeper"
#define SESSION_LOCK_TIMEOUT_MS 120000
#define KEEPER_START_TIMEOUT_MS 60000
#define KEEPER_STOP_TIMEOUT_MS 15000
#define KEEPER_QTEST_CONNECT_MS 10000
#define HANDOFF_TIMEOUT_MS 10000

char *bridge_session_default_dir(void)
{
    const char *rt = g_getenv("XDG_RUNTIME_DIR");

    if (rt && *rt && g_file_test(rt, G_FILE_TEST_IS_DIR)) {
        return g_build_filename(rt, "tpm-crb-bridge", NULL);
    }
    return g_strdup_printf("/tmp/tpm-crb-bridge-%u", (unsigned)getuid());
}

static char *session_path(const char *dir, const char *name)
{
    return g_build_filename(dir, name, NULL);
}

/* Alive and not a zombie (a container's init may never reap it). */
static bool session_proc_alive(guint64 pid)
{
    g_autofree char *path = g_strdup_printf("/proc/%" G_GUINT64_FORMAT
                                            "/stat", pid);
    g_autofree char *text = NULL;
    const char *p;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return false;
    }
    p = strrchr(text, ')');
    return p && p[1] == ' ' && p[2] != 'Z' && p[2] != 'X';
}

pid_t bridge_session_keeper_pid(const char *dir)
{
    g_autofree char *pid_path = session_path(dir, "keeper.pid");
    g_autofree char *text = NULL;
    g_autofree char *comm_path = NULL;
    g_autofree char *comm = NULL;
    guint64 pid;

    if (!g_file_get_contents(pid_path, &text, NULL, NULL) ||
        !g_ascii_string_to_unsigned(g_strstrip(text), 10, 1, INT_MAX, &pid,
                                    NULL)) {
        return 0;
    }
    /* A stale pid file may name a recycled pid: check it is a keeper. */
    comm_path = g_strdup_printf("/proc/%" G_GUINT64_FORMAT "/comm", pid);
    if (!g_file_get_contents(comm_path, &comm, NULL, NULL) ||
        strcmp(g_strstrip(comm), KEEPER_NAME) != 0 ||
        !session_proc_alive(pid)) {
        return 0;
    }
    return (pid_t)pid;
}

static int session_lock(const char *dir, unsigned timeout_ms, Error **errp)
{
    g_autofree char *path = session_path(dir, "lock");
    int64_t deadline = g_get_monotonic_time() + (int64_t)timeout_ms * 1000;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot open '%s'", path);
        return -1;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK && errno != EINTR) {
            error_setg_errno(errp, errno, "cannot lock '%s'", path);
            close(fd);
            return -1;
        }
        if (g_get_monotonic_time() > deadline) {
            error_setg(errp, "session '%s' stayed busy for %u ms (another "
                       "bridge holds '%s')", dir, timeout_ms, path);
            close(fd);
            return -1;
        }
        g_usleep(20 * 1000);
    }
    return fd;
}

static void session_touch(const char *dir)
{
    g_autofree char *path = session_path(dir, "activity");

    g_file_set_contents(path, "", 0, NULL);
}

static char *session_config_text(const BridgeSessionConfig *cfg)
{
    return g_strdup_printf("emulator=%s\nwindow=%u\nchunk=%s\n",
                           cfg->emulator, cfg->window,
                           cfg->no_chunk ? "off" : "on");
}

/* A pair started with other settings than asked for would mislead. */
static bool session_check_config(const BridgeSessionConfig *cfg,
                                 Error **errp)
{
    g_autofree char *path = session_path(cfg->dir, "config");
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autofree char *want_window = g_strdup_printf("window=%u", cfg->window);
    g_autofree char *want_emu = g_strdup_printf("emulator=%s",
                                                cfg->emulator);
    int i;

    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return true;
    }
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        const char *l = lines[i];

        if ((cfg->window_set && g_str_has_prefix(l, "window=") &&
             strcmp(l, want_window) != 0) ||
            (cfg->no_chunk && strcmp(l, "chunk=on") == 0) ||
            (cfg->emulator_set && g_str_has_prefix(l, "emulator=") &&
             strcmp(l, want_emu) != 0)) {
            error_setg(errp, "session '%s' already runs with %s; stop it "
                       "first (tpm-crb-bridge --session %s --stop)",
                       cfg->dir, l, cfg->dir);
            return false;
        }
    }
    return true;
}

static int session_handoff_listen(const char *path, Error **errp)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        error_setg(errp, "socket path '%s' is too long", path);
        return -1;
    }
    g_strlcpy(addr.sun_path, path, sizeof(addr.sun_path));
    unlink(path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
        listen(fd, 4) < 0) {
        error_setg_errno(errp, errno, "cannot listen on '%s'", path);
        if (fd >= 0) {
            close(fd);
        }
        return -1;
    }
    return fd;
}

/* Give one waiting bridge a duplicate of the qtest connection. */
static void keeper_handoff(int listen_fd, int qtest_fd)
{
    char byte = 'Q';
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
    };
    struct cmsghdr *cmsg;
    int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

    if (fd < 0) {
        return;
    }
    memset(u.buf, 0, sizeof(u.buf));
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(cmsg), &qtest_fd, sizeof(int));
    if (sendmsg(fd, &msg, MSG_NOSIGNAL) < 0) {
        warn_report("handing the qtest connection out: %s",
                    g_strerror(errno));
    }
    close(fd);
}

/* The bridge's side: receive the keeper's qtest connection. */
int bridge_session_take_qtest_fd(const char *dir, Error **errp)
{
    g_autofree char *path = session_path(dir, "handoff.sock");
    char byte;
    struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = u.buf, .msg_controllen = sizeof(u.buf),
    };
    struct cmsghdr *cmsg;
    struct pollfd pfd = { .events = POLLIN };
    ssize_t n;
    int fd = -1;

    pfd.fd = qtest_accessor_dial(path, HANDOFF_TIMEOUT_MS, errp);
    if (pfd.fd < 0) {
        error_prepend(errp, "session keeper: ");
        return -1;
    }
    if (RETRY_ON_EINTR(poll(&pfd, 1, HANDOFF_TIMEOUT_MS)) <= 0) {
        error_setg(errp, "the session keeper did not hand out the qtest "
                   "connection within %d ms (see %s/keeper.log)",
                   HANDOFF_TIMEOUT_MS, dir);
        close(pfd.fd);
        return -1;
    }
    n = RETRY_ON_EINTR(recvmsg(pfd.fd, &msg, MSG_CMSG_CLOEXEC));
    cmsg = n == 1 ? CMSG_FIRSTHDR(&msg) : NULL;
    if (cmsg && cmsg->cmsg_level == SOL_SOCKET &&
        cmsg->cmsg_type == SCM_RIGHTS &&
        cmsg->cmsg_len == CMSG_LEN(sizeof(int))) {
        memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
    }
    close(pfd.fd);
    if (fd < 0) {
        error_setg(errp, "the session keeper sent no qtest connection "
                   "(see %s/keeper.log)", dir);
    }
    return fd;
}

static volatile sig_atomic_t keeper_stop_requested;

static void keeper_on_signal(int sig)
{
    keeper_stop_requested = 1;
}

static bool keeper_idle(const BridgeSessionConfig *cfg, int *lock_fd)
{
    g_autofree char *path = session_path(cfg->dir, "activity");
    struct stat st;
    int fd;

    if (!cfg->idle_timeout_s || stat(path, &st) < 0 ||
        time(NULL) - st.st_mtime < (time_t)cfg->idle_timeout_s) {
        return false;
    }
    /* Idle only if no bridge is using the pair right now. */
    fd = session_lock(cfg->dir, 0, NULL);
    if (fd < 0) {
        return false;
    }
    *lock_fd = fd;
    return true;
}

static void keeper_close_fds(int keep)
{
    long max = sysconf(_SC_OPEN_MAX);
    int fd;

    if (max < 0 || max > 65536) {
        max = 65536;
    }
    for (fd = 3; fd < max; fd++) {
        if (fd != keep) {
            close(fd);
        }
    }
}

/*
 * The keeper: detached from the bridge's stdio (tpm2-tools must see EOF
 * on the pipes when the bridge exits) and from its session, so that the
 * tcti's SIGTERM to the bridge does not reach the pair.
 */
static void G_GNUC_NORETURN keeper_main(const BridgeSessionConfig *cfg,
                                        int status_fd)
{
    g_autofree char *log_path = session_path(cfg->dir, "keeper.log");
    g_autofree char *pid_path = session_path(cfg->dir, "keeper.pid");
    g_autofree char *cfg_path = session_path(cfg->dir, "config");
    g_autofree char *state = session_path(cfg->dir, "state");
    g_autofree char *config = session_config_text(cfg);
    g_autofree char *pid_text = g_strdup_printf("%d\n", (int)getpid());
    g_autofree char *why = NULL;
    struct sigaction sa = { .sa_handler = keeper_on_signal };
    Error *err = NULL;
    TpmLaunchConfig lc = {
        .emulator = cfg->emulator,
        .swtpm = cfg->swtpm,
        .accel = cfg->accel,
        .window = cfg->window,
        .no_chunk = cfg->no_chunk,
        .state_dir = state,
        .run_dir = cfg->dir,
    };
    g_autofree char *handoff_path = session_path(cfg->dir, "handoff.sock");
    TpmLaunch *l;
    int lock_fd = -1;
    int qtest_fd = -1;
    int listen_fd = -1;
    int fd;

    prctl(PR_SET_NAME, KEEPER_NAME);
    keeper_close_fds(status_fd);
    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        close(fd);
    }
    fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    l = tpm_launch_start(&lc, &err);
    if (l) {
        qtest_fd = qtest_accessor_dial(l->qtest_path,
                                       KEEPER_QTEST_CONNECT_MS, &err);
    }
    if (qtest_fd >= 0) {
        listen_fd = session_handoff_listen(handoff_path, &err);
    }
    if (listen_fd < 0) {
        g_autofree char *msg = g_strdup_printf("ERR %s\n",
                                               error_get_pretty(err));

        error_report_err(err);
        if (write(status_fd, msg, strlen(msg)) < 0) {
            /* the bridge is gone; the log has the message */
        }
        if (qtest_fd >= 0) {
            close(qtest_fd);
        }
        tpm_launch_stop(l);
        _exit(1);
    }
    g_file_set_contents(cfg_path, config, -1, NULL);
    g_file_set_contents(pid_path, pid_text, -1, NULL);
    info_report("started emulator pid %d and swtpm pid %d in %s",
                (int)l->emu_pid, (int)l->swtpm_pid, cfg->dir);
    if (write(status_fd, "OK\n", 3) < 0) {
        keeper_stop_requested = 1;
    }
    close(status_fd);

    while (!keeper_stop_requested) {
        struct pollfd pfd = { .fd = listen_fd, .events = POLLIN };

        if (poll(&pfd, 1, 500) > 0) {
            keeper_handoff(listen_fd, qtest_fd);
        }
        if (!tpm_launch_alive(l, &why)) {
            error_report("stopping: %s", why);
            break;
        }
        if (keeper_idle(cfg, &lock_fd)) {
            info_report("stopping after %u s without a bridge",
                        cfg->idle_timeout_s);
            break;
        }
    }
    /* The pid file goes last: --stop waits for it. */
    close(listen_fd);
    unlink(handoff_path);
    close(qtest_fd);
    tpm_launch_stop(l);
    unlink(cfg_path);
    unlink(pid_path);
    info_report("stopped");
    if (lock_fd >= 0) {
        close(lock_fd);
    }
    _exit(0);
}

static bool session_start_keeper(const BridgeSessionConfig *cfg,
                                 Error **errp)
{
    int64_t deadline = g_get_monotonic_time() +
                       KEEPER_START_TIMEOUT_MS * 1000LL;
    char reply[1024];
    size_t len = 0;
    int pipefd[2];
    pid_t child;
    int status;

    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        error_setg_errno(errp, errno, "pipe");
        return false;
    }
    fflush(NULL);
    child = fork();
    if (child < 0) {
        error_setg_errno(errp, errno, "fork");
        close(pipefd[0]);
        close(pipefd[1]);
        return false;
    }
    if (child == 0) {
        /* Double fork: the keeper is re-parented and never a zombie here. */
        close(pipefd[0]);
        setsid();
        if (fork() == 0) {
            keeper_main(cfg, pipefd[1]);
        }
        _exit(0);
    }
    close(pipefd[1]);
    waitpid(child, &status, 0);

    while (len < sizeof(reply) - 1 && !memchr(reply, '\n', len)) {
        struct pollfd pfd = { .fd = pipefd[0], .events = POLLIN };
        int64_t left = (deadline - g_get_monotonic_time()) / 1000;
        ssize_t n;

        if (left <= 0 || poll(&pfd, 1, (int)left) == 0) {
            error_setg(errp, "the session's emulator and swtpm did not come "
                       "up within %d ms (see %s/keeper.log)",
                       KEEPER_START_TIMEOUT_MS, cfg->dir);
            close(pipefd[0]);
            return false;
        }
        n = read(pipefd[0], reply + len, sizeof(reply) - 1 - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        len += n;
    }
    close(pipefd[0]);
    reply[len] = '\0';
    if (g_str_has_prefix(reply, "OK")) {
        return true;
    }
    g_strchomp(reply);
    error_setg(errp, "cannot start the session's emulator and swtpm: %s",
               g_str_has_prefix(reply, "ERR ") ? reply + 4
               : "the keeper exited without a word");
    return false;
}

int bridge_session_acquire(const BridgeSessionConfig *cfg, int *qtest_fd,
                           Error **errp)
{
    int fd;

    if (g_mkdir_with_parents(cfg->dir, 0700) < 0) {
        error_setg_errno(errp, errno, "cannot create session directory '%s'",
                         cfg->dir);
        return -1;
    }
    fd = session_lock(cfg->dir, SESSION_LOCK_TIMEOUT_MS, errp);
    if (fd < 0) {
        return -1;
    }
    if (bridge_session_keeper_pid(cfg->dir)) {
        if (!session_check_config(cfg, errp)) {
            close(fd);
            return -1;
        }
    } else if (!session_start_keeper(cfg, errp)) {
        close(fd);
        return -1;
    }
    session_touch(cfg->dir);
    if (qtest_fd) {
        *qtest_fd = bridge_session_take_qtest_fd(cfg->dir, errp);
        if (*qtest_fd < 0) {
            close(fd);
            return -1;
        }
    }
    return fd;
}

void bridge_session_release(const char *dir, int lock_fd)
{
    session_touch(dir);
    close(lock_fd);
}

bool bridge_session_stop(const char *dir, bool *was_running, Error **errp)
{
    int64_t deadline;
    pid_t pid;
    int fd;

    *was_running = false;
    /* Let a command in flight finish; a wedged bridge does not block us. */
    fd = session_lock(dir, 10000, NULL);
    pid = bridge_session_keeper_pid(dir);
    if (!pid) {
        if (fd >= 0) {
            close(fd);
        }
        return true;
    }
    *was_running = true;
    kill(pid, SIGTERM);
    deadline = g_get_monotonic_time() + KEEPER_STOP_TIMEOUT_MS * 1000LL;
    while (bridge_session_keeper_pid(dir) == pid) {
        if (g_get_monotonic_time() > deadline) {
            kill(pid, SIGKILL);
            error_setg(errp, "the keeper (pid %d) of session '%s' did not "
                       "stop within %d ms; killed it", (int)pid, dir,
                       KEEPER_STOP_TIMEOUT_MS);
            if (fd >= 0) {
                close(fd);
            }
            return false;
        }
        g_usleep(20 * 1000);
    }
    if (fd >= 0) {
        close(fd);
    }
    return true;
}
