import Foundation
import EMVolume

/// A row of `count` copies of `pattern` (one element's bytes).
func repeatedPattern(_ pattern: [UInt8], count: Int) -> [UInt8] {
    var row = [UInt8]()
    row.reserveCapacity(pattern.count * count)
    for _ in 0..<count { row.append(contentsOf: pattern) }
    return row
}

/// Sets every element of `region` inside a dense buffer covering `box` to `pattern`.
func fillRegion(_ region: Box, with pattern: [UInt8], in buffer: UnsafeMutableRawPointer, box: Box) {
    guard !region.isEmpty else { return }
    let row = repeatedPattern(pattern, count: region.shape.x)
    row.withUnsafeBytes { source in
        for z in region.offset.z..<region.end.z {
            for y in region.offset.y..<region.end.y {
                let index = ((z - box.offset.z) * box.shape.y + (y - box.offset.y)) * box.shape.x + (region.offset.x - box.offset.x)
                (buffer + index * pattern.count).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
        }
    }
}

/// True when every element of `buffer` equals `pattern` byte for byte.
func isUniform(_ buffer: UnsafeRawBufferPointer, pattern: [UInt8]) -> Bool {
    let row = repeatedPattern(pattern, count: max(1, 4096 / pattern.count))
    return row.withUnsafeBytes { reference in
        var offset = 0
        while offset < buffer.count {
            let n = min(reference.count, buffer.count - offset)
            if memcmp(buffer.baseAddress! + offset, reference.baseAddress!, n) != 0 { return false }
            offset += n
        }
        return true
    }
}
