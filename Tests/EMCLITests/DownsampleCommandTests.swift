import Foundation
import Testing
import TestSupport

/// `emflow downsample` as a user runs it on a generated volume.
@Suite("Downsample command")
struct DownsampleCommandTests {
    @Test("emflow downsample writes the levels with their voxel sizes, resumes as done, and names bad options")
    func pyramidFromTheCommandLine() throws {
        let dir = try TestEnvironment.temporaryDirectory("downsample-cli")
        let volume = dir.path + "/g.zarr"
        #expect(try runEmflow(["generate", volume, "--shape", "6,40,36", "--chunks", "6,20,18", "--seed", "3"]).status == 0)
        let pyramid = dir.path + "/pyramid.zarr/raw"
        let first = try runEmflow(["downsample", volume + "/volumes/raw", pyramid, "--levels", "2", "--chunks", "4,16,16"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("pyramid  downsample     1        0       0"), "\(first.stdout)")
        // generate's voxels are 40 x 4 x 4 nm: two levels halve y and x.
        let info = try runEmflow(["info", pyramid + "/2"])
        #expect(info.stdout.contains("shape        6,10,9") && info.stdout.contains("voxel size   40,16,16 nm"), "\(info.stdout)")
        let again = try runEmflow(["downsample", volume + "/volumes/raw", pyramid, "--levels", "2", "--chunks", "4,16,16"])
        #expect(again.status == 0 && again.stdout.contains("pyramid  downsample     0        1       0"), "\(again.stdout)")
        let bad = try runEmflow(["downsample", volume + "/volumes/raw", pyramid, "--method", "median"])
        #expect(bad.status != 0 && bad.stderr.contains("'auto', 'mean' or 'mode'"), "\(bad.stderr)")
        let missing = try runEmflow(["downsample", volume + "/volumes/rav", dir.path + "/other.zarr/x"])
        #expect(missing.status == 1 && missing.stderr.contains("did you mean"), "\(missing.stderr)")
    }
}
