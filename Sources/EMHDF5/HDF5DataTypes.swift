import CHDF5
import EMStorage
import EMVolume

extension DataType {
    /// The HDF5 memory type of this element type (native byte order): reads and writes with
    /// it convert from and to whatever byte order the file holds.
    var hdf5MemoryType: hid_t {
        switch self {
        case .uint8: return emflow_H5T_NATIVE_UINT8()
        case .uint16: return emflow_H5T_NATIVE_UINT16()
        case .uint32: return emflow_H5T_NATIVE_UINT32()
        case .uint64: return emflow_H5T_NATIVE_UINT64()
        case .float32: return emflow_H5T_NATIVE_FLOAT()
        }
    }

    /// The HDF5 file type emflow creates datasets with (little-endian).
    var hdf5FileType: hid_t {
        switch self {
        case .uint8: return emflow_H5T_STD_U8LE()
        case .uint16: return emflow_H5T_STD_U16LE()
        case .uint32: return emflow_H5T_STD_U32LE()
        case .uint64: return emflow_H5T_STD_U64LE()
        case .float32: return emflow_H5T_IEEE_F32LE()
        }
    }

    /// The element type of a dataset's file type, in any byte order.
    ///
    /// - Throws: `StorageError.unsupported` naming the dataset, the type found and the
    ///   supported list (signed integers, float64, strings, compounds, ...).
    static func ofHDF5Type(_ type: hid_t, at label: String) throws -> DataType {
        let size = H5Tget_size(type)
        let found: String
        switch H5Tget_class(type) {
        case H5T_INTEGER:
            if H5Tget_sign(type) == H5T_SGN_NONE {
                switch size {
                case 1: return .uint8
                case 2: return .uint16
                case 4: return .uint32
                case 8: return .uint64
                default: found = "uint\(size * 8)"
                }
            } else {
                found = "int\(size * 8) (signed)"
            }
        case H5T_FLOAT:
            if size == 4 { return .float32 }
            found = "float\(size * 8)"
        case H5T_STRING: found = "string"
        case H5T_COMPOUND: found = "compound"
        case H5T_ENUM: found = "enum (e.g. bool)"
        case H5T_ARRAY: found = "array"
        case H5T_BITFIELD: found = "bitfield"
        case H5T_OPAQUE: found = "opaque"
        case H5T_REFERENCE: found = "reference"
        case H5T_VLEN: found = "variable-length"
        case H5T_TIME: found = "time"
        default: found = "an unknown HDF5 type class"
        }
        let supported = DataType.allCases.map(\.rawValue).joined(separator: ", ")
        throw StorageError.unsupported(path: label, feature: "data type \(found) (supported: \(supported))")
    }
}
