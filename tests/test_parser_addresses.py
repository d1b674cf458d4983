"""The client-address check of the parsers: its C fast path for dotted quads agrees with the full parser."""

from __future__ import annotations

import random

import pytest

from threatlens.errors import FieldError
from threatlens.parsers.fields import IpValidator, parse_address


def _slow(text: str) -> str | None:
    try:
        return str(parse_address(text))
    except ValueError:
        return None


def _fast(text: str) -> str | None:
    try:
        return IpValidator()(text)
    except FieldError:
        return None


def test_dotted_quads_and_near_misses_get_what_the_full_parser_gives() -> None:
    rnd = random.Random(7)
    texts = ["0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3", "1.2.3.4.5",
             "1.2.3.4 ", " 1.2.3.4", "1..3.4", "1.2.3.4%eth0", "[1.2.3.4]", "::ffff:1.2.3.4", "1.2.3.4\x00",
             "\u0661.2.3.4", "+1.2.3.4", "1.2.3.-4", "0x1.2.3.4", "1.2.3.4/24"]
    for _ in range(3000):
        parts = [str(rnd.choice([rnd.randrange(256), rnd.randrange(1000), 0])) for _ in range(rnd.choice([3, 4, 4, 5]))]
        if rnd.random() < 0.1:
            parts[rnd.randrange(len(parts))] = "0" + parts[0]
        texts.append(".".join(parts))
    for text in texts:
        assert _fast(text) == _slow(text), text


@pytest.mark.parametrize("text", ["2001:DB8::1", "fe80::1%eth0", "::1", "2001:db8:0:0:0:0:0:1"])
def test_other_addresses_still_go_through_the_full_parser(text: str) -> None:
    assert _fast(text) == _slow(text) is not None
