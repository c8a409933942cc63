"""The peer side of the storage benchmark: the same writes and reads with zarr-python and h5py.

Usage: storage_peer.py INPUT_ZARR_ARRAY SCRATCH_DIR CHUNKS ZSTD_LEVEL GZIP_LEVEL
Prints one JSON object shaped like `emflow bench storage`'s.
"""
import json
import os
import shutil
import sys
import time

import h5py
import numpy as np
import zarr
from numcodecs import Zstd

source, scratch, chunks, zstd_level, gzip_level = sys.argv[1:6]
chunks = tuple(min(int(c), s) for c, s in zip(chunks.split(","), zarr.open_array(source, mode="r").shape))
t = time.perf_counter()
data = zarr.open_array(source, mode="r")[...]
input_read = time.perf_counter() - t
results = []

path = os.path.join(scratch, "peer.zarr")
t = time.perf_counter()
z = zarr.create_array(path, shape=data.shape, chunks=chunks, dtype=data.dtype, zarr_format=2,
                      compressors=Zstd(level=int(zstd_level)), overwrite=True)
z[...] = data
write = time.perf_counter() - t
t = time.perf_counter()
back = zarr.open_array(path, mode="r")[...]
read = time.perf_counter() - t
assert np.array_equal(back, data)
size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
results.append({"case": "zarr-zstd", "write_s": write, "read_s": read, "write_MBps": data.nbytes / write / 1e6,
                "read_MBps": data.nbytes / read / 1e6, "bytes_on_disk": size})
shutil.rmtree(path)

path = os.path.join(scratch, "peer.h5")
t = time.perf_counter()
with h5py.File(path, "w") as f:
    f.create_dataset("raw", data=data, chunks=chunks, compression="gzip", compression_opts=int(gzip_level))
write = time.perf_counter() - t
t = time.perf_counter()
with h5py.File(path, "r") as f:
    back = f["raw"][...]
read = time.perf_counter() - t
assert np.array_equal(back, data)
results.append({"case": "hdf5-gzip", "write_s": write, "read_s": read, "write_MBps": data.nbytes / write / 1e6,
                "read_MBps": data.nbytes / read / 1e6, "bytes_on_disk": os.path.getsize(path)})
os.remove(path)
print(json.dumps({"tool": "zarr-python " + zarr.__version__ + " / h5py " + h5py.__version__, "shape": list(data.shape),
                  "chunks": list(chunks), "bytes": int(data.nbytes), "input_read_s": input_read, "cases": results}))
