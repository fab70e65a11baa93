"""The Streamlit dashboard: sessions, step-by-step replay, findings, SQL and an overview."""
