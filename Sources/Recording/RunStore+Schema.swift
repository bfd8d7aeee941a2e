// The SQL schema of a run store, its version, its migrations, and the byte layouts of the BLOB columns.
//
// Schema version 1 (architecture.md, "The run store"), plus two small additions: `histograms.nan` (NaN scores,
// never in a bin) and `events.id` (insertion order). All tables are plain SQLite types so that `sqlite3` and
// Python's `sqlite3` read them with no scorescope code:
//   meta(key TEXT PRIMARY KEY, value TEXT)
//   steps(step INTEGER PRIMARY KEY, epoch, lr, momentum, loss, instance_acc, grad_norm, pos_mean, pos_var,
//         neg_mean, neg_var_query, neg_var_all, lambda_ex, lambda_in, ms)            -- REAL, NULL = NaN/none
//   histograms(step, stream, lo, hi, bins, underflow, overflow, nan, count, sum, sum_sq, min, max, counts BLOB,
//              PRIMARY KEY(step, stream))       -- counts: `bins` little-endian UInt32; min/max NULL when empty
//   evals(step, epoch, kind, top1, top5, PRIMARY KEY(step, kind))
//   events(id INTEGER PRIMARY KEY, step, kind, detail)
//   samples(step, kind, idx, vector BLOB, PRIMARY KEY(step, kind, idx))     -- vector: little-endian Float32
// Schema version 2 adds a derived table, the histogram blocks (HistogramBlocks.swift): per stream, the exact sum
// of the histograms of 16 consecutive steps (block b = steps 16b+1 … 16b+16), written in the transaction of the
// block's last step, so a heat map over 100k steps reads 16× fewer rows:
//   histogram_blocks(first_step, stream, last_step, rows, lo, hi, bins, underflow, overflow, nan, count,
//                    counts BLOB, PRIMARY KEY(first_step, stream))   -- counts: `bins` little-endian UInt32
// The version is `meta.schema_version` (and PRAGMA user_version, for tools). A writer migrates older stores
// step by step inside one transaction (1 → 2 fills the blocks from the stored histograms); readers accept
// versions 1 … current (a version-1 store has no blocks and is read row by row) and refuse newer ones.
// Deliberately not here: the store's behaviour (RunStore.swift) and reading (RunReader.swift).
import Foundation

/// Names of the well-known `meta` keys.
public enum MetaKey {
    /// Integer schema version of the store layout.
    public static let schemaVersion = "schema_version"
    /// Version of the scorescope that created the store.
    public static let scorescopeVersion = "scorescope_version"
    /// The resolved training configuration as JSON.
    public static let config = "config"
    /// One of `RunStatus`.
    public static let status = "status"
    /// JSON object stream name → {"lower", "upper", "bins"}.
    public static let histogramSpecs = "histogram_specs"
    /// ISO-8601 time the store was created.
    public static let created = "created"
}

enum RunStoreSchema {
    /// The schema version this build writes and reads.
    static let currentVersion = 2
    /// The oldest version readers still read (without the tables added since).
    static let oldestReadableVersion = 1

    /// migrations[v] brings a store from version v to v + 1 (index 0 creates version 1 from nothing).
    static let migrations: [[String]] = [
        [
            "CREATE TABLE meta(key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL)",
            """
            CREATE TABLE steps(step INTEGER PRIMARY KEY, epoch INTEGER NOT NULL, lr REAL, momentum REAL, loss REAL,
              instance_acc REAL, grad_norm REAL, pos_mean REAL, pos_var REAL, neg_mean REAL, neg_var_query REAL,
              neg_var_all REAL, lambda_ex REAL, lambda_in REAL, ms REAL)
            """,
            """
            CREATE TABLE histograms(step INTEGER NOT NULL, stream TEXT NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL,
              bins INTEGER NOT NULL, underflow INTEGER NOT NULL, overflow INTEGER NOT NULL,
              nan INTEGER NOT NULL DEFAULT 0, count INTEGER NOT NULL, sum REAL, sum_sq REAL, min REAL, max REAL,
              counts BLOB NOT NULL, PRIMARY KEY(step, stream)) WITHOUT ROWID
            """,
            """
            CREATE TABLE evals(step INTEGER NOT NULL, epoch INTEGER NOT NULL, kind TEXT NOT NULL, top1 REAL,
              top5 REAL, PRIMARY KEY(step, kind))
            """,
            "CREATE TABLE events(id INTEGER PRIMARY KEY, step INTEGER NOT NULL, kind TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '')",
            "CREATE INDEX events_by_step ON events(step)",
            """
            CREATE TABLE samples(step INTEGER NOT NULL, kind TEXT NOT NULL, idx INTEGER NOT NULL,
              vector BLOB NOT NULL, PRIMARY KEY(step, kind, idx)) WITHOUT ROWID
            """,
        ],
        [
            """
            CREATE TABLE histogram_blocks(first_step INTEGER NOT NULL, stream TEXT NOT NULL, last_step INTEGER NOT NULL,
              rows INTEGER NOT NULL, lo REAL NOT NULL, hi REAL NOT NULL, bins INTEGER NOT NULL,
              underflow INTEGER NOT NULL, overflow INTEGER NOT NULL, nan INTEGER NOT NULL, count INTEGER NOT NULL,
              counts BLOB NOT NULL, PRIMARY KEY(first_step, stream)) WITHOUT ROWID
            """,
        ],
    ]

    /// The tables whose rows belong to a step (cleared by `deleteSteps(after:)`), with the column holding that
    /// step (a block belongs to its last step).
    static let steppedTables: [(table: String, step: String)] = [
        ("steps", "step"), ("histograms", "step"), ("evals", "step"), ("events", "step"), ("samples", "step"),
        ("histogram_blocks", "last_step"),
    ]
}

/// Little-endian BLOB encodings of counts and vectors.
enum BlobCoding {
    static func encode(_ counts: [UInt32]) -> Data {
        var data = Data(count: counts.count * 4)
        data.withUnsafeMutableBytes { raw in
            for (i, c) in counts.enumerated() { raw.storeBytes(of: c.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
        return data
    }

    static func decodeCounts(_ data: Data) -> [UInt32]? {
        guard data.count % 4 == 0 else { return nil }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)) }
        }
    }

    static func encode(_ vector: [Float]) -> Data {
        var data = Data(count: vector.count * 4)
        data.withUnsafeMutableBytes { raw in
            for (i, v) in vector.enumerated() {
                raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self)
            }
        }
        return data
    }

    static func decodeVector(_ data: Data) -> [Float]? {
        guard data.count % 4 == 0 else { return nil }
        return data.withUnsafeBytes { raw in
            (0..<(data.count / 4)).map {
                Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
            }
        }
    }
}
