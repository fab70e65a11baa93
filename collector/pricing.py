"""What an LLM call cost: a price table of model name prefixes, shipped as collector/prices.toml.

A user's file of the same shape (``stepseven serve --prices FILE``) adds rows and replaces rows of the
same prefix. A model that matches no prefix has no cost (None, stored as NULL), never 0: an unknown
price is not a free call.
"""

from __future__ import annotations

import importlib.resources
import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PRICES_RESOURCE = "prices.toml"
PER_TOKENS = 1_000_000  # prices are per million tokens


class PriceFileError(ValueError):
    """A price file that cannot be read; the message says where and why."""


@dataclass(frozen=True, slots=True)
class Price:
    """US dollars per million tokens."""

    input: float
    output: float
    cached_input: float | None = None  # None: cached input is priced as input


@dataclass(frozen=True, slots=True)
class PriceTable:
    prices: Mapping[str, Price]  # lowercase model name prefix -> price

    def match(self, model: str | None) -> Price | None:
        """The price of the longest prefix ``model`` starts with, also tried without a "provider/" part."""
        if not model:
            return None
        name = model.strip().lower()
        for candidate in (name, name.rsplit("/", 1)[-1]):
            # Longest first: at most a few dozen prefixes, each a string comparison.
            for length in range(len(candidate), 0, -1):
                price = self.prices.get(candidate[:length])
                if price is not None:
                    return price
        return None

    def price(self, response_model: str | None, request_model: str | None) -> Price | None:
        """The response model's price, else the request model's (a provider may answer with a dated name)."""
        return self.match(response_model) or self.match(request_model)

    def cost(
        self,
        response_model: str | None,
        request_model: str | None,
        input_tokens: int | None,
        output_tokens: int | None,
        cache_read_input_tokens: int | None = None,
    ) -> float | None:
        """US dollars, or None when the call's model has no price or it recorded no token usage."""
        if input_tokens is None and output_tokens is None:
            return None
        price = self.price(response_model, request_model)
        if price is None:
            return None
        return call_cost(price, input_tokens or 0, output_tokens or 0, cache_read_input_tokens or 0)


def call_cost(price: Price, input_tokens: int, output_tokens: int, cached: int) -> float:
    """Input tokens include the cached ones (as the GenAI conventions ask, and OpenAI reports); an
    instrumentation that counts them apart (more cached than input) has its input priced whole."""
    uncached = input_tokens - cached if cached <= input_tokens else input_tokens
    cached_price = price.input if price.cached_input is None else price.cached_input
    return (uncached * price.input + cached * cached_price + output_tokens * price.output) / PER_TOKENS


def _parse(text: str, where: str) -> dict[str, Price]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PriceFileError(f"{where}: not TOML ({exc})") from None
    rows = document.get("prices")
    unknown = set(document) - {"prices"}
    if not isinstance(rows, dict) or unknown:
        raise PriceFileError(f'{where}: expected only [prices."model-prefix"] tables')
    table: dict[str, Price] = {}
    for prefix, row in rows.items():
        if not isinstance(row, dict) or not prefix.strip():
            raise PriceFileError(f'{where}: [prices."{prefix}"] must be a table with input and output')
        extra = set(row) - {"input", "output", "cached_input"}
        if extra or "input" not in row or "output" not in row:
            raise PriceFileError(
                f'{where}: [prices."{prefix}"] takes input, output and optionally cached_input '
                f"(US dollars per million tokens){'; not ' + ', '.join(sorted(extra)) if extra else ''}"
            )
        values = {key: _dollars(value, f'{where}: [prices."{prefix}"] {key}') for key, value in row.items()}
        table[prefix.strip().lower()] = Price(values["input"], values["output"], values.get("cached_input"))
    return table


def _dollars(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise PriceFileError(f"{where} must be a number of dollars, 0 or more (got {value!r})")
    return float(value)


def shipped_prices() -> dict[str, Price]:
    """The table that comes with the package (collector/prices.toml)."""
    text = importlib.resources.files("collector").joinpath(PRICES_RESOURCE).read_text(encoding="utf-8")
    return _parse(text, f"collector/{PRICES_RESOURCE}")


def load_prices(path: Path | None = None) -> PriceTable:
    """The shipped prices, with the rows of the user's file at ``path`` added or replacing theirs."""
    prices = shipped_prices()
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise PriceFileError(f"{path}: cannot be read ({exc})") from None
        prices.update(_parse(text, str(path)))
    return PriceTable(prices)


DEFAULT_PRICES = load_prices()
