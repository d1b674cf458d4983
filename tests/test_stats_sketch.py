from __future__ import annotations

import random
from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from threatlens.stats.sketch import TopK


def feed(tk: TopK, stream: list, batch: int = 50) -> Counter:
    exact: Counter = Counter()
    for i in range(0, len(stream), batch):
        chunk = Counter(stream[i : i + batch])
        tk.merge(chunk)
        exact.update(chunk)
    return exact


def test_exact_while_under_capacity():
    tk: TopK[str] = TopK(10)
    exact = feed(tk, list("aaaabbbccd"), batch=3)
    assert tk.floor == 0
    assert tk.top(10) == [("a", 4, 0), ("b", 3, 0), ("c", 2, 0), ("d", 1, 0)]
    assert tk.total == sum(exact.values()) == 10
    assert tk.estimate("zz") == (0, 0)


def test_add_and_update_single_keys():
    tk: TopK[str] = TopK(3, slack=1)
    tk.add("x", 5)
    tk.update(["y", "y", "x"])
    assert tk.top(2) == [("x", 6, 0), ("y", 2, 0)]


def test_prune_keeps_capacity_and_raises_floor():
    tk: TopK[int] = TopK(4, slack=2)
    tk.merge({1: 10, 2: 9, 3: 8, 4: 7, 5: 1, 6: 2, 7: 3})  # 7 rows > limit 6: prune to 4
    assert len(tk) == 4
    assert tk.floor == 3  # the largest evicted count
    assert [k for k, _c, _e in tk.top(4)] == [1, 2, 3, 4]
    tk.merge({99: 1})  # a newcomer enters at floor + weight, error = floor
    assert tk.estimate(99) == (4, 3)
    assert tk.estimate(5) == (3, 3)  # not monitored: somewhere in 0..floor


def _skewed_stream(seed: int, n: int, distinct: int, a: float) -> list[int]:
    rng = np.random.default_rng(seed)
    heavy = ((rng.zipf(a, size=n) - 1) % distinct).tolist()
    tail = rng.integers(0, distinct, size=n // 4).tolist()  # a long uniform tail
    stream = heavy + tail
    random.Random(seed).shuffle(stream)
    return stream


def check_bounds(tk: TopK, exact: Counter) -> None:
    total = sum(exact.values())
    assert tk.total == total
    assert tk.floor <= total / (tk.capacity + 1)
    for key in tk:
        count, error = tk.estimate(key)
        assert count - error <= exact[key] <= count, (key, count, error, exact[key])
    monitored = set(tk)
    for key, true in exact.items():
        if key not in monitored:
            assert true <= tk.floor
        if true > total / (tk.capacity + 1):
            assert key in monitored  # every heavy hitter is always monitored


def test_error_bound_on_skewed_stream():
    stream = _skewed_stream(1, 40_000, 20_000, 1.3)
    tk: TopK[int] = TopK(50, slack=50)
    exact = feed(tk, stream, batch=500)
    assert tk.floor > 0  # the tail forced evictions
    check_bounds(tk, exact)
    # the top of a skewed stream is found exactly in order, with small relative error
    true_top = [k for k, _ in exact.most_common(5)]
    got = tk.top(5)
    assert [k for k, _c, _e in got] == true_top
    for k, c, e in got:
        assert c - exact[k] <= e


@settings(max_examples=60, deadline=None)
@given(
    stream=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=600),
    capacity=st.integers(min_value=1, max_value=12),
    slack=st.integers(min_value=1, max_value=12),
    batch=st.integers(min_value=1, max_value=40),
)
def test_error_bound_property(stream, capacity, slack, batch):
    tk: TopK[int] = TopK(capacity, slack=slack)
    exact = feed(tk, stream, batch=batch)
    check_bounds(tk, exact)
    assert len(tk) <= capacity + slack


@settings(max_examples=60, deadline=None)
@given(
    stream=st.lists(st.integers(min_value=0, max_value=200), min_size=1, max_size=800),
    n=st.integers(min_value=1, max_value=40),
)
def test_top_matches_full_sort(stream, n):
    tk: TopK[int] = TopK(30, slack=10)
    feed(tk, stream, batch=17)
    full = sorted((tk.estimate(k)[0] for k in tk), reverse=True)[:n]
    assert [c for _k, c, _e in tk.top(n)] == full


def test_top_orders_ties_by_first_arrival():
    tk: TopK[str] = TopK(100)
    tk.merge({"b": 1, "a": 2, "c": 1})
    tk.merge({"d": 1})
    assert tk.top(10) == [("a", 2, 0), ("b", 1, 0), ("c", 1, 0), ("d", 1, 0)]
    assert tk.top(0) == [] and TopK(3).top(5) == []


def test_columns_slots_are_reset_and_reused():
    tk: TopK[str] = TopK(2, slack=1, columns={"x": (np.int64, ()), "o": (object, (2,))}, lazy_columns=("l",))
    slots, new = tk.merge_keys(["a", "b", "c"], [5, 4, 3], prune=False)
    assert new == [0, 1, 2] and sorted(slots.tolist()) == [1, 2, 3]
    assert tk.slots(["zz", None]) == [0, 0] and tk.slot("a") == slots[0]
    for k, s in zip("abc", slots.tolist(), strict=True):
        tk.col["x"][s] = ord(k)
        tk.col["o"][s, 0] = k
    slots2, new2 = tk.merge_keys(["a", "d"], [1, 1])  # 4 keys > limit 3: prune evicts c and d
    assert new2 == [1] and slots2[0] == slots[0]
    assert "c" not in tk and "d" not in tk and len(tk) == 2
    freed = int(slots[2])
    assert tk.col["x"][freed] == 0 and tk.col["o"][freed, 0] is None
    assert tk.col["x"][slots[0]] == ord("a")
    assert tk.estimate("a") == (6, 0) and tk.floor == 3


def test_lazy_columns_keep_old_values():
    tk: TopK[int] = TopK(1, slack=1, columns={"o": (object, ())}, lazy_columns=("o",))
    slots, _ = tk.merge_keys([1, 2, 3], [5, 1, 1], prune=False)
    tk.col["o"][slots[1]] = "two"
    tk.prune()
    assert 2 not in tk and tk.col["o"][slots[1]] == "two"  # the caller checks ownership itself


def test_slots_grow_when_a_batch_brings_many_new_keys():
    tk: TopK[int] = TopK(4, slack=2, columns={"x": (np.int64, ())})
    slots, new = tk.merge_keys(list(range(500)), [1] * 500, prune=False)
    assert new == list(range(500))
    assert len(set(slots.tolist())) == 500 and 0 not in slots  # every new key got its own slot
    assert len(tk.col["x"]) > 500
    tk.prune()
    assert len(tk) == 4 and tk.floor == 1
