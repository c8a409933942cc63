// swift-tools-version:6.0
// emflow: dataflow pipelines over large 3D electron-microscopy volumes.
// Layers (imports point downwards only): C system modules -> EMVolume -> EMStorage/EMCodecs ->
// format stores (EMZarr, EMHDF5, EMTIFF) -> EMStores; EMImaging (PNG, SVG charts) and EMLabels
// (component labelling, distance transform, matching) beside them -> EMNN / EMEvaluation ->
// EMPipeline -> EMCluster -> emflow. Each target declares exactly the modules it imports.
import PackageDescription

let apt = { (names: [String]) -> [SystemPackageProvider] in [.apt(names)] }

let package = Package(
    name: "emflow",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "emflow", targets: ["emflow"]),
        .library(name: "EMFlow", targets: ["EMVolume", "EMStorage", "EMStores", "EMSynthetic", "EMEvaluation", "EMNN", "EMPipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // Layer 1: C system libraries (Debian packages; see ../shared/notes/native-libraries.md).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5-serial", providers: apt(["libhdf5-dev"])),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: apt(["libtiff-dev"])),
        .systemLibrary(name: "CZstd", pkgConfig: "libzstd", providers: apt(["libzstd-dev"])),
        .systemLibrary(name: "CBlosc", pkgConfig: "blosc", providers: apt(["libblosc-dev"])),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: apt(["zlib1g-dev"])),
        .systemLibrary(name: "CDNNL", providers: apt(["libdnnl-dev"])),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: apt(["libopenblas-dev"])),

        // Layer 2: geometry and dense buffers.
        .target(name: "EMVolume"),
        .target(name: "EMProgress"),

        // Layer 3: storage.
        .target(name: "EMStorage", dependencies: ["EMVolume"]),
        .target(name: "EMCodecs", dependencies: ["EMStorage", "CZstd", "CBlosc", "CZlib"]),
        .target(name: "EMZarr", dependencies: ["EMVolume", "EMStorage", "EMCodecs"]),
        .target(name: "EMHDF5", dependencies: ["EMVolume", "EMStorage", "CHDF5"]),
        .target(name: "EMTIFF", dependencies: ["EMVolume", "EMStorage", "CTIFF"]),
        .target(name: "EMStores", dependencies: ["EMVolume", "EMStorage", "EMProgress", "EMZarr", "EMHDF5", "EMTIFF"]),
        .target(name: "EMImaging", dependencies: ["EMVolume", "CZlib"]),
        .target(name: "EMSynthetic", dependencies: ["EMVolume"], path: "fixtures/Generator"),

        // Layers 4-6: labelling, network, evaluation.
        .target(name: "EMLabels", dependencies: ["EMVolume"]),
        .target(name: "EMNN", dependencies: ["EMVolume", "EMStorage", "EMStores", "EMImaging", "CDNNL", "COpenBLAS"]),
        .target(name: "EMEvaluation", dependencies: ["EMVolume", "EMStorage", "EMImaging", "EMLabels"]),

        // Layer 6b: configuration files (YAML limits, the training configuration reader).
        .target(name: "EMConfiguration", dependencies: ["EMNN", "EMStorage", .product(name: "Yams", package: "Yams")]),

        // Layer 7: pipelines.
        .target(name: "EMPipeline", dependencies: [
            "EMVolume", "EMProgress", "EMStorage", "EMStores", "EMZarr", "EMNN", "EMLabels", "EMEvaluation", "EMConfiguration",
            .product(name: "Yams", package: "Yams"),
        ]),

        // Layer 7b: running pipelines on clusters (Slurm, local processes).
        .target(name: "EMCluster", dependencies: ["EMPipeline", "EMStorage", "EMStores"]),

        // Layer 8: the command line.
        .executableTarget(name: "emflow", dependencies: ["EMZarr", 
            "EMVolume", "EMProgress", "EMStorage", "EMStores", "EMSynthetic", "EMEvaluation", "EMNN", "EMConfiguration", "EMPipeline", "EMCluster",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),

        // Tests.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "EMVolumeTests", dependencies: ["EMVolume"]),
        .testTarget(name: "EMStorageTests", dependencies: ["EMVolume", "EMStorage", "EMCodecs", "TestSupport"]),
        .testTarget(name: "EMZarrTests", dependencies: ["EMStorage", "EMVolume", "EMZarr", "TestSupport"]),
        .testTarget(name: "EMHDF5Tests", dependencies: ["EMStorage", "EMVolume", "EMHDF5", "TestSupport"]),
        .testTarget(name: "EMTIFFTests", dependencies: ["CTIFF", "EMStorage", "EMVolume", "EMTIFF", "TestSupport"]),
        .testTarget(name: "EMStoresTests", dependencies: ["EMStorage", "EMVolume", "EMStores", "TestSupport"]),
        .testTarget(name: "EMSyntheticTests", dependencies: ["EMVolume", "EMSynthetic", "EMImaging", "TestSupport"]),
        .testTarget(name: "EMEvaluationTests", dependencies: ["EMStorage", "EMVolume", "EMEvaluation", "EMLabels", "EMStores", "TestSupport"]),
        .testTarget(name: "EMNNTests", dependencies: ["EMVolume", "EMNN", "EMStores", "TestSupport"]),
        .testTarget(name: "EMPipelineTests", dependencies: ["EMEvaluation", "EMNN", "EMStorage", "EMVolume", "EMPipeline", "EMLabels", "EMStores", "TestSupport"]),
        .testTarget(name: "EMClusterTests", dependencies: ["EMStorage", "EMVolume", "EMCluster", "EMPipeline", "EMNN", "EMStores", "TestSupport"]),
        .testTarget(name: "EMCLITests", dependencies: ["EMStorage", "EMVolume", "EMStores", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
