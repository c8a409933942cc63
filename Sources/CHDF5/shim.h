#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
#include <hdf5.h>

/* HDF5's property-list classes, type ids and file-access flags are macros that expand to
 * comma expressions (they call H5open first), which Swift cannot import. These wrappers give
 * them to Swift as functions; each is a plain read of the macro. */

/* File access flags. */
static inline unsigned emflow_H5F_ACC_RDONLY(void) { return H5F_ACC_RDONLY; }
static inline unsigned emflow_H5F_ACC_RDWR(void) { return H5F_ACC_RDWR; }
static inline unsigned emflow_H5F_ACC_TRUNC(void) { return H5F_ACC_TRUNC; }

/* Property-list classes. */
static inline hid_t emflow_H5P_FILE_ACCESS(void) { return H5P_FILE_ACCESS; }
static inline hid_t emflow_H5P_DATASET_CREATE(void) { return H5P_DATASET_CREATE; }
static inline hid_t emflow_H5P_LINK_CREATE(void) { return H5P_LINK_CREATE; }

/* Native (memory) types: reads and writes convert to and from any byte order in the file. */
static inline hid_t emflow_H5T_NATIVE_UINT8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t emflow_H5T_NATIVE_UINT16(void) { return H5T_NATIVE_UINT16; }
static inline hid_t emflow_H5T_NATIVE_UINT32(void) { return H5T_NATIVE_UINT32; }
static inline hid_t emflow_H5T_NATIVE_UINT64(void) { return H5T_NATIVE_UINT64; }
static inline hid_t emflow_H5T_NATIVE_FLOAT(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t emflow_H5T_NATIVE_DOUBLE(void) { return H5T_NATIVE_DOUBLE; }

/* File types emflow writes: little-endian, as h5py and most tools write on x86 and ARM. */
static inline hid_t emflow_H5T_STD_U8LE(void) { return H5T_STD_U8LE; }
static inline hid_t emflow_H5T_STD_U16LE(void) { return H5T_STD_U16LE; }
static inline hid_t emflow_H5T_STD_U32LE(void) { return H5T_STD_U32LE; }
static inline hid_t emflow_H5T_STD_U64LE(void) { return H5T_STD_U64LE; }
static inline hid_t emflow_H5T_IEEE_F32LE(void) { return H5T_IEEE_F32LE; }
static inline hid_t emflow_H5T_IEEE_F64LE(void) { return H5T_IEEE_F64LE; }

#endif
