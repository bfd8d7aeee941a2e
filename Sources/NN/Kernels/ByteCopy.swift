// Float arrays to and from little-endian bytes, for the serialiser (a memcpy on little-endian machines).
// Deliberately not here: any framing (Serialization.swift owns the format).

/// Appends the IEEE-754 bit patterns of `values`, little-endian, to `bytes`.
func appendLittleEndian(_ values: [Float], to bytes: inout [UInt8]) {
    #if _endian(little)
    values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    #else
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
    #endif
}

/// The floats whose little-endian bit patterns are `bytes` (count must be a multiple of 4).
func floatsFromLittleEndian(_ bytes: ArraySlice<UInt8>) -> [Float] {
    let n = bytes.count / 4
    return [Float](unsafeUninitializedCapacity: n) { buffer, initialised in
        bytes.withUnsafeBytes { raw in
            #if _endian(little)
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[0..<(4 * n)]))
            #else
            for i in 0..<n { buffer[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))) }
            #endif
        }
        initialised = n
    }
}
