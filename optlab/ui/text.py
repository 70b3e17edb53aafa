"""Text from users (typed formulas, links, file names) shown literally in Streamlit's Markdown-rendering elements."""

import re

# Markdown and KaTeX syntax characters; a backslash in front makes Streamlit print each one as itself.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~$:])")


def literal(text: object) -> str:
    """``text`` escaped so that st.error/st.warning/st.markdown show it exactly as written.

    Without it ``__import__`` renders as a bold "import", and a link could smuggle in a Markdown image.
    """
    return _SPECIAL.sub(r"\\\1", str(text))
