// ChildProcess: posix_spawn with a clean signal state, for the sweep's child runs.
//
// Foundation's Process passes on the spawning thread's signal mask; Dispatch and Swift-concurrency worker
// threads block nearly every signal, so a child started from one could never receive SIGINT/SIGTERM (and
// could not checkpoint when asked). Here the child gets an empty mask and default SIGINT/SIGTERM/SIGPIPE
// handling, stdin from /dev/null, and stdout+stderr appended to a log file.
// Deliberately not here: pipes to the child, or waiting with a timeout (the runner polls).
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A spawned child process.
public final class ChildProcess: @unchecked Sendable {
    /// The child's pid.
    public let pid: pid_t
    private var status: Int32?

    /// Spawns `executable` with `arguments` (not including argv[0]) and `environment`, appending its output to `logPath`.
    public init(executable: String, arguments: [String], environment: [String: String], logPath: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attr, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGINT, SIGTERM, SIGPIPE, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child: pid_t = 0
        var rc = posix_spawn(&child, executable, &actions, &attr, argv, envp)
        // ETXTBSY: another thread of this process forked while the executable was open for writing (a script
        // just written); that fd closes as soon as that child execs, so retry briefly.
        var tries = 0
        while rc == ETXTBSY && tries < 40 {
            usleep(25_000)
            tries += 1
            rc = posix_spawn(&child, executable, &actions, &attr, argv, envp)
        }
        if rc != 0 {
            throw SweepError("cannot start \(executable): \(String(cString: strerror(rc)))")
        }
        pid = child
    }

    /// Whether the child is still running (reaps it when it has ended).
    public var isRunning: Bool {
        if status != nil { return false }
        var s: Int32 = 0
        let r = waitpid(pid, &s, WNOHANG)
        if r == pid { status = s; return false }
        if r < 0 { status = 0x7f00; return false }  // not our child any more: treat as exit 127
        return r == 0
    }

    /// The exit code (0–255) once ended; for a child killed by a signal, 128 + the signal number.
    public var exitCode: Int32 {
        guard let s = status else { return -1 }
        let sig = s & 0x7f
        if sig == 0 { return (s >> 8) & 0xff }
        return 128 + sig
    }

    /// Sends a signal to the child.
    public func signal(_ sig: Int32) { if status == nil { kill(pid, sig) } }
}
