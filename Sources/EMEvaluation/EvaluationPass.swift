import Foundation
import EMLabels
import EMVolume

/// Typed readers of the evaluated volumes, for one score type.
struct EvaluationInputs<S: ScoreValue> {
    /// Prediction scores of a box.
    var scores: (Box) throws -> Volume<S>
    /// Truth classes (mask applied) of a box.
    var classes: (Box) throws -> Volume<UInt8>
    /// Gray image data of a box for overlays (raw EM); nil: the scores are drawn instead.
    var gray: ((Box) throws -> Volume<UInt8>)?
    /// Bytes read per voxel (prediction, truth, mask), for throughput.
    var bytesPerVoxel: Int
}

/// What an evaluation pass yields.
struct EvaluationOutcome {
    var voxel: VoxelMetrics
    var objects: ObjectMetrics?
    var cremi: CremiMetrics?
    var overlays: [SliceOverlay]
    var notes: [String]
    var performance: EvaluationPerformance
}

/// One streaming pass over z slabs of a region: voxel metrics, objects, the CREMI volumes and
/// per-section counts, then the metrics that need everything.
struct EvaluationPass<S: ScoreValue> {
    let inputs: EvaluationInputs<S>
    let region: Box
    let placement: VoxelPlacement
    let options: EvaluationOptions
    let bins: ScoreBins
    let scale: Double
    let slabDepth: Int

    func run(progress: ((Int, Int) -> Void)?) throws -> EvaluationOutcome {
        let start = Date()
        var notes: [String] = []
        let planeSize = region.shape.y * region.shape.x
        let decisionKey = S.thresholdKey(for: options.threshold, scale: scale)
        let componentThreshold = options.objects?.componentThreshold ?? options.threshold
        let componentKey = S.thresholdKey(for: componentThreshold, scale: scale)
        var voxels = VoxelAccumulator<S>(threshold: options.threshold, scale: scale, bins: bins, exactLimit: options.exactVoxelLimit)
        var collector = options.objects.map {
            ObjectCollector(planeShape: (region.shape.y, region.shape.x), connectivity: $0.connectivity, placement: placement)
        }
        // Whole-region decision and class volumes for the CREMI distance transforms.
        var cremiPredicted = Volume<UInt8>(box: Box(shape: .zero)), cremiClasses = cremiPredicted
        var keepCremiVolumes = false
        if let cremi = options.cremi {
            if region.voxelCount <= cremi.maximumVoxels {
                cremiPredicted = Volume<UInt8>.zeros(region)
                cremiClasses = Volume<UInt8>.zeros(region)
                keepCremiVolumes = true
            } else {
                notes.append("CREMI distances skipped: \(region.voxelCount) voxels exceed the in-memory limit of \(cremi.maximumVoxels)")
            }
        }
        var truthPerSection = [Int](repeating: 0, count: region.shape.z)
        var predictedPerSection = [Int](repeating: 0, count: region.shape.z)

        let slabs = stride(from: region.offset.z, to: region.end.z, by: slabDepth).map { z in
            Box(begin: Coordinate(z, region.offset.y, region.offset.x),
                end: Coordinate(min(z + slabDepth, region.end.z), region.end.y, region.end.x))
        }
        // A background thread reads, classifies and counts the next slab while this one is labelled.
        let inputs = self.inputs
        let counter = voxels
        func read(_ box: Box) -> Prefetch<(Volume<S>, Volume<UInt8>, VoxelAccumulator<S>.CountedBlock)> {
            Prefetch {
                let scores = try inputs.scores(box), classes = try inputs.classes(box)
                return (scores, classes, try counter.count(scores: scores, classes: classes))
            }
        }
        var pending = slabs.first.map(read)
        for (index, box) in slabs.enumerated() {
            let (scores, classes, counted) = try pending!.value()
            pending = index + 1 < slabs.count ? read(slabs[index + 1]) : nil
            voxels.add(counted, scores: scores, classes: classes)
            scores.storage.withUnsafeBufferPointer { s in
                classes.storage.withUnsafeBufferPointer { c in
                    for plane in 0..<box.shape.z {
                        let range = plane * planeSize..<(plane + 1) * planeSize
                        let planeScores = UnsafeBufferPointer(rebasing: s[range])
                        let planeClasses = UnsafeBufferPointer(rebasing: c[range])
                        collector?.addPlane(scores: planeScores, classes: planeClasses, thresholdKey: componentKey, scale: scale)
                        let section = box.offset.z - region.offset.z + plane
                        let counts = Self.countPlane(planeScores, planeClasses, decisionKey: decisionKey)
                        truthPerSection[section] = counts.truth
                        predictedPerSection[section] = counts.predicted
                        if keepCremiVolumes {
                            Self.copyDecisions(planeScores, planeClasses, decisionKey: decisionKey, at: section * planeSize,
                                               predicted: &cremiPredicted, classes: &cremiClasses)
                        }
                    }
                }
            }
            progress?(index + 1, slabs.count)
        }

        let voxelMetrics = voxels.finish()
        if case .histogram = voxelMetrics.curve.method {
            notes.append("Curve from a \(bins.count)-bin score histogram (more than \(options.exactVoxelLimit) voxels): average precision within [\(voxelMetrics.curve.averagePrecisionRange.lower), \(voxelMetrics.curve.averagePrecisionRange.upper)]")
        }
        var objectMetrics: ObjectMetrics?
        if var collector, let objectOptions = options.objects {
            let metrics = ObjectMetrics(objects: collector.finish(score: objectOptions.score), options: objectOptions,
                                        componentThreshold: componentThreshold)
            if !metrics.largeClusters.isEmpty {
                notes.append("Object matching: \(metrics.largeClusters.count) cluster(s) of up to \(metrics.largeClusters.max()!) mutually reachable objects exceed the Hungarian limit of \(ObjectMatcher.hungarianLimit); their match counts are exact, their pairs nearest-first")
            }
            objectMetrics = metrics
        }
        var cremiMetrics: CremiMetrics?
        if keepCremiVolumes, let cremiOptions = options.cremi {
            cremiMetrics = try CremiMetrics(predicted: cremiPredicted, classes: cremiClasses,
                                            voxelSize: placement.voxelSize, options: cremiOptions)
        }
        let sections = OverlaySelection.sections(truth: truthPerSection, predicted: predictedPerSection, count: options.overlaySections)
        var overlays: [SliceOverlay] = []
        for section in sections {
            let z = region.offset.z + section
            overlays.append(try renderOverlay(z: z, decisionKey: decisionKey, truthVoxels: truthPerSection[section],
                                              predictedVoxels: predictedPerSection[section]))
        }
        let seconds = Date().timeIntervalSince(start)
        let slabBytes = 2 * slabDepth * planeSize * (MemoryLayout<S>.size + 1) // current and prefetched slab
        let performance = EvaluationPerformance(seconds: seconds, voxels: region.voxelCount,
                                                bytesRead: region.voxelCount * inputs.bytesPerVoxel, slabBytes: slabBytes)
        return EvaluationOutcome(voxel: voxelMetrics, objects: objectMetrics, cremi: cremiMetrics, overlays: overlays, notes: notes,
                       performance: performance)
    }

    /// Counts positive truth and predicted voxels of a plane (ignored voxels left out).
    private static func countPlane(_ scores: UnsafeBufferPointer<S>, _ classes: UnsafeBufferPointer<UInt8>,
                                   decisionKey: UInt64) -> (truth: Int, predicted: Int) {
        var truth = 0, predicted = 0
        for i in 0..<scores.count where classes[i] != VoxelClass.ignored.rawValue {
            if classes[i] == VoxelClass.positive.rawValue { truth += 1 }
            if UInt64(scores[i].orderKey) >= decisionKey { predicted += 1 }
        }
        return (truth, predicted)
    }

    /// Copies a plane's decisions (1 = predicted) and classes into the CREMI volumes at `offset`.
    private static func copyDecisions(_ scores: UnsafeBufferPointer<S>, _ classes: UnsafeBufferPointer<UInt8>, decisionKey: UInt64,
                                      at offset: Int, predicted: inout Volume<UInt8>, classes allClasses: inout Volume<UInt8>) {
        predicted.storage.withUnsafeMutableBufferPointer { p in
            allClasses.storage.withUnsafeMutableBufferPointer { c in
                for i in 0..<scores.count {
                    p[offset + i] = UInt64(scores[i].orderKey) >= decisionKey ? 1 : 0
                    c[offset + i] = classes[i]
                }
            }
        }
    }

    /// Draws section `z`: gray data with the truth and prediction outlines.
    private func renderOverlay(z: Int, decisionKey: UInt64, truthVoxels: Int, predictedVoxels: Int) throws -> SliceOverlay {
        let box = Box(begin: Coordinate(z, region.offset.y, region.offset.x), end: Coordinate(z + 1, region.end.y, region.end.x))
        let scores = try inputs.scores(box)
        let classes = try inputs.classes(box)
        let gray = try inputs.gray?(box) ?? scores.map { UInt8(clampingDouble: $0.doubleValue * scale * 255) }
        var section = SectionLayers(width: box.shape.x, height: box.shape.y)
        for i in 0..<box.voxelCount {
            section.gray[i] = gray.storage[i]
            section.truth[i] = classes.storage[i] == VoxelClass.positive.rawValue ? 1 : 0
            section.ignored[i] = classes.storage[i] == VoxelClass.ignored.rawValue ? 1 : 0
            section.predicted[i] = section.ignored[i] == 0 && UInt64(scores.storage[i].orderKey) >= decisionKey ? 1 : 0
        }
        return try section.overlay(z: z, maximumSide: options.overlayMaximumSide, truthVoxels: truthVoxels, predictedVoxels: predictedVoxels)
    }
}
