/// Sorts keys below 2^bits ascending by least-significant-digit radix sort with 11-bit digits:
/// O(n) per digit, one scratch buffer, and digits on which all keys agree are skipped.
public func radixSort(_ keys: inout [UInt64], bits: Int) {
    let n = keys.count
    guard n > 1 else { return }
    let digitBits = 11, radix = 1 << digitBits, digitMask = UInt64(radix - 1)
    var scratch = [UInt64](repeating: 0, count: n)
    var counts = [Int](repeating: 0, count: radix)
    var sourceIsKeys = true
    keys.withUnsafeMutableBufferPointer { a in
        scratch.withUnsafeMutableBufferPointer { b in
            counts.withUnsafeMutableBufferPointer { count in
                var shift = 0
                while shift < bits {
                    let source = sourceIsKeys ? a : b
                    let target = sourceIsKeys ? b : a
                    for i in 0..<radix { count[i] = 0 }
                    for i in 0..<n { count[Int((source[i] >> UInt64(shift)) & digitMask)] += 1 }
                    if count[Int((source[0] >> UInt64(shift)) & digitMask)] == n {
                        shift += digitBits
                        continue // every key has this digit: the pass would not move anything
                    }
                    var sum = 0
                    for i in 0..<radix {
                        let c = count[i]
                        count[i] = sum
                        sum += c
                    }
                    for i in 0..<n {
                        let key = source[i]
                        let digit = Int((key >> UInt64(shift)) & digitMask)
                        target[count[digit]] = key
                        count[digit] += 1
                    }
                    sourceIsKeys.toggle()
                    shift += digitBits
                }
            }
        }
    }
    if !sourceIsKeys { swap(&keys, &scratch) }
}
