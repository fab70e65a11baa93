"""An attribute past the collector's size limit is cut, and GenAI messages (JSON in one string attribute)
stay JSON when they are: their longest texts are cut, each marked, every message kept."""

from __future__ import annotations

from typing import Any

import orjson
from opentelemetry.proto.common.v1.common_pb2 import AnyValue

from collector.config import MIB, Limits
from collector.decode import _Converter, cut_text

MARK = "...[stepseven: truncated "


def converted(value: str, limit: int) -> tuple[str, int]:
    converter = _Converter(Limits(max_attribute_value_bytes=limit))
    out = converter.value(AnyValue(string_value=value))
    assert isinstance(out, str)
    return out, converter.truncated


def test_two_megabytes_of_messages_are_cut_to_a_mebibyte_of_valid_json_with_every_message_kept() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "system", "parts": [{"type": "text", "content": "You plan trips."}]},
        {"role": "user", "parts": [{"type": "text", "content": "first half. " * 87_000}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "search", "arguments": {"q": "x"}}]},
        {"role": "user", "parts": [{"type": "text", "content": "second half. " * 80_000}]},
    ]
    sent = orjson.dumps(messages).decode()
    assert len(sent) > 2_000_000

    stored, truncated = converted(sent, MIB)

    assert truncated == 1 and len(stored) <= MIB
    kept = orjson.loads(stored)  # still JSON: the steps view reads it as messages, not as one long string
    assert [m["role"] for m in kept] == ["system", "user", "assistant", "user"]
    assert kept[0] == messages[0] and kept[2] == messages[2]  # the short ones untouched
    first, second = kept[1]["parts"][0]["content"], kept[3]["parts"][0]["content"]
    assert first.startswith("first half. ") and second.startswith("second half. ")
    # Each cut text ends with the mark saying how much of it is gone; together, the overflow.
    dropped = [int(text.rsplit(MARK, 1)[1].split(" ")[0]) for text in (first, second)]
    assert len(first) - len(first.rsplit(MARK, 1)[0]) < 60
    assert sum(dropped) >= len(sent) - MIB
    assert first.rsplit(MARK, 1)[0] == messages[1]["parts"][0]["content"][: len(first.rsplit(MARK, 1)[0])]


def test_text_that_is_not_json_is_cut_at_the_end_with_the_mark() -> None:
    stored, truncated = converted("[1/3] downloading " + "x" * 200, 50)
    assert truncated == 1
    assert stored == ("[1/3] downloading " + "x" * 200)[:50] + f"{MARK}168 chars]"


def test_a_value_under_the_limit_is_kept_whole() -> None:
    value = orjson.dumps([{"role": "user", "content": "hello"}]).decode()
    assert converted(value, MIB) == (value, 0)


def test_json_that_cannot_shrink_by_its_strings_is_cut_as_text() -> None:
    numbers = orjson.dumps(list(range(100))).decode()
    assert cut_text(numbers, 80) == numbers[:80] + f"{MARK}{len(numbers) - 80} chars]"


def test_json_nested_deeper_than_can_be_rewritten_is_cut_as_text_not_a_crash() -> None:
    deep = '{"a":' * 1000 + '"' + "x" * 5000 + '"' + "}" * 1000  # orjson reads 1,024 levels, writes 255
    assert cut_text(deep, 2000) == deep[:2000] + f"{MARK}{len(deep) - 2000} chars]"
