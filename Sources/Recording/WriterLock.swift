// WriterLock: the one-writer-per-run-folder guarantee, as an advisory flock(2) on `run.lock` holding the
// writer's pid. The kernel drops the lock when the process dies (even by SIGKILL), so a crash never leaves a
// stale lock; the file itself is left in place (deleting it would race with a waiting writer).
// flock locks belong to an open file description, so two writers in ONE process also exclude each other.
// Deliberately not here: any lock for readers (SQLite's WAL lets them read during writing) or NFS support.
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

final class WriterLock: Sendable {
    let path: String
    private let descriptor: Int32

    /// Takes the lock or throws `storeLocked` naming `directory` and the holder's pid when it can be read.
    init(directory: String, fileName: String) throws {
        path = (directory as NSString).appendingPathComponent(fileName)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw RecordingError.io(path: path, message: "cannot open lock file: \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            let holder = WriterLock.readPID(fd)
            close(fd)
            if reason == EWOULDBLOCK {
                throw RecordingError.storeLocked(directory: directory, holderPID: holder)
            }
            throw RecordingError.io(path: path, message: "cannot lock: \(String(cString: strerror(reason)))")
        }
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        descriptor = fd
    }

    deinit {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    private static func readPID(_ fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 31, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return Int32(text)
    }
}
