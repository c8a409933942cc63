import EMStorage
import EMStores
import EMVolume
import Foundation
import Testing
import TestSupport

/// Where volumes really are, who is writing them, and whether they changed or are finished.
@Suite("Store identity, locks and state")
struct StoreSafetyTests {
    func spec(_ shape: Coordinate = Coordinate(4, 8, 8)) -> VolumeSpec {
        VolumeSpec(shape: shape, dataType: .uint8, chunkShape: Coordinate(2, 8, 8), codec: .raw)
    }

    func volume(_ value: UInt8, _ shape: Coordinate = Coordinate(4, 8, 8)) -> Volume<UInt8> {
        var v = Volume<UInt8>(box: Box(shape: shape))
        for i in v.storage.indices { v.storage[i] = value &+ UInt8(i % 7) }
        return v
    }

    @Test func identityFollowsWhereTheBytesAre() throws {
        let dir = try TestEnvironment.temporaryDirectory("identity")
        _ = try Stores.create(StoreAddress.parse(dir.path + "/a.zarr/g/raw"), spec: spec())
        try FileManager.default.createSymbolicLink(atPath: dir.path + "/link.zarr", withDestinationPath: dir.path + "/a.zarr")
        let same = [dir.path + "/a.zarr/g/raw", dir.path + "/a.zarr:g/raw", dir.path + "/./a.zarr/g/raw",
                    dir.path + "/link.zarr/g/raw", dir.path + "/x/../a.zarr/g/raw"]
        let identities = try same.map { StoreIdentity(try StoreAddress.parse($0)) }
        for identity in identities { #expect(identity == identities[0], "\(identity) vs \(identities[0])") }
        let root = StoreIdentity(try StoreAddress.parse(dir.path + "/a.zarr"))
        let sibling = StoreIdentity(try StoreAddress.parse(dir.path + "/a.zarr/g/other"))
        #expect(root.overlaps(identities[0]) && identities[0].overlaps(root))
        #expect(!sibling.overlaps(identities[0]))
        // HDF5: the same file under two spellings, datasets apart or nested.
        let h5 = StoreIdentity(try StoreAddress.parse(dir.path + "/f.h5:volumes/raw"))
        #expect(h5 == StoreIdentity(try StoreAddress.parse(dir.path + "/./f.h5:/volumes/raw/")))
        #expect(h5.overlaps(StoreIdentity(try StoreAddress.parse(dir.path + "/f.h5:volumes"))))
        #expect(!h5.overlaps(StoreIdentity(try StoreAddress.parse(dir.path + "/f.h5:volumes/labels"))))
    }

    /// A creation killed before its `.zarray` was renamed into place leaves a directory of
    /// emflow's temporary files only: the next creation clears it (with or without
    /// overwrite); a directory holding anything else is still refused.
    @Test func killedCreationLeftoversAreCleared() throws {
        let dir = try TestEnvironment.temporaryDirectory("creation-leftovers")
        let address = dir.path + "/out.zarr/raw"
        try FileManager.default.createDirectory(atPath: address, withIntermediateDirectories: true)
        try Data("{".utf8).write(to: URL(fileURLWithPath: address + "/" + AtomicFile.temporaryPrefix + ".zarray-1-2"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: address + "/.emflow-convert.json"))
        let store = try Stores.create(StoreAddress.parse(address), spec: spec())
        try store.write(volume(3))
        #expect(try Stores.open(address).readAll(as: UInt8.self).storage == volume(3).storage)
        let other = dir.path + "/other.zarr/raw"
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        try Data("notes".utf8).write(to: URL(fileURLWithPath: other + "/notes.txt"))
        #expect(throws: StorageError.self) { try Stores.create(StoreAddress.parse(other), spec: spec(), overwrite: true) }
        #expect(FileManager.default.fileExists(atPath: other + "/notes.txt"))
    }

    @Test func arrayKeysStayInsideTheHierarchy() throws {
        for bad in ["o.zarr/..", "o.zarr/a/../b", "o.zarr:..", "o.zarr/a//b", "o.zarr/./a"] {
            #expect(throws: StorageError.self, "\(bad)") { try StoreAddress.parse(bad) }
        }
        #expect(try StoreAddress.parse("../data/o.zarr/a/b").key == "a/b")
        #expect(throws: StorageError.self) {
            try Stores.create(StoreAddress(format: .zarr, path: "/tmp/emflow-never.zarr", key: ".."), spec: spec())
        }
    }

    @Test func outputLockNamesTheProcessHoldingIt() throws {
        guard let python = TestEnvironment.python else {
            print("skipped: \(TestEnvironment.pythonMissing)")
            return
        }
        let dir = try TestEnvironment.temporaryDirectory("lock")
        let address = try StoreAddress.parse(dir.path + "/o.zarr/pred")
        let path = OutputLock.lockPath(for: address)
        #expect(path == dir.path + "/o.zarr/.emflow-lock-pred")
        // Another process takes the lock the way emflow does (flock, its pid in the file).
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: python)
        holder.arguments = ["-c", """
        import fcntl, os, sys, time
        os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
        f = open(sys.argv[1], 'a+'); fcntl.flock(f, fcntl.LOCK_EX); f.truncate(0); f.write(str(os.getpid())); f.flush()
        print('locked', flush=True); time.sleep(30)
        """, path]
        let out = Pipe()
        holder.standardOutput = out
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL); holder.waitUntilExit() } }
        _ = out.fileHandleForReading.availableData // waits for "locked"
        #expect(OutputLock.holder(of: address) == holder.processIdentifier)
        #expect {
            _ = try OutputLock.acquire(address)
        } throws: { error in
            "\(error)".contains("in use by process \(holder.processIdentifier)")
        }
        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        // The kernel dropped the lock with the process; this process may take it, twice.
        let first = try OutputLock.acquire(address)
        let nested = try OutputLock.acquire(address)
        #expect(OutputLock.holder(of: address) == nil)
        withExtendedLifetime((first, nested)) {}
    }

    @Test func contentStateChangesWhenTheVolumeIsRewritten() throws {
        let dir = try TestEnvironment.temporaryDirectory("state")
        let zarr = try StoreAddress.parse(dir.path + "/v.zarr/raw")
        try Stores.create(zarr, spec: spec()).write(volume(1))
        let before = Stores.contentState(of: zarr)
        #expect(Stores.contentState(of: zarr) == before)
        // emflow's own bookkeeping inside the array does not count.
        try AtomicFile.write("x", to: Stores.sidecarPath(for: zarr, name: "provenance.json"))
        #expect(Stores.contentState(of: zarr) == before)
        usleep(10_000)
        try Stores.create(zarr, spec: spec(), overwrite: true).write(volume(2))
        #expect(Stores.contentState(of: zarr) != before)

        let h5 = try StoreAddress.parse(dir.path + "/f.h5:volumes/raw")
        try Stores.create(h5, spec: spec()).write(volume(1))
        let h5Before = Stores.contentState(of: h5)
        // Writing another dataset of the same file (an emflow output beside the input) is no change.
        try Stores.create(try StoreAddress.parse(dir.path + "/f.h5:volumes/pred"), spec: spec()).write(volume(9))
        #expect(Stores.contentState(of: h5) == h5Before)
        try Stores.create(h5, spec: spec(), overwrite: true).write(volume(3))
        #expect(Stores.contentState(of: h5) != h5Before)
        #expect(Stores.contentState(of: try StoreAddress.parse(dir.path + "/missing.zarr/raw")) != before)
    }

    @Test func incompleteVolumesAreRefusedByOpenComplete() throws {
        let dir = try TestEnvironment.temporaryDirectory("incomplete")
        let address = try StoreAddress.parse(dir.path + "/v.zarr/raw")
        try Stores.create(address, spec: spec()).write(volume(1))
        #expect(Stores.incompleteness(of: address) == nil)
        let journal = try CopyJournal(creatingAt: Stores.sidecarPath(for: address, name: "convert.json"), fingerprint: "f", command: "emflow convert a b")
        #expect(Stores.incompleteness(of: address)?.contains("`emflow convert a b`") == true)
        #expect(throws: StorageError.self) { try Stores.openComplete(address) }
        try journal.markComplete()
        #expect(try Stores.openComplete(address).metadata.shape == Coordinate(4, 8, 8))
        try AtomicFile.write(#"{"complete": false, "pipeline": {"file": "p.yaml"}}"#, to: Stores.sidecarPath(for: address, name: "provenance.json"))
        #expect(Stores.incompleteness(of: address)?.contains("p.yaml") == true)
        try CopyJournal.invalidate(at: journal.path)
        #expect(try CopyJournal.load(at: journal.path) == nil)
    }
}
