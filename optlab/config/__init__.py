"""Each page's setup as a list of fields (``optlab.fields``): what its link, widgets and cache key are made of.

One module per page (``surface_lab.py`` ...), and ``app.py`` for the link keys every page keeps. No Streamlit.
"""
