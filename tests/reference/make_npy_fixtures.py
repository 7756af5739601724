#!/usr/bin/env python3
"""Writes the .npy test fixtures with numpy itself (Debian's python3-numpy), so that SeqSharp's reader is
tested on files numpy wrote. Values follow simple formulas that the C# tests compute by hand."""
import os
import numpy as np

out = os.path.join(os.path.dirname(__file__), "..", "SeqSharp.Tests", "Fixtures", "npy")
os.makedirs(out, exist_ok=True)

def save(name, array, version=None):
    path = os.path.join(out, name)
    if version is None:
        np.save(path, array)
    else:
        with open(path, "wb") as f:
            np.lib.format.write_array(f, array, version=version)

# value of element k (C order) in each file:
save("f4_2d.npy", (np.arange(12, dtype=np.float32) * 0.5).reshape(4, 3))              # 0.5 k
save("f8_3d.npy", (np.arange(24, dtype=np.float64) / 3.0 - 1.0).reshape(2, 3, 4))     # k / 3 - 1
save("i8_1d.npy", np.arange(5, dtype=np.int64) * -7)                                  # -7 k
save("i4_2d.npy", (np.arange(6, dtype=np.int32) - 2).reshape(3, 2))                   # k - 2
save("i2_1d.npy", np.arange(4, dtype=np.int16) * 1000)                                # 1000 k
save("u1_2d.npy", (np.arange(6, dtype=np.uint8) * 40).reshape(2, 3))                  # 40 k
save("i1_1d.npy", np.arange(4, dtype=np.int8) - 2)                                    # k - 2
save("b1_1d.npy", np.arange(5) % 2 == 0)                                              # k even
save("f2_1d.npy", np.arange(4, dtype=np.float16) * 0.25)                              # 0.25 k
save("f4_scalar.npy", np.float32(2.5))                                                # 2.5
save("f4_empty.npy", np.zeros((0, 3), dtype=np.float32))
save("f4_v2.npy", (np.arange(6, dtype=np.float32) + 1).reshape(2, 3), version=(2, 0)) # k + 1
save("f4_v3.npy", (np.arange(6, dtype=np.float32) + 1).reshape(2, 3), version=(3, 0)) # k + 1
# refused:
save("f4_fortran.npy", np.asfortranarray((np.arange(6, dtype=np.float32)).reshape(2, 3)))
save("f4_bigendian.npy", np.arange(3, dtype=">f4"))
np.save(os.path.join(out, "object.npy"), np.array([1, "a"], dtype=object), allow_pickle=True)
save("complex.npy", np.arange(3, dtype=np.complex64))
print("numpy", np.__version__, "wrote", sorted(os.listdir(out)))
