"""A small client of Streamlit's own websocket protocol (what the browser speaks), for benchmarks and tests.

One `StreamlitSession` is one browser tab: it connects to `/_stcore/stream`, sends `BackMsg.rerun_script` with the
page, the query string and the widget states, and reads `ForwardMsg`s until `script_finished`. It keeps what the
frontend keeps: the widgets drawn (found by label), the values set on them, and the fragments that asked to rerun
on a timer (`auto_rerun`), which `poll()` reruns as the browser would. No browser, no JavaScript: it measures the
server alone. Message definitions: streamlit/proto/BackMsg.proto, ForwardMsg.proto, WidgetStates.proto.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

FINISH = {
    ForwardMsg.FINISHED_SUCCESSFULLY: "finished",
    ForwardMsg.FINISHED_WITH_COMPILE_ERROR: "compile_error",
    ForwardMsg.FINISHED_EARLY_FOR_RERUN: "early_for_rerun",
    ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY: "fragment_finished",
}
TEXT_ELEMENTS = ("markdown", "text", "alert", "heading", "code")


class ProtocolError(RuntimeError):
    """The server did not answer as a Streamlit server does (closed, timed out, or no such widget)."""


@dataclass
class Widget:
    id: str
    kind: str  # the Element oneof name: number_input, slider, selectbox, button, ...
    label: str
    proto: object
    fragment_id: str = ""


@dataclass
class RunResult:
    """One script run as the client saw it."""

    seconds: float  # from sending the BackMsg to script_finished
    status: str
    exceptions: list[str] = field(default_factory=list)  # "Type: message" of every exception element
    errors: list[str] = field(default_factory=list)  # bodies of st.error alerts
    texts: list[str] = field(default_factory=list)  # markdown, text, alerts, headings, code: what a reader sees
    progress: list[str] = field(default_factory=list)  # texts of progress bars
    elements: int = 0
    bytes: int = 0


class StreamlitSession:
    def __init__(self, base_url: str, timeout: float = 120.0, cookies: str = ""):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.ws = None
        self.widgets: dict[str, list[Widget]] = {}  # label -> the widgets drawn with that label, in page order
        self.states: dict[str, WidgetState] = {}  # widget id -> the value this client set
        self.pages: dict[str, str] = {}  # url_pathname -> page_script_hash
        self.page_hash = ""
        self.query = ""
        self.auto_reruns: dict[str, float] = {}  # fragment id -> interval (s)
        self.session_id = ""
        self.cookies = cookies  # a Cookie header to send with the websocket handshake
        self.response_headers: dict[str, str] = {}  # the handshake's response (a proxy's headers among them)

    async def connect(self) -> None:
        parsed = urlparse(self.base_url)
        scheme = "wss" if parsed.scheme == "https" else "ws"
        url = f"{scheme}://{parsed.netloc}{parsed.path}/_stcore/stream"
        headers = {"Cookie": self.cookies} if self.cookies else None
        self.ws = await asyncio.wait_for(
            websockets.connect(url, subprotocols=["streamlit"], origin=f"{parsed.scheme}://{parsed.netloc}",
                               additional_headers=headers, max_size=2**28, open_timeout=self.timeout,
                               ping_interval=None),
            self.timeout,
        )
        self.response_headers = dict(self.ws.response.headers.raw_items())

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    async def __aenter__(self) -> StreamlitSession:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- what a student does ------------------------------------------------------------------------------------

    async def open(self, page: str = "", query: str = "") -> RunResult:
        """Open a page by its URL path ("" = home, "Surface_Lab") with a query string, as typing the link does."""
        self.query = query
        self.states.clear()
        self.widgets.clear()
        if page and page not in self.pages:
            if not self.pages:  # the first run of a session: the navigation message names the pages
                return await self._rerun(page_name=page)
            raise ProtocolError(f"no page {page!r} in the app's navigation: {sorted(self.pages)}")
        self.page_hash = self.pages.get(page, "")
        return await self._rerun()

    async def set(self, label: str, value, nth: int = 0) -> RunResult:
        """Change the nth widget of that label, as a student does, and wait for the rerun (of its fragment, when
        it sits in one)."""
        w = self.widget(label, nth)
        self.states[w.id] = _state(w, value)
        return await self._rerun(fragment_id=w.fragment_id)

    async def click(self, label: str, nth: int = 0) -> RunResult:
        """Press a button: a trigger sent once."""
        w = self.widget(label, nth)
        return await self._rerun(extra=[WidgetState(id=w.id, trigger_value=True)], fragment_id=w.fragment_id)

    async def rerun(self) -> RunResult:
        """Rerun the page with the same widget values (what any interaction does first)."""
        return await self._rerun()

    async def poll(self) -> RunResult | None:
        """Rerun the fragments that asked for a timer (st.fragment(run_every=...)) after their interval; None if
        no fragment is on a timer."""
        if not self.auto_reruns:
            return None
        fragment_id, interval = next(iter(self.auto_reruns.items()))
        await asyncio.sleep(interval)
        return await self._rerun(fragment_id=fragment_id, auto=True)

    def widget(self, label: str, nth: int = 0) -> Widget:
        found = self.widgets.get(label, [])
        if nth >= len(found):
            raise ProtocolError(f"no widget {nth} labelled {label!r}; drawn: {sorted(self.widgets)}")
        return found[nth]

    def value(self, label: str, nth: int = 0):
        """The value a number input, slider or checkbox shows, decided as the frontend decides it: a value the
        server set (set_value), else the one this client sent, else the widget's default."""
        w = self.widget(label, nth)
        if w.kind not in ("number_input", "slider", "checkbox"):
            raise ProtocolError(f"reading a {w.kind} ({label!r}) is not supported by this client")
        if w.proto.set_value:
            raw = w.proto.value
        elif w.id in self.states:
            sent = self.states[w.id]
            raw = getattr(sent, sent.WhichOneof("value"))
            raw = raw.data if hasattr(raw, "data") else raw
        else:
            raw = w.proto.default
        return list(raw) if w.kind == "slider" else raw

    # --- the protocol -------------------------------------------------------------------------------------------

    async def _rerun(self, extra=(), fragment_id: str = "", auto: bool = False, page_name: str = "") -> RunResult:
        if self.ws is None:
            await self.connect()
        msg = BackMsg()
        cs = msg.rerun_script
        cs.query_string = self.query
        cs.page_script_hash = self.page_hash
        cs.page_name = page_name
        cs.fragment_id = fragment_id
        cs.is_auto_rerun = auto
        cs.widget_states.widgets.extend(list(self.states.values()) + list(extra))
        t0 = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        result = RunResult(0.0, "")
        full_run = False
        seen: set[str] = set()
        while True:
            try:
                raw = await asyncio.wait_for(self.ws.recv(), self.timeout)
            except (TimeoutError, websockets.ConnectionClosed) as e:
                raise ProtocolError(f"no script_finished from the server ({type(e).__name__})") from None
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            result.bytes += len(raw)
            kind = fwd.WhichOneof("type")
            if kind == "new_session":  # the start of a script run; a fragment run names its fragments
                self.session_id = fwd.new_session.initialize.session_id or self.session_id
                if not fwd.metadata.run.fragment_ids:  # a full run: it registers its timers and widgets anew
                    full_run = True
                    self.auto_reruns.clear()
                    self.widgets = {}
            elif kind == "navigation":
                for p in fwd.navigation.app_pages:
                    self.pages[p.url_pathname] = p.page_script_hash
                self.page_hash = fwd.navigation.page_script_hash or self.page_hash
            elif kind == "page_info_changed":
                self.query = fwd.page_info_changed.query_string
            elif kind == "auto_rerun":
                self.auto_reruns[fwd.auto_rerun.fragment_id] = fwd.auto_rerun.interval
            elif kind == "stop_auto_rerun":
                for f in fwd.stop_auto_rerun.fragment_ids:
                    self.auto_reruns.pop(f, None)
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                self._element(fwd.delta.new_element, fwd.delta.fragment_id, result, seen)
            elif kind == "script_finished":
                status = FINISH.get(fwd.script_finished, str(fwd.script_finished))
                if status == "early_for_rerun":
                    continue  # a newer run (ours, or a fragment timer) follows on this connection
                result.status = status
                break
        result.seconds = time.perf_counter() - t0
        if full_run and result.status == "finished":  # the frontend forgets widgets that are no longer drawn
            self.states = {k: v for k, v in self.states.items() if k in seen}
        return result

    def _element(self, el, fragment_id: str, result: RunResult, seen: set[str]) -> None:
        result.elements += 1
        kind = el.WhichOneof("type")
        if kind is None:
            return
        sub = getattr(el, kind)
        if kind == "exception":
            result.exceptions.append(f"{sub.type}: {sub.message}")
        elif kind in TEXT_ELEMENTS:
            result.texts.append(getattr(sub, "body", "") or getattr(sub, "text", ""))
            if kind == "alert" and sub.format == sub.ERROR:
                result.errors.append(sub.body)
        elif kind == "progress":
            result.progress.append(sub.text)
        wid = getattr(sub, "id", "") if sub.DESCRIPTOR.fields_by_name.get("id") else ""
        label = getattr(sub, "label", "") if sub.DESCRIPTOR.fields_by_name.get("label") else ""
        if wid:
            seen.add(wid)
            found = self.widgets.setdefault(label, [])
            found[:] = [w for w in found if w.id != wid] + [Widget(wid, kind, label, sub, fragment_id)]


def _state(w: Widget, value) -> WidgetState:
    s = WidgetState(id=w.id)
    if w.kind == "number_input":
        if w.proto.data_type == w.proto.INT:
            s.int_value = int(value)
        else:
            s.double_value = float(value)
    elif w.kind == "slider":
        if w.proto.options:  # select_slider: the formatted options
            s.string_array_value.data.extend([str(v) for v in (value if isinstance(value, list | tuple) else [value])])
        else:
            s.double_array_value.data.extend([float(v) for v in (value if isinstance(value, list | tuple) else [value])])
    elif w.kind in ("selectbox", "radio", "text_input", "text_area"):
        s.string_value = str(value)
    elif w.kind == "checkbox":
        s.bool_value = bool(value)
    else:
        raise ProtocolError(f"setting a {w.kind} ({w.label!r}) is not supported by this client")
    return s
