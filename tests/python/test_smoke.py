"""Smoke test of libconv1d's C ABI from Python through ctypes.

Usage: python3 tests/python/test_smoke.py [path/to/libconv1d.so]
(or set CONV1D_LIBRARY); CONV1D_EXPECTED_VERSION, if set, is the version
the library must report. Needs only numpy; prints "python smoke: N passed,
M failed" and exits non-zero if anything failed.
"""

import ctypes
import os
import sys
import tempfile
import traceback

import numpy as np

CONV1D_OK = 0
CONV1D_ERROR_INVALID_SIZE = 6
CONV1D_PARAM_ACTIVATION = 200
CONV1D_WEIGHT_KERNEL = 0
CONV1D_WEIGHT_BIAS = 1


def load_library():
    path = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CONV1D_LIBRARY")
    if not path:
        sys.exit("usage: test_smoke.py path/to/libconv1d.so (or set CONV1D_LIBRARY)")
    lib = ctypes.CDLL(path)

    layer_p = ctypes.c_void_p
    status = ctypes.c_int
    i64 = ctypes.c_int64
    size = ctypes.c_size_t
    float_p = ctypes.POINTER(ctypes.c_float)

    def declare(name, restype, *argtypes):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = list(argtypes)

    declare("conv1d_version_number", ctypes.c_uint)
    declare("conv1d_version_string", ctypes.c_char_p)
    declare("conv1d_status_string", ctypes.c_char_p, status)
    declare("conv1d_last_error_message", ctypes.c_char_p)
    declare("conv1d_create", status, i64, i64, ctypes.POINTER(layer_p))
    declare("conv1d_destroy", None, layer_p)
    declare("conv1d_set_string", status, layer_p, ctypes.c_int, ctypes.c_char_p)
    declare("conv1d_set_weights", status, layer_p, float_p, size, float_p, size)
    declare("conv1d_output_shape", status, layer_p, i64, i64, ctypes.POINTER(i64), ctypes.POINTER(size))
    declare("conv1d_forward", status, layer_p, float_p, size, i64, i64, i64, float_p, size)
    declare("conv1d_get_weights", status, layer_p, float_p, size, float_p, size)
    declare("conv1d_save_npy", status, layer_p, ctypes.c_int, ctypes.c_char_p)
    declare("conv1d_load_npy", status, layer_p, ctypes.c_int, ctypes.c_char_p)
    return lib


LIB = load_library()


def check(status, what):
    assert status == CONV1D_OK, "%s: %s: %s" % (
        what,
        LIB.conv1d_status_string(status).decode(),
        LIB.conv1d_last_error_message().decode(),
    )


def as_float_p(array):
    assert array.dtype == np.float32 and array.flags["C_CONTIGUOUS"]
    return array.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


def reference_conv1d_relu(x, kernel, bias):
    """Keras Conv1D, channels_last, 'valid' padding, stride 1, then relu, in float64."""
    x = x.astype(np.float64)
    kernel = kernel.astype(np.float64)
    batch, steps, _ = x.shape
    kernel_size, _, filters = kernel.shape
    out_steps = steps - kernel_size + 1
    y = np.zeros((batch, out_steps, filters))
    for k in range(kernel_size):  # cross-correlation: no kernel flip
        y += np.einsum("btc,cf->btf", x[:, k : k + out_steps, :], kernel[k])
    y += bias.astype(np.float64)
    return np.maximum(y, 0.0)


def test_version():
    text = LIB.conv1d_version_string().decode()
    major, minor, patch = (int(part) for part in text.split("."))
    assert LIB.conv1d_version_number() == major * 10000 + minor * 100 + patch, (text, LIB.conv1d_version_number())
    expected = os.environ.get("CONV1D_EXPECTED_VERSION")  # set by CTest to the project version
    assert expected is None or text == expected, "library says %s, project is %s" % (text, expected)


def test_forward_matches_numpy():
    rng = np.random.default_rng(2024)
    batch, steps, channels, filters, kernel_size = 4, 10, 128, 32, 3
    x = rng.random((batch, steps, channels), dtype=np.float32)
    kernel = rng.standard_normal((kernel_size, channels, filters)).astype(np.float32) * np.float32(0.1)
    bias = rng.standard_normal(filters).astype(np.float32) * np.float32(0.1)

    layer = ctypes.c_void_p()
    check(LIB.conv1d_create(filters, kernel_size, ctypes.byref(layer)), "conv1d_create")
    try:
        check(LIB.conv1d_set_string(layer, CONV1D_PARAM_ACTIVATION, b"relu"), "set activation")
        check(LIB.conv1d_set_weights(layer, as_float_p(kernel), kernel.size, as_float_p(bias), bias.size),
              "conv1d_set_weights")
        shape = (ctypes.c_int64 * 3)()
        count = ctypes.c_size_t()
        check(LIB.conv1d_output_shape(layer, batch, steps, shape, ctypes.byref(count)), "conv1d_output_shape")
        assert tuple(shape) == (4, 8, 32), tuple(shape)
        assert count.value == 4 * 8 * 32, count.value

        y = np.full(tuple(shape), np.nan, dtype=np.float32)
        check(LIB.conv1d_forward(layer, as_float_p(x), x.size, batch, steps, channels, as_float_p(y), y.size),
              "conv1d_forward")
    finally:
        LIB.conv1d_destroy(layer)

    expected = reference_conv1d_relu(x, kernel, bias)
    error = float(np.max(np.abs(y.astype(np.float64) - expected)))
    assert np.all(np.isfinite(y)), "output has non-finite values"
    assert error <= 1e-4, "max abs error %g vs the numpy reference" % error
    assert np.any(expected == 0.0) and np.any(expected > 0.0), "test data should exercise both sides of relu"


def test_invalid_filters_is_refused():
    layer = ctypes.c_void_p()
    status = LIB.conv1d_create(0, 3, ctypes.byref(layer))
    assert status == CONV1D_ERROR_INVALID_SIZE, "status %d, expected %d" % (status, CONV1D_ERROR_INVALID_SIZE)
    assert not layer.value, "no layer must be returned on failure"
    message = LIB.conv1d_last_error_message().decode()
    assert "filters" in message, "error message does not name 'filters': %r" % message


def test_npy_files_round_trip_with_numpy():
    """conv1d_save_npy writes what numpy.load reads, and conv1d_load_npy reads what numpy.save writes."""
    rng = np.random.default_rng(7)
    kernel = rng.standard_normal((3, 5, 4))  # float64: the library rounds to float32
    bias = rng.standard_normal(4).astype(np.float32)
    layer = ctypes.c_void_p()
    check(LIB.conv1d_create(4, 3, ctypes.byref(layer)), "conv1d_create")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            k_in, b_in = os.path.join(tmp, "k.npy"), os.path.join(tmp, "b.npy")
            np.save(k_in, kernel)
            np.save(b_in, bias)
            check(LIB.conv1d_load_npy(layer, CONV1D_WEIGHT_KERNEL, k_in.encode()), "conv1d_load_npy kernel")
            check(LIB.conv1d_load_npy(layer, CONV1D_WEIGHT_BIAS, b_in.encode()), "conv1d_load_npy bias")
            got_k = np.zeros(kernel.shape, dtype=np.float32)
            got_b = np.zeros(bias.shape, dtype=np.float32)
            check(LIB.conv1d_get_weights(layer, as_float_p(got_k), got_k.size, as_float_p(got_b), got_b.size),
                  "conv1d_get_weights")
            assert np.array_equal(got_k, kernel.astype(np.float32))
            assert np.array_equal(got_b, bias)

            k_out, b_out = os.path.join(tmp, "k_out.npy"), os.path.join(tmp, "b_out.npy")
            check(LIB.conv1d_save_npy(layer, CONV1D_WEIGHT_KERNEL, k_out.encode()), "conv1d_save_npy kernel")
            check(LIB.conv1d_save_npy(layer, CONV1D_WEIGHT_BIAS, b_out.encode()), "conv1d_save_npy bias")
            saved_k, saved_b = np.load(k_out), np.load(b_out)
            assert saved_k.dtype == np.float32 and saved_k.shape == (3, 5, 4), (saved_k.dtype, saved_k.shape)
            assert saved_b.dtype == np.float32 and saved_b.shape == (4,), (saved_b.dtype, saved_b.shape)
            assert np.array_equal(saved_k, got_k) and np.array_equal(saved_b, bias)
    finally:
        LIB.conv1d_destroy(layer)


def main():
    tests = [test_version, test_forward_matches_numpy, test_invalid_filters_is_refused,
             test_npy_files_round_trip_with_numpy]
    passed = failed = 0
    for test in tests:
        try:
            test()
        except Exception:  # report every failure, assertion or otherwise
            failed += 1
            print("FAIL %s" % test.__name__)
            traceback.print_exc()
        else:
            passed += 1
            print("ok   %s" % test.__name__)
    print("python smoke: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
