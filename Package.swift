// swift-tools-version:6.0
// emflow: dataflow pipelines over large 3D electron-microscopy volumes.
// Layers (imports point downwards only): C system modules -> EMVolume -> EMStorage/EMCodecs ->
// format stores (EMZarr, EMHDF5, EMTIFF) -> EMStores -> EMNN / EMEvaluation -> pipeline -> emflow.
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
        .target(name: "EMZarr", dependencies: ["EMStorage", "EMCodecs"]),
        .target(name: "EMHDF5", dependencies: ["EMStorage", "CHDF5"]),
        .target(name: "EMTIFF", dependencies: ["EMStorage", "CTIFF"]),
        .target(name: "EMStores", dependencies: ["EMStorage", "EMProgress", "EMZarr", "EMHDF5", "EMTIFF"]),
        .target(name: "EMImaging", dependencies: ["EMVolume", "CZlib"]),
        .target(name: "EMSynthetic", dependencies: ["EMVolume"], path: "fixtures/Generator"),

        // Layers 4-6: network, evaluation.
        .target(name: "EMNN", dependencies: ["EMVolume", "EMStorage", "EMStores", "CDNNL", "COpenBLAS"]),
        .target(name: "EMEvaluation", dependencies: ["EMVolume", "EMStorage", "EMImaging"]),

        // Layer 7: pipelines.
        .target(name: "EMPipeline", dependencies: [
            "EMVolume", "EMProgress", "EMStorage", "EMStores", "EMZarr", "EMNN", "EMEvaluation",
            .product(name: "Yams", package: "Yams"),
        ]),

        // Layer 7b: running pipelines on clusters (Slurm, local processes).
        .target(name: "EMCluster", dependencies: ["EMPipeline", "EMStorage", "EMStores"]),

        // Layer 8: the command line.
        .executableTarget(name: "emflow", dependencies: [
            "EMVolume", "EMProgress", "EMStorage", "EMCodecs", "EMStores", "EMSynthetic", "EMImaging", "EMEvaluation", "EMNN", "EMPipeline", "EMCluster",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Yams", package: "Yams"),
        ]),

        // Tests.
        .target(name: "TestSupport", dependencies: ["EMVolume"], path: "Tests/TestSupport"),
        .testTarget(name: "EMVolumeTests", dependencies: ["EMVolume", "TestSupport"]),
        .testTarget(name: "EMStorageTests", dependencies: ["EMStorage", "EMCodecs", "TestSupport"]),
        .testTarget(name: "EMZarrTests", dependencies: ["EMZarr", "EMStores", "TestSupport"]),
        .testTarget(name: "EMHDF5Tests", dependencies: ["EMHDF5", "EMStores", "TestSupport"]),
        .testTarget(name: "EMTIFFTests", dependencies: ["EMTIFF", "EMStores", "TestSupport"]),
        .testTarget(name: "EMStoresTests", dependencies: ["EMStores", "TestSupport"]),
        .testTarget(name: "EMSyntheticTests", dependencies: ["EMSynthetic", "EMImaging", "TestSupport"]),
        .testTarget(name: "EMEvaluationTests", dependencies: ["EMEvaluation", "EMStores", "TestSupport"]),
        .testTarget(name: "EMNNTests", dependencies: ["EMNN", "EMStores", "TestSupport"]),
        .testTarget(name: "EMPipelineTests", dependencies: ["EMPipeline", "EMStores", "TestSupport"]),
        .testTarget(name: "EMClusterTests", dependencies: ["EMCluster", "EMPipeline", "EMNN", "EMStores", "TestSupport"]),
        .testTarget(name: "EMCLITests", dependencies: ["EMStores", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
