"""The dashboard asks for the collector's token before it shows anything, when the collector has one.

Every page's data comes from the query API, which checks the token; without this gate the dashboard, which
holds the token, would show that data to any browser that reaches its port. A browser proves it knows the
token once (the sign-in form, or `?token=` in a link, removed from the address at once) and keeps the proof in
its Streamlit session; a new session asks again.
"""

from __future__ import annotations

import hmac
import os

import streamlit as st

_SIGNED_IN = "stepseven_signed_in"


def _matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def signed_in() -> bool:
    """Whether this browser session may see the data; if not, the sign-in form is what the page shows."""
    token = os.environ.get("STEPSEVEN_TOKEN")
    if not token or st.session_state.get(_SIGNED_IN):
        return True
    given = st.query_params.get("token")
    if given is not None:
        del st.query_params["token"]  # not left in the address bar, the history or a shared link
        if _matches(given, token):
            st.session_state[_SIGNED_IN] = True
            return True
    st.title("stepseven")
    st.write("This collector needs its token (`--token`, `STEPSEVEN_TOKEN`) to show its sessions.")
    with st.form("sign-in"):
        entered = st.text_input("Token", type="password")
        if st.form_submit_button("Sign in"):
            if _matches(entered, token):
                st.session_state[_SIGNED_IN] = True
                st.rerun()
            st.error("That is not this collector's token.")
    return False
