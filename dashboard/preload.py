"""Why the replay's buttons stayed grey for seconds in a fresh tab, and what this does about it.

Streamlit's front end loads the code of each kind of element (button, metric, slider, Plotly chart...)
only when the first element of that kind arrives, and shows a grey placeholder until then. The page's
elements arrive as the script runs, so those downloads started one after another, late, and were
served by the same Python process that was busy running the script (Plotly's is 4.6 MB). Asking for
all of them with the page's first element lets them download while the script waits on the query API.

The script is static (file names of the installed Streamlit, checked to be plain names), no trace content.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import streamlit as st

# The element kinds the replay draws, by the names of their chunks in Streamlit's build.
KINDS = ("Button", "Metric", "NumberInput", "Slider", "TextInput", "Checkbox", "PlotlyChart",
         "StreamlitSyntaxHighlighter")  # fmt: skip
_PLAIN = re.compile(r"^[A-Za-z0-9_.-]+\.js$")


@cache
def chunks() -> tuple[str, ...]:
    """The installed Streamlit's file names for those chunks (none if its build is laid out otherwise)."""
    folder = Path(st.__file__).parent / "static" / "static" / "js"
    found = []
    for kind in KINDS:
        names = sorted(p.name for p in folder.glob(f"{kind}.*.js"))
        found += [n for n in names[:1] if _PLAIN.match(n)]
    return tuple(found)


_SCRIPT = """<script>
(() => {
  if (window.__stepsevenPreloaded) return;
  window.__stepsevenPreloaded = true;
  const main = document.querySelector('script[src*="static/js/index."]');
  if (!main) return;
  const base = main.src.replace(/index\\.[^/]+\\.js$/, "");
  for (const name of %s) import(base + name).catch(() => {});
})();
</script>"""


def element_code() -> None:
    """Starts the downloads of the replay's element code (once per tab)."""
    names = chunks()
    if names:
        listed = "[" + ", ".join(f'"{n}"' for n in names) + "]"
        st.html(_SCRIPT % listed, unsafe_allow_javascript=True)
