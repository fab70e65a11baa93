"""The dashboard's entry point: `streamlit run dashboard/app.py` (what `stepseven dashboard` does)."""

from __future__ import annotations

import sys
from pathlib import Path

# Streamlit runs this file as a script: make the project's packages importable from a source checkout.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import streamlit as st

st.set_page_config(page_title="stepseven", page_icon="⏺", layout="wide")
here = Path(__file__).parent / "views"
page = st.navigation(
    [
        st.Page(here / "sessions.py", title="Sessions", url_path="sessions", default=True),
        st.Page(here / "replay.py", title="Replay", url_path="replay"),
        st.Page(here / "findings.py", title="Findings", url_path="findings"),
        st.Page(here / "sql.py", title="SQL", url_path="sql"),
        st.Page(here / "overview.py", title="Overview", url_path="overview"),
    ]
)
from dashboard.gate import signed_in  # noqa: E402  (after the path is set up)
from dashboard.render import degraded_banner  # noqa: E402

if not signed_in():
    st.stop()
degraded_banner()
page.run()
