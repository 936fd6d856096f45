"""The decorator's input: the JSON text built directly for plain arguments gives exactly the content the bound dict
gives (every mode), and the dict is what `inspect.Signature.bind` binds (self/cls left out, *args as a list)."""
from __future__ import annotations

import inspect

from hypothesis import given, settings
from hypothesis import strategies as st

from strata_capture.decorator import binder
from strata_capture.scrub import content_text


def two(question, user="anon"):
    return question


def varargs(a, *rest, **kw):
    return a


class Bot:
    def ask(self, question, n=1):
        return question


SIGNATURES = [two, varargs, Bot.ask]
PII = ["jane@example.com", "(415) 555-2671", "123-45-6789", "4111 1111 1111 1111", "10.0.0.1"]
SCALARS = (st.text() | st.sampled_from(PII) | st.integers() | st.booleans() | st.none() | st.floats()
           | st.sampled_from([float("nan"), float("-inf"), -0.0, 1e16])
           | st.integers(10**5000, 10**5000 + 1)  # past the int-to-text digit limit
           | st.lists(st.text(max_size=5), max_size=3) | st.builds(object))
NAMES = st.sampled_from(["question", "user", "a", "n", "self", "x", "ünï", 'q"uote'])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SIGNATURES), st.lists(SCALARS, max_size=4), st.just({}) | st.dictionaries(NAMES, SCALARS, max_size=3),
       st.sampled_from(["scrub", "raw", "hash"]))
def test_text_input_equals_the_dict_input(fn, args, kwargs, mode):
    fast, slow = binder(fn)(tuple(args), kwargs), binder(fn, text=False)(tuple(args), kwargs)
    assert isinstance(slow, dict)
    assert content_text(fast, mode, 32_000) == content_text(slow, mode, 32_000)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=8) | st.integers(), min_size=1, max_size=4))
def test_dict_input_is_what_the_signature_binds(args):
    fn = varargs if len(args) > 2 else two
    expected = dict(inspect.signature(fn).bind(*args).arguments)
    if "rest" in expected:
        expected["rest"] = list(expected["rest"])
    assert binder(fn, text=False)(tuple(args), {}) == expected
    bound = dict(inspect.signature(Bot.ask).bind(Bot(), *args[:2]).arguments)
    del bound["self"]
    assert binder(Bot.ask, text=False)((Bot(), *args[:2]), {}) == bound


def test_plain_arguments_take_the_text_path():
    assert binder(two)(("what is the refund policy?", "u1"), {}) == '{"question":"what is the refund policy?","user":"u1"}'
    assert binder(two)((), {"question": "q", "user": None}) == '{"question":"q","user":null}'
    assert binder(Bot.ask)((Bot(), "q", True), {}) == '{"question":"q","n":true}'
    assert isinstance(binder(two)(("q", ["list"]), {}), dict)  # not plain: the dict
    assert isinstance(binder(two)(("q",), {"user": "u"}), dict)  # positional and keyword together: the dict
