"""The replay's keys: j / k or the arrows for the previous / next buttons, n and e for the next finding
and the next error.

Streamlit's own ``shortcut=`` draws the key on the button, but its listener missed presses: in a
fresh tab a press after the page had drawn was now and then ignored (seen in Chromium). So
one listener of ours handles every key. It runs first (capture phase, on the window) and cancels the
event, so Streamlit's listener never sees it and a press never clicks twice. It is static (no trace
content, no arguments but widget keys checked below), installs once per browser tab, ignores keys
typed into a field or a slider (the slider moves with the arrows itself) and keys with a modifier,
and only clicks a button that is enabled (waiting a moment for one not drawn yet).
"""

from __future__ import annotations

import re

import streamlit as st

_KEY = re.compile(r"^[a-z0-9-]+$")

_SCRIPT = """<script>
(() => {
  const page = window;
  const keys = %(keys)s;
  page.__stepsevenKeys = keys;  // the latest buttons; the listener is added once per tab
  if (page.__stepsevenKeysOn) return;
  page.__stepsevenKeysOn = true;
  page.addEventListener("keydown", (event) => {
    const wanted = (page.__stepsevenKeys || {})[event.key];
    if (!wanted || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey || event.repeat) return;
    const target = event.target;
    const typing = "input, textarea, select, [contenteditable='true'], [role='slider']";
    if (target && target.closest && target.closest(typing)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    // In a fresh tab the buttons can draw a moment after the card (their code loads late): a press
    // made meanwhile waits for its button, up to 3 s, instead of being lost.
    const press = (tries) => {
      const button = page.document.querySelector(".st-key-" + wanted + " button");
      if (button && !button.disabled) button.click();
      else if (!button && tries > 0) page.setTimeout(() => press(tries - 1), 100);
    };
    press(30);
  }, true);
})();
</script>"""


def step_keys(*, previous: str, next: str, finding: str, error: str) -> None:
    """k / left arrow, j / right arrow, n and e click the buttons with these widget keys."""
    for key in (previous, next, finding, error):
        if not _KEY.match(key):
            raise ValueError(f"not a widget key this script can name: {key!r}")
    pressed = {"ArrowLeft": previous, "k": previous, "ArrowRight": next, "j": next, "n": finding, "e": error}
    keys = "{" + ", ".join(f'"{k}": "{v}"' for k, v in pressed.items()) + "}"
    # In the page itself (no frame to load); the same text every run, so it is not redrawn.
    st.html(_SCRIPT % {"keys": keys}, unsafe_allow_javascript=True)
