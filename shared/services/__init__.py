"""The domain's rules, as plain functions and small classes. No Streamlit here."""
