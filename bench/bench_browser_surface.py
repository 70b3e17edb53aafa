"""Surface Lab in a real browser: how fast the paths answer a knob, a dragged start and a typed value.

    .venv/bin/python bench/bench_browser_surface.py [--repeats 15]

Serves the app on a free loopback port, opens the Surface Lab in Debian's Chromium (Playwright with
``executable_path``) at 1280x720 and measures, in this one run:

1. scrub: moving the live figure's knob slider one member, until the next frame is drawn (target <= 50 ms p50);
2. drag: moving the start point while the mouse button is held, until the next frame (target <= 50 ms p50);
3. typed: typing a learning rate that is not on the sweep into run 1 in the sidebar, until the live figure has
   drawn the new exact path (target <= 300 ms p50);
4. layout: whether the whole figure lies inside the 1280x720 viewport.

Each is the p50 and max over ``--repeats`` tries. Times include the browser's own frame wait (about 16 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import CHROMIUM_ARGS, find_chromium, free_port, healthy  # noqa: E402

NEXT_FRAME = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(performance.now()))))"


def serve() -> tuple[subprocess.Popen, str]:
    port = free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    server = subprocess.Popen(
        [str(streamlit), "run", "app.py", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while not healthy(url):
        if time.monotonic() > deadline or server.poll() is not None:
            server.kill()
            raise SystemExit("the app did not start")
        time.sleep(0.25)
    urllib.request.urlopen(url, timeout=30).read()
    return server, url


def stats(name: str, ms: list[float], target: float) -> None:
    print(f"  {name:<44} p50 {statistics.median(ms):7.1f} ms   max {max(ms):7.1f} ms   (target <= {target:g} ms)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    chromium = find_chromium()
    if chromium is None:
        raise SystemExit("no Chromium: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    server, url = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 720})
            page.goto(f"{url}/Surface_Lab")
            knob = page.locator(".olf-knob")
            knob.wait_for(timeout=120_000)
            page.wait_for_timeout(500)
            n = int(knob.get_attribute("max")) + 1
            start = int(knob.input_value())

            scrub = []
            for k in range(args.repeats):
                member = (start + 1 + k) % n
                scrub.append(page.evaluate(
                    """([k, frame]) => { const i = [...document.querySelectorAll('*')].map(e => e.shadowRoot)
                        .filter(Boolean).map(r => r.querySelector('.olf-knob')).find(Boolean)
                        || document.querySelector('.olf-knob');
                      const t0 = performance.now(); i.value = k; i.dispatchEvent(new Event('input'));
                      return eval(frame).then(t => t - t0); }""", [member, NEXT_FRAME]))
            stats("scrub the knob (swap one path)", scrub, 50)

            svg = page.locator(".olf-plot svg")
            box = svg.bounding_box()
            cx, cy = box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3
            page.mouse.move(cx, cy)
            page.mouse.down()
            drag = []
            for k in range(args.repeats):
                t0 = page.evaluate("performance.now()")
                page.mouse.move(cx + 4 * (k + 1), cy + 3 * (k + 1))
                drag.append(page.evaluate(NEXT_FRAME) - t0)
            stats("drag the start (nearest grid start's paths)", drag, 50)
            page.keyboard.press("Escape")
            page.mouse.up()
            page.wait_for_timeout(3000)

            inside = page.evaluate(
                """() => { const s = [...document.querySelectorAll('*')].map(e => e.shadowRoot).filter(Boolean)
                    .map(r => r.querySelector('.olf-plot svg')).find(Boolean); const b = s.getBoundingClientRect();
                    return [b.top, b.bottom, b.left, b.right]; }""")
            fits = inside[0] >= 0 and inside[1] <= 720 and inside[2] >= 0 and inside[3] <= 1280
            print(f"  figure box top {inside[0]:.0f} bottom {inside[1]:.0f} px: "
                  f"{'inside' if fits else 'NOT inside'} the 1280x720 viewport")

            field = page.locator(".st-key-sl_r1_sgd_lr input")
            typed = []
            for k in range(max(3, args.repeats // 3)):
                value = f"{0.000123 + 0.0000071 * k:.7f}"
                before = page.evaluate(
                    """() => [...document.querySelectorAll('*')].map(e => e.shadowRoot).filter(Boolean)
                        .map(r => r.querySelector('.olf')).find(Boolean).dataset.render""")
                field.fill(value)
                t0 = time.perf_counter()
                field.press("Enter")
                page.wait_for_function(
                    """(before) => { const r = [...document.querySelectorAll('*')].map(e => e.shadowRoot)
                        .filter(Boolean).map(r => r.querySelector('.olf')).find(Boolean);
                        return r && r.dataset.render !== before; }""", arg=before, timeout=60_000)
                page.evaluate(NEXT_FRAME)
                typed.append((time.perf_counter() - t0) * 1e3)
            stats("typed lr off the sweep (server computes it)", typed, 300)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"  (machine load: {os.getloadavg()[0]:.2f})")


if __name__ == "__main__":
    main()
