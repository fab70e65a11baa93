"""The arrow keys for the replay's previous / next buttons.

Streamlit's own ``shortcut=`` gives each button one key (j, k, n, e on the replay); a second key per
button needs a listener in the page. This one is static (no trace content, no arguments but widget
keys checked below), installs once per browser tab, ignores keys typed into a field or a slider (the
slider moves with the arrows itself) and keys with a modifier, and only clicks a button that is there
and enabled.
"""

from __future__ import annotations

import re

import streamlit as st

_KEY = re.compile(r"^[a-z0-9-]+$")

_SCRIPT = """<script>
(() => {
  const page = window;
  const keys = %(keys)s;
  page.__stepsevenArrows = keys;  // the latest buttons; the listener is added once per tab
  if (page.__stepsevenArrowsOn) return;
  page.__stepsevenArrowsOn = true;
  page.document.addEventListener("keydown", (event) => {
    const wanted = (page.__stepsevenArrows || {})[event.key];
    if (!wanted || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey || event.repeat) return;
    const target = event.target;
    const typing = "input, textarea, select, [contenteditable='true'], [role='slider']";
    if (target && target.closest && target.closest(typing)) return;
    const button = page.document.querySelector(".st-key-" + wanted + " button");
    if (!button || button.disabled) return;
    event.preventDefault();
    button.click();
  });
})();
</script>"""


def arrow_keys(*, previous: str, next: str) -> None:
    """Left and right arrows click the buttons with these widget keys."""
    for key in (previous, next):
        if not _KEY.match(key):
            raise ValueError(f"not a widget key this script can name: {key!r}")
    keys = f'{{"ArrowLeft": "{previous}", "ArrowRight": "{next}"}}'
    # In the page itself (no frame to load); the same text every run, so it is not redrawn.
    st.html(_SCRIPT % {"keys": keys}, unsafe_allow_javascript=True)
