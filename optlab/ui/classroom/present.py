"""The presenter view (``?present=1``): the figure large, minimal chrome, text readable from the back of a room
at 1280×720, and a QR code with the short link for students to join.

The QR code is drawn by ``qrcode`` (pure Python) as SVG paths (https://github.com/lincolnloop/python-qrcode).
"""

from __future__ import annotations

import base64
import html
import io

import qrcode
import qrcode.image.svg
import streamlit as st

from optlab.i18n import t

# Hide the sidebar, the header and the toolbar; large type; the main column uses the whole width.
PRESENT_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
[data-testid="stToolbar"], [data-testid="stDecoration"], [data-testid="stSidebarNav"] {display: none !important;}
.block-container, [data-testid="stMainBlockContainer"] {padding: 0.6rem 1.2rem !important; max-width: 100% !important;}
html, body, [data-testid="stMarkdownContainer"] p, [data-testid="stMarkdownContainer"] li {font-size: 24px !important;}
[data-testid="stAlert"] [data-testid="stMarkdownContainer"] p {margin-bottom: 0.2rem;}
h1 {font-size: 44px !important;} h2, h3 {font-size: 34px !important;}
.optlab-join {font-size: 24px;}
</style>
"""
# The join card, wherever it is shown: centred, the link wrapped anywhere so it never runs off the screen.
JOIN_CSS = """<style>
.optlab-join {line-height: 1.3; text-align: center;}
.optlab-join .optlab-code {font-size: 1.3em;}
.optlab-join .optlab-link {font-size: 0.85em; word-break: break-all;}
</style>"""


def qr_svg(text: str) -> str:
    """The QR code of ``text`` as an SVG document (medium error correction, a 4-module quiet zone)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         image_factory=qrcode.image.svg.SvgPathImage)
    code.add_data(text)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue().decode("utf-8")


def apply_presenter_style() -> None:
    st.html(PRESENT_CSS)


def join_card(link: str, class_code: str | None, size_px: int = 260) -> None:
    """The QR code and the short link (and the class code) for students, large."""
    svg = base64.b64encode(qr_svg(link).encode("utf-8")).decode("ascii")
    code_line = (t("Class code: {code}", code=f'<b class="optlab-code">{html.escape(class_code)}</b>') + "<br>"
                 if class_code else "")
    st.html(f'{JOIN_CSS}<div class="optlab-join"><img alt="{t("QR code of the link")}" width="{size_px}" '
            f'height="{size_px}" src="data:image/svg+xml;base64,{svg}"><br>{code_line}'
            f'<span class="optlab-link" data-testid="optlab-join-link">{html.escape(link)}</span></div>')
