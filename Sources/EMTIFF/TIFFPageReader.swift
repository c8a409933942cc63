import CTIFF
import EMStorage

/// Decodes a rectangle of one TIFF page, touching only the strips or tiles it overlaps.
/// Holds one strip or tile of scratch memory, reused across the pages of one read.
struct TIFFPageReader {
    private var scratch: [UInt8] = []

    /// Decodes rows `rows` and columns `columns` of the current page of `handle` into
    /// `destination`, whose consecutive rows lie `rowStride` bytes apart. Samples arrive in
    /// native byte order (libtiff swaps them).
    ///
    /// - Throws: `StorageError.corruptChunk` naming `name` and the strip or tile that does
    ///   not decode (truncated or damaged file).
    mutating func read(_ handle: TIFFHandle, layout: TIFFPageLayout, name: String, rows: Range<Int>, columns: Range<Int>,
                       into destination: UnsafeMutableRawPointer, rowStride: Int) throws {
        guard !rows.isEmpty, !columns.isEmpty else { return }
        let elementSize = layout.dataType.size
        switch layout.tiling {
        case let .strips(stripRows):
            let rowBytes = layout.width * elementSize
            for strip in (rows.lowerBound / stripRows)...((rows.upperBound - 1) / stripRows) {
                let first = strip * stripRows
                let count = min(stripRows, layout.height - first)
                try decode(handle, piece: strip, bytes: count * rowBytes, capacity: stripRows * rowBytes, tiled: false, name: name)
                scratch.withUnsafeBytes { source in
                    for row in max(rows.lowerBound, first)..<min(rows.upperBound, first + count) {
                        (destination + (row - rows.lowerBound) * rowStride)
                            .copyMemory(from: source.baseAddress! + (row - first) * rowBytes + columns.lowerBound * elementSize,
                                        byteCount: columns.count * elementSize)
                    }
                }
            }
        case let .tiles(tileHeight, tileWidth):
            let tileBytes = tileHeight * tileWidth * elementSize
            for tileRow in (rows.lowerBound / tileHeight)...((rows.upperBound - 1) / tileHeight) {
                for tileColumn in (columns.lowerBound / tileWidth)...((columns.upperBound - 1) / tileWidth) {
                    let top = tileRow * tileHeight, left = tileColumn * tileWidth
                    let tile = TIFFComputeTile(handle.tiff, UInt32(left), UInt32(top), 0, 0)
                    try decode(handle, piece: Int(tile), bytes: tileBytes, capacity: tileBytes, tiled: true, name: name)
                    let firstColumn = max(columns.lowerBound, left)
                    let width = min(columns.upperBound, left + tileWidth) - firstColumn
                    scratch.withUnsafeBytes { source in
                        for row in max(rows.lowerBound, top)..<min(rows.upperBound, top + tileHeight) {
                            (destination + (row - rows.lowerBound) * rowStride + (firstColumn - columns.lowerBound) * elementSize)
                                .copyMemory(from: source.baseAddress! + ((row - top) * tileWidth + firstColumn - left) * elementSize,
                                            byteCount: width * elementSize)
                        }
                    }
                }
            }
        }
    }

    /// Decodes strip or tile `piece` (expecting `bytes` bytes) into the scratch buffer.
    private mutating func decode(_ handle: TIFFHandle, piece: Int, bytes: Int, capacity: Int, tiled: Bool, name: String) throws {
        if scratch.count < capacity { scratch = [UInt8](repeating: 0, count: capacity) }
        let decoded = scratch.withUnsafeMutableBytes { buffer in
            tiled ? TIFFReadEncodedTile(handle.tiff, UInt32(piece), buffer.baseAddress, tmsize_t(bytes))
                  : TIFFReadEncodedStrip(handle.tiff, UInt32(piece), buffer.baseAddress, tmsize_t(bytes))
        }
        guard decoded == bytes else {
            let what = tiled ? "tile" : "strip"
            let reason = decoded < 0 ? handle.lastError : "decoded \(decoded) bytes, expected \(bytes)"
            throw StorageError.corruptChunk(path: name, reason: "\(what) \(piece) does not decode (truncated or damaged file?): \(reason)")
        }
    }
}
