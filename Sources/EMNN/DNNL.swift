import CDNNL

/// Throws `NNError.library` when a oneDNN call did not succeed.
func dnnlCheck(_ status: dnnl_status_t, _ operation: @autoclosure () -> String) throws {
    guard status != dnnl_success else { return }
    let name: String
    switch status {
    case dnnl_out_of_memory: name = "out of memory"
    case dnnl_invalid_arguments: name = "invalid arguments"
    case dnnl_unimplemented: name = "unimplemented (no implementation for these shapes and layouts)"
    case dnnl_runtime_error: name = "runtime error"
    case dnnl_not_required: name = "not required"
    default: name = "status \(status.rawValue)"
    }
    throw NNError.library(operation: operation(), status: name)
}

/// oneDNN's dimension array from Swift integers.
func dnnlDims(_ values: [Int]) -> [dnnl_dim_t] { values.map { dnnl_dim_t($0) } }

/// A memory descriptor for `dims` with a format tag (`dnnl_format_tag_any` lets a primitive choose).
func memoryDescriptor(_ dims: [Int], tag: dnnl_format_tag_t) throws -> dnnl_memory_desc_t {
    var md = dnnl_memory_desc_t()
    var d = dnnlDims(dims)
    try dnnlCheck(dnnl_memory_desc_init_by_tag(&md, Int32(dims.count), &d, dnnl_f32, tag),
                  "memory descriptor \(dims) tag \(tag.rawValue)")
    return md
}

/// A memory descriptor for `dims` with explicit element strides.
func memoryDescriptor(_ dims: [Int], strides: [Int]) throws -> dnnl_memory_desc_t {
    var md = dnnl_memory_desc_t()
    var d = dnnlDims(dims)
    var s = dnnlDims(strides)
    try dnnlCheck(dnnl_memory_desc_init_by_strides(&md, Int32(dims.count), &d, dnnl_f32, &s),
                  "memory descriptor \(dims) strides \(strides)")
    return md
}

/// True when two memory descriptors describe the same layout.
func sameLayout(_ a: dnnl_memory_desc_t, _ b: dnnl_memory_desc_t) -> Bool {
    var a = a, b = b
    return dnnl_memory_desc_equal(&a, &b) != 0
}

/// Bytes a memory descriptor occupies (including padding).
func byteSize(_ md: dnnl_memory_desc_t) -> Int {
    var md = md
    return Int(dnnl_memory_desc_get_size(&md))
}

/// The oneDNN CPU engine and the stream primitives run on, with the thread count to use.
///
/// A context is not safe to use from several threads at once: give each worker thread its own
/// context (and its own network instance).
public final class ComputeContext {
    let engine: dnnl_engine_t
    let stream: dnnl_stream_t
    /// Threads oneDNN (OpenMP) and OpenBLAS may use; `nil` leaves the libraries' defaults
    /// (`OMP_NUM_THREADS`, `OPENBLAS_NUM_THREADS`, or all cores).
    public var threadCount: Int?

    /// Creates a CPU engine and an in-order stream.
    ///
    /// - Parameter threadCount: threads for oneDNN and OpenBLAS on calls made through this context.
    public init(threadCount: Int? = nil) throws {
        var engine: dnnl_engine_t?
        try dnnlCheck(dnnl_engine_create(&engine, dnnl_cpu, 0), "creating the CPU engine")
        var stream: dnnl_stream_t?
        let status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue)
        if status != dnnl_success { dnnl_engine_destroy(engine) }
        try dnnlCheck(status, "creating a CPU stream")
        self.engine = engine!
        self.stream = stream!
        self.threadCount = threadCount
    }

    deinit {
        dnnl_stream_destroy(stream)
        dnnl_engine_destroy(engine)
    }

    /// Applies `threadCount` to the calling thread (OpenMP's setting is per calling thread).
    func applyThreadCount() {
        if let threadCount { ThreadSettings.apply(threadCount) }
    }
}

/// A oneDNN primitive with its descriptor, checked not to be a reference implementation.
final class Primitive {
    let descriptor: dnnl_primitive_desc_t
    let handle: dnnl_primitive_t
    /// Human-readable name used in errors (kind and shapes).
    let name: String
    /// oneDNN's implementation name, e.g. `jit:avx2`.
    let implementation: String

    /// Creates the primitive from an operation descriptor.
    ///
    /// - Parameters:
    ///   - operation: pointer to a oneDNN operation descriptor (e.g. `dnnl_convolution_desc_t`).
    ///   - attributes: optional attributes (post-ops).
    ///   - hint: the forward primitive descriptor, for backward primitives.
    ///   - allowReference: accept oneDNN's `ref` implementations (never for convolutions).
    init(operation: UnsafeRawPointer, attributes: dnnl_primitive_attr_t? = nil, context: ComputeContext,
         hint: Primitive? = nil, name: String, allowReference: Bool = false) throws {
        // oneDNN fixes a primitive's thread decomposition when it is created.
        context.applyThreadCount()
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_primitive_desc_create(&pd, operation, attributes, context.engine, hint?.descriptor), name)
        var info: UnsafePointer<CChar>?
        _ = dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &info)
        let implementation = info.map { String(cString: $0) } ?? "unknown"
        if !allowReference && implementation.hasPrefix("ref") {
            dnnl_primitive_desc_destroy(pd)
            throw NNError.referenceImplementation(primitive: name, implementation: implementation)
        }
        var primitive: dnnl_primitive_t?
        let status = dnnl_primitive_create(&primitive, pd)
        if status != dnnl_success { dnnl_primitive_desc_destroy(pd) }
        try dnnlCheck(status, name)
        self.descriptor = pd!
        self.handle = primitive!
        self.name = name
        self.implementation = implementation
    }

    /// Creates a reorder between two layouts.
    convenience init(reorderFrom source: dnnl_memory_desc_t, to destination: dnnl_memory_desc_t,
                     context: ComputeContext) throws {
        var pd: dnnl_primitive_desc_t?
        var s = source, d = destination
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &s, context.engine, &d, context.engine, nil), "reorder")
        try self.init(descriptor: pd!, name: "reorder")
    }

    private init(descriptor: dnnl_primitive_desc_t, name: String) throws {
        var primitive: dnnl_primitive_t?
        let status = dnnl_primitive_create(&primitive, descriptor)
        if status != dnnl_success { dnnl_primitive_desc_destroy(descriptor) }
        try dnnlCheck(status, name)
        self.descriptor = descriptor
        self.handle = primitive!
        self.name = name
        self.implementation = "reorder"
    }

    deinit {
        dnnl_primitive_destroy(handle)
        dnnl_primitive_desc_destroy(descriptor)
    }

    /// The memory descriptor the primitive chose for `query` (e.g. `dnnl_query_src_md`).
    func memoryDescriptor(_ query: dnnl_query_t, index: Int32 = 0) -> dnnl_memory_desc_t {
        dnnl_primitive_desc_query_md(descriptor, query, index).pointee
    }

    /// Runs the primitive on `arguments` (argument index, descriptor, data pointer) and waits.
    func execute(_ context: ComputeContext,
                 _ arguments: [(Int32, dnnl_memory_desc_t, UnsafeMutableRawPointer)]) throws {
        var memories: [dnnl_memory_t?] = []
        memories.reserveCapacity(arguments.count)
        defer { for memory in memories { dnnl_memory_destroy(memory) } }
        var execArgs: [dnnl_exec_arg_t] = []
        for (arg, md, pointer) in arguments {
            var memory: dnnl_memory_t?
            var md = md
            try dnnlCheck(dnnl_memory_create(&memory, &md, context.engine, pointer), "\(name): binding memory")
            memories.append(memory)
            execArgs.append(dnnl_exec_arg_t(arg: arg, memory: memory))
        }
        context.applyThreadCount()
        try dnnlCheck(dnnl_primitive_execute(handle, context.stream, Int32(execArgs.count), &execArgs), name)
        try dnnlCheck(dnnl_stream_wait(context.stream), "\(name): waiting for the stream")
    }
}

/// Attributes with a fused ReLU post-op, or `nil` when none is wanted; the caller destroys them.
func reluAttributes(_ fused: Bool) throws -> dnnl_primitive_attr_t? {
    guard fused else { return nil }
    var postOps: dnnl_post_ops_t?
    try dnnlCheck(dnnl_post_ops_create(&postOps), "creating post-ops")
    defer { dnnl_post_ops_destroy(postOps) }
    try dnnlCheck(dnnl_post_ops_append_eltwise(postOps, 1, dnnl_eltwise_relu, 0, 0), "appending a ReLU post-op")
    var attributes: dnnl_primitive_attr_t?
    try dnnlCheck(dnnl_primitive_attr_create(&attributes), "creating primitive attributes")
    try dnnlCheck(dnnl_primitive_attr_set_post_ops(attributes, postOps), "setting post-ops")
    return attributes
}

/// Layout conversions through oneDNN reorders on a process-wide engine; each call uses its own
/// stream, so conversions may run on several threads at once.
enum LayoutReorder {
    private static let engine: dnnl_engine_t? = {
        var engine: dnnl_engine_t?
        return dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success ? engine : nil
    }()

    /// Writes `source` into `destination` (same shape, another layout).
    static func run(from source: Tensor, into destination: inout Tensor) throws {
        guard let engine else { throw NNError.library(operation: "reorder", status: "no CPU engine") }
        var from = try source.memoryDescriptor(), to = try destination.memoryDescriptor()
        var pd: dnnl_primitive_desc_t?
        try dnnlCheck(dnnl_reorder_primitive_desc_create(&pd, &from, engine, &to, engine, nil), "reorder \(source.layout) -> \(destination.layout)")
        defer { dnnl_primitive_desc_destroy(pd) }
        var primitive: dnnl_primitive_t?
        try dnnlCheck(dnnl_primitive_create(&primitive, pd), "reorder \(source.layout) -> \(destination.layout)")
        defer { dnnl_primitive_destroy(primitive) }
        var stream: dnnl_stream_t?
        try dnnlCheck(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags.rawValue), "reorder stream")
        defer { dnnl_stream_destroy(stream) }
        var memories: [dnnl_memory_t?] = [nil, nil]
        defer { memories.forEach { dnnl_memory_destroy($0) } }
        try dnnlCheck(dnnl_memory_create(&memories[0], &from, engine, source.readPointer), "reorder source")
        try dnnlCheck(dnnl_memory_create(&memories[1], &to, engine, destination.writePointer()), "reorder destination")
        var arguments = [dnnl_exec_arg_t(arg: DNNL_ARG_FROM, memory: memories[0]), dnnl_exec_arg_t(arg: DNNL_ARG_TO, memory: memories[1])]
        try dnnlCheck(dnnl_primitive_execute(primitive, stream, 2, &arguments), "reorder \(source.layout) -> \(destination.layout)")
        try dnnlCheck(dnnl_stream_wait(stream), "reorder wait")
    }
}
