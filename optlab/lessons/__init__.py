"""Lessons on torch.optim: small functions that run one experiment each and return plain numbers and arrays.

No Streamlit and no Plotly here: the pages draw what these functions return, and show their source.
"""
