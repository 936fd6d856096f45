"""The compiled kernels (numba, the `fast` extra) equal the numpy ones: window order statistics bit for bit on any
series (ties, short windows, a carried prefix), and the CUSUM path equal to the reference's own recursion."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("numba")

from pipeline.core.detectors.compiled import cusum_path_fast, window_order_stats_fast  # noqa: E402
from pipeline.core.detectors.vectorized import cusum_path_numpy  # noqa: E402
from pipeline.core.detectors.window import window_order_stats_numpy  # noqa: E402

series = st.one_of(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=1, max_size=300),
    st.lists(st.integers(0, 4).map(float), min_size=1, max_size=300),  # many ties: MAD and IQR of 0
)


@settings(max_examples=200, deadline=None)
@given(series, st.integers(1, 80), st.data())
def test_window_order_stats_are_bit_identical(values, window, data):
    buf = np.array(values)
    start = data.draw(st.integers(0, len(buf) - 1))
    for mad, quartiles in ((True, True), (True, False), (False, True), (False, False)):
        slow = window_order_stats_numpy(buf, start, window, mad=mad, quartiles=quartiles)
        fast = window_order_stats_fast(buf, start, window, mad=mad, quartiles=quartiles)
        assert slow.keys() == fast.keys()
        for key in slow:
            np.testing.assert_array_equal(fast[key], slow[key], err_msg=f"{key} mad={mad} quartiles={quartiles}")


def cusum_reference(z, k, h, hi, lo):
    """reference.CUSUM's recursion, one point at a time."""
    his, los = [], []
    for x in z:
        hi, lo = max(0.0, hi + (x - k)), max(0.0, lo + (-x - k))
        his.append(hi)
        los.append(lo)
        if max(hi, lo) >= h:
            hi, lo = 0.0, 0.0
    return np.array(his), np.array(los), hi, lo


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-8, 8, allow_nan=False), min_size=1, max_size=3000),
       st.floats(0, 1), st.floats(0.5, 10), st.floats(0, 5), st.floats(0, 5))
def test_cusum_path_is_the_reference_recursion(z, k, h, hi, lo):
    z = np.array(z)
    his, los, end_hi, end_lo = cusum_path_fast(z, k, h, hi, lo)
    ref = cusum_reference(z, k, h, hi, lo)
    np.testing.assert_array_equal(his, ref[0])
    np.testing.assert_array_equal(los, ref[1])
    assert (end_hi, end_lo) == (ref[2], ref[3])
    closed = cusum_path_numpy(z, k, h, hi, lo)  # the closed form agrees up to rounding
    np.testing.assert_allclose(closed[0], his, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(closed[1], los, rtol=1e-9, atol=1e-9)
