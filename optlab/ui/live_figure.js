// The live surface figure: paths over the contour picture, equal axes, redrawn while a knob or the start is
// dragged. Display only: every path it can show was computed on the server by the real optimizers and came in
// `data`; releasing a knob or the start reports the value back (setStateValue) so the server computes it exactly.

const SVG = "http://www.w3.org/2000/svg";
const MARGIN = { left: 56, right: 12, top: 10, bottom: 40 };
// Arrow keys on the knob switch the path at once but report the value only once the keys rest this long, so
// holding or tapping a key does not rerun the server on every press.
const KEY_PAUSE_MS = 350;
// A figure that still says it waits for its sweeps asks the server to draw it again each time this long passes
// with no new data: the page polls for the sweeps, but should a poll or its answer be lost, the figure does not
// wait forever (and should that request be lost too, the next one comes).
const WAIT_MS = 4000;
const KNOB_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "PageUp", "PageDown", "Home", "End"]);

function el(name, attrs, parent) {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  if (parent) parent.appendChild(node);
  return node;
}

function fmt(v) {
  if (!isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e4)) return v.toExponential(2).replace("e+", "e"); // as the legend writes it
  return String(Number(v.toPrecision(3)));
}

function niceTicks(lo, hi, n) {
  const raw = (hi - lo) / n;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9 * step; v += step) out.push(Math.abs(v) < 1e-12 * step ? 0 : v);
  return out;
}

// A path arrives as base64 of little-endian uint16 (x, y) pairs over the window widened by one window width on
// each side (optlab.plots.live.encode_path); decoded once per render into a flat [x0, y0, x1, y1, ...] array.
function decoder(bounds) {
  const [x0, x1, y0, y1] = bounds;
  const wx = x1 - x0, wy = y1 - y0;
  return (text) => {
    if (!text) return [];
    const bin = atob(text);
    const out = new Float64Array(bin.length / 2);
    for (let k = 0; k < out.length; k++) {
      const q = bin.charCodeAt(2 * k) | (bin.charCodeAt(2 * k + 1) << 8);
      out[k] = k % 2 === 0 ? x0 - wx + (q / 65535) * 3 * wx : y0 - wy + (q / 65535) * 3 * wy;
    }
    return out;
  };
}

function decodeAll(data) {
  const dec = decoder(data.bounds);
  return {
    ...data,
    runs: data.runs.map((r) => ({
      ...r,
      path: dec(r.path),
      ema: r.ema ? dec(r.ema) : null,
      average: r.average ? dec(r.average) : null,
      evals: r.evals ? { from: dec(r.evals.from), to: dec(r.evals.to) } : null,
    })),
    sweep: data.sweep ? { ...data.sweep, paths: data.sweep.paths.map(dec) } : null,
    starts: data.starts
      ? { ...data.starts, runs: Object.fromEntries(Object.entries(data.starts.runs).map(([k, v]) => [k, v.map(dec)])) }
      : null,
  };
}

// The figure's state that outlives one drawing (the server may send new data in the middle of a drag): the drag
// of the start, the knob's input element and its keyboard timer, and what the current drawing exposes to them.
function stateOf(root) {
  if (!root.__olf) root.__olf = { drag: null, knob: null, view: null };
  return root.__olf;
}

function draw(root, data, send) {
  const state = stateOf(root);
  const [x0, x1, y0, y1] = data.bounds;
  const width = Math.max(240, root.clientWidth || 600);
  const maxH = data.maxHeight || 480;
  // equal aspect: one unit of x is as many pixels as one unit of y
  let plotW = width - MARGIN.left - MARGIN.right;
  let plotH = (plotW * (y1 - y0)) / (x1 - x0);
  if (plotH > maxH) {
    plotH = maxH;
    plotW = (plotH * (x1 - x0)) / (y1 - y0);
  }
  const W = plotW + MARGIN.left + MARGIN.right;
  const H = plotH + MARGIN.top + MARGIN.bottom;
  const px = (x) => MARGIN.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y) => MARGIN.top + ((y1 - y) / (y1 - y0)) * plotH;
  const fromPx = (u, v) => [x0 + ((u - MARGIN.left) / plotW) * (x1 - x0), y1 - ((v - MARGIN.top) / plotH) * (y1 - y0)];
  const pathD = (flat) => {
    let d = "";
    for (let k = 0; k + 1 < flat.length; k += 2) d += (k ? "L" : "M") + px(flat[k]).toFixed(1) + "," + py(flat[k + 1]).toFixed(1);
    return d;
  };

  // the holder stays (it keeps the pointer captured through a redraw); only the picture inside it is replaced
  const holder = root.querySelector(".olf-plot");
  const svg = el("svg", { width: W, height: H, viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": data.texts.aria || "loss surface with optimizer paths" });
  holder.replaceChildren(svg);
  const defs = el("defs", {}, svg);
  const clip = el("clipPath", { id: "olf-clip" }, defs);
  el("rect", { x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH }, clip);

  el("image", { href: data.image, x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH, preserveAspectRatio: "none" }, svg);
  el("rect", { x: MARGIN.left, y: MARGIN.top, width: plotW, height: plotH, class: "olf-frame" }, svg);
  const axes = el("g", { class: "olf-axes" }, svg);
  for (const v of niceTicks(x0, x1, Math.max(3, Math.round(plotW / 90)))) {
    el("line", { x1: px(v), x2: px(v), y1: MARGIN.top + plotH, y2: MARGIN.top + plotH + 5 }, axes);
    el("text", { x: px(v), y: MARGIN.top + plotH + 20, "text-anchor": "middle" }, axes).textContent = fmt(v);
  }
  for (const v of niceTicks(y0, y1, Math.max(3, Math.round(plotH / 70)))) {
    el("line", { x1: MARGIN.left - 5, x2: MARGIN.left, y1: py(v), y2: py(v) }, axes);
    el("text", { x: MARGIN.left - 8, y: py(v) + 5, "text-anchor": "end" }, axes).textContent = fmt(v);
  }
  el("text", { x: MARGIN.left + plotW / 2, y: H - 4, "text-anchor": "middle", class: "olf-axis-title" }, axes).textContent = "x";
  el("text", { x: 14, y: MARGIN.top + plotH / 2, "text-anchor": "middle", class: "olf-axis-title" }, axes).textContent = "y";

  const layer = el("g", { "clip-path": "url(#olf-clip)" }, svg);
  // the longest paths are drawn first and widest, the shortest last and thinnest: a run that crawls stays
  // visible on top, and a path another one follows still shows as a coloured border
  const extent = (flat) => {
    let total = 0;
    for (let k = 2; k + 1 < flat.length; k += 2) total += Math.hypot(px(flat[k]) - px(flat[k - 2]), py(flat[k + 1]) - py(flat[k - 1]));
    return total;
  };
  const order = data.runs.map((run, i) => [extent(run.path), i]).sort((p, q) => q[0] - p[0]).map(([, i]) => i);
  const rank = new Map(order.map((i, r) => [i, r]));
  const groups = order.map(() => el("g", { class: "olf-run" }, layer));
  const runs = data.runs.map((run, i) => {
    const g = groups[rank.get(i)];
    const ema = run.ema ? el("path", { d: pathD(run.ema), stroke: run.color, class: "olf-ema" }, g) : null;
    const width = 2.6 + 1.8 * (data.runs.length - 1 - rank.get(i));
    const line = el("path", { d: pathD(run.path), stroke: run.color, class: "olf-path", "stroke-width": width }, g);
    const end = el("circle", { r: 5, fill: run.color, class: "olf-end" }, g);
    const cross = el("path", { stroke: run.color, class: "olf-cross" }, g);
    const setPath = (flat, diverged) => {
      line.setAttribute("d", pathD(flat));
      const n = flat.length;
      const ex = n >= 2 ? px(flat[n - 2]) : -99, ey = n >= 2 ? py(flat[n - 1]) : -99;
      end.setAttribute("cx", ex);
      end.setAttribute("cy", ey);
      end.style.display = diverged ? "none" : "";
      cross.setAttribute("d", diverged ? `M${ex - 7},${ey - 7}L${ex + 7},${ey + 7}M${ex - 7},${ey + 7}L${ex + 7},${ey - 7}` : "");
    };
    setPath(run.path, run.diverged);
    return { run, line, ema, setPath };
  });

  // the inspected run's extra sequences: schedule-free's averaged x (a dashed second line of its colour) and
  // L-BFGS's line-search evaluations (small open circles, each joined faintly to where its step began)
  const inspected = data.inspected;
  const extras = el("g", { class: "olf-extras" }, layer);
  const shown = data.runs[inspected];
  if (shown && shown.average) {
    // a white casing under the dashes: the average reads as its own line where it runs along its run's path
    el("path", { d: pathD(shown.average), class: "olf-average-casing" }, extras);
    el("path", { d: pathD(shown.average), stroke: shown.color, class: "olf-average" }, extras);
  }
  if (shown && shown.evals) {
    const { from, to } = shown.evals;
    let d = "";
    for (let k = 0; k + 1 < to.length; k += 2) d += `M${px(from[k]).toFixed(1)},${py(from[k + 1]).toFixed(1)}L${px(to[k]).toFixed(1)},${py(to[k + 1]).toFixed(1)}`;
    el("path", { d, stroke: shown.color, class: "olf-eval-link" }, extras);
    for (let k = 0; k + 1 < to.length; k += 2) el("circle", { cx: px(to[k]), cy: py(to[k + 1]), r: 3.2, stroke: shown.color, class: "olf-eval" }, extras);
  }
  const showExtras = (on) => { extras.style.display = on ? "" : "none"; };

  for (const [mx, my] of data.minima) {
    const r = 9, cx = px(mx), cy = py(my);
    let pts = "";
    for (let k = 0; k < 10; k++) {
      const a = -Math.PI / 2 + (k * Math.PI) / 5, rr = k % 2 ? r * 0.45 : r;
      pts += `${(cx + rr * Math.cos(a)).toFixed(1)},${(cy + rr * Math.sin(a)).toFixed(1)} `;
    }
    el("polygon", { points: pts, class: "olf-min" }, svg);
  }

  if (data.arrows) {
    // arrows from the inspected point, all drawn the same length (directions only); their names and true
    // lengths sit in a key in the plot's top-right corner, so labels never cover each other or the paths
    const a = data.arrows;
    const len = a.length * Math.sqrt(plotW * plotH); // the geometric mean side: visible on a flat window too
    const ax = px(a.point[0]), ay = py(a.point[1]);
    const key = el("g", { class: "olf-key" }, svg);
    const rows = [];
    a.vectors.forEach((v, k) => {
      const id = `olf-head-${k}`;
      const m = el("marker", { id, viewBox: "0 0 10 10", refX: 8, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" }, defs);
      el("path", { d: "M0,0L10,5L0,10z", fill: v.color }, m);
      el("line", { x1: ax, y1: ay, x2: ax + len * v.dx, y2: ay - len * v.dy, stroke: v.color, class: "olf-arrow", "marker-end": `url(#${id})` }, svg);
      rows.push([v, id]);
    });
    el("rect", { x: ax - 5, y: ay - 5, width: 10, height: 10, transform: `rotate(45 ${ax} ${ay})`, class: "olf-inspected" }, svg);
    if (rows.length) {
      const right = MARGIN.left + plotW - 8;
      const back = el("rect", { class: "olf-key-back", rx: 4 }, key);
      rows.forEach(([v, id], k) => {
        const y = MARGIN.top + 18 + 19 * k;
        el("line", { x1: right - 26, y1: y - 5, x2: right - 4, y2: y - 5, stroke: v.color, class: "olf-arrow", "marker-end": `url(#${id})` }, key);
        const t = el("text", { x: right - 32, y, "text-anchor": "end", fill: v.color, class: "olf-arrow-label" }, key);
        t.textContent = `${v.name} (${fmt(v.norm)})`;
      });
      const box = key.getBBox();
      Object.entries({ x: box.x - 6, y: box.y - 4, width: box.width + 12, height: box.height + 8 }).forEach(([k, val]) => back.setAttribute(k, val));
    }
  }

  const start = el("circle", { cx: px(data.start[0]), cy: py(data.start[1]), r: 9, class: "olf-start" }, svg);
  const readout = el("text", { x: MARGIN.left + 8, y: MARGIN.top + 20, class: "olf-readout" }, svg);

  // --- the knob slider: switch the swept run's path between precomputed members -----------------------------
  // The input element is kept from one drawing to the next while the sweep is the same, so a redraw in the
  // middle of a drag (or of a key held down) leaves the thumb where the student has it.
  const bar = root.querySelector(".olf-bar");
  const sweep = data.sweep;
  const knob = state.knob;
  for (const child of Array.from(bar.children)) if (!knob || child !== knob.input) child.remove();
  if (!sweep) {
    state.knob = null;
    bar.replaceChildren();
    if (data.hint) {
      const wait = document.createElement("span");
      wait.className = "olf-hint";
      wait.textContent = data.hint;
      bar.append(wait);
    }
  } else {
    const sig = `${sweep.run}|${sweep.knob}|${sweep.values.length}|${sweep.values[0]}|${sweep.values[sweep.values.length - 1]}`;
    if (!knob || knob.sig !== sig) {
      if (knob) knob.input.remove();
      state.knob = makeKnob(sig, sweep, send);
      bar.append(state.knob.input);
    }
    const k = state.knob;
    k.sweep = sweep;
    const label = document.createElement("label");
    label.textContent = sweep.label;
    // which knob the slider moves (lr, momentum, β₁): choosing another asks the server for that sweep
    const choices = (sweep.knobs || []).map(({ key, label: text }) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = text;
      b.className = "olf-choice" + (key === sweep.knob ? " olf-chosen" : "");
      b.setAttribute("aria-pressed", key === sweep.knob ? "true" : "false");
      b.addEventListener("click", () => { if (key !== sweep.knob) send("choose", { knob: key, nonce: Date.now() }); });
      return b;
    });
    const out = document.createElement("output");
    out.className = "olf-value";
    const hint = document.createElement("span");
    hint.className = "olf-hint";
    hint.textContent = data.hint || "";
    k.input.setAttribute("aria-label", sweep.label);
    if (choices.length > 1) k.input.before(...choices);
    k.input.before(label);
    k.input.after(out);
    if (hint.textContent) out.after(hint);
    const target = runs[sweep.run];
    k.show = (m) => {
      const t0 = performance.now();
      out.textContent = `${sweep.symbol} = ${fmt(sweep.values[m])}`;
      target.setPath(sweep.paths[m], sweep.diverged[m] >= 0);
      if (sweep.run === inspected) showExtras(m === sweep.current);
      root.dataset.member = String(m);
      root.dataset.drawMs = (performance.now() - t0).toFixed(2);
    };
    if (k.active()) {
      k.show(Number(k.input.value)); // mid-drag or mid-keys: the student's member, drawn on the new data
    } else {
      k.input.value = String(sweep.current);
      k.sent = sweep.current;
      out.textContent = `${sweep.symbol} = ${fmt(sweep.value)}`; // the run's own value, drawn exactly
      root.dataset.member = String(sweep.current);
    }
  }

  // --- the start: press anywhere to start there; drag to preview the path from the nearest grid start ----------
  const starts = data.starts;
  let nearest = -1;
  const toData = (ev) => {
    const box = svg.getBoundingClientRect();
    const [x, y] = fromPx(((ev.clientX - box.left) * W) / box.width, ((ev.clientY - box.top) * H) / box.height);
    return [Math.min(x1, Math.max(x0, x)), Math.min(y1, Math.max(y0, y))];
  };
  const preview = (x, y) => {
    const t0 = performance.now();
    start.setAttribute("cx", px(x));
    start.setAttribute("cy", py(y));
    showExtras(false);
    if (starts) {
      let best = 0, bestD = Infinity;
      starts.starts.forEach(([sx, sy], k) => {
        const d = ((sx - x) / (x1 - x0)) ** 2 + ((sy - y) / (y1 - y0)) ** 2;
        if (d < bestD) { bestD = d; best = k; }
      });
      if (best !== nearest) {
        nearest = best;
        runs.forEach((r, i) => {
          const paths = starts.runs[String(i)];
          if (paths) r.setPath(paths[best], false);
          else r.line.style.opacity = "0.25"; // no precomputed paths: this run waits for the release
          if (r.ema) r.ema.style.display = "none";
        });
      }
    }
    root.dataset.drawMs = (performance.now() - t0).toFixed(2);
  };
  state.view = { toData, preview, readout };
  if (state.drag) {
    // new data came in the middle of a drag: the drag goes on, previewed on the new drawing
    root.classList.add("olf-dragging");
    preview(state.drag.x, state.drag.y);
  }
  if (!holder.__olfListening) {
    holder.__olfListening = true;
    listenForDrags(root, holder, send);
  }
}

// The knob's range input and its handlers; they read the sweep of the latest drawing from the returned object.
function makeKnob(sig, sweep, send) {
  const input = document.createElement("input");
  Object.assign(input, { type: "range", min: 0, max: sweep.values.length - 1, step: 1, value: sweep.current, className: "olf-knob" });
  const knob = { sig, input, sweep, show: () => {}, sent: sweep.current, pointer: false, keys: false, timer: null };
  knob.active = () => knob.pointer || knob.keys;
  // a press on the thumb that ends without a change (no move) still ends the drag
  document.addEventListener("pointerup", () => { knob.pointer = false; }, { capture: true });
  const report = () => {
    const k = Number(input.value);
    if (k !== knob.sent) {
      knob.sent = k;
      send("knob", { run: knob.sweep.run, knob: knob.sweep.knob, value: knob.sweep.values[k], nonce: Date.now() });
    }
  };
  input.addEventListener("input", () => knob.show(Number(input.value)));
  input.addEventListener("pointerdown", () => { knob.pointer = true; });
  input.addEventListener("keydown", (ev) => {
    if (!KNOB_KEYS.has(ev.key)) return;
    knob.keys = true;
    clearTimeout(knob.timer);
  });
  input.addEventListener("keyup", (ev) => {
    if (!KNOB_KEYS.has(ev.key)) return;
    clearTimeout(knob.timer);
    knob.timer = setTimeout(() => { knob.keys = false; report(); }, KEY_PAUSE_MS);
  });
  input.addEventListener("change", () => {
    if (knob.keys) return; // a key press: reported once the keys rest
    knob.pointer = false;
    report();
  });
  input.addEventListener("blur", () => {
    if (knob.keys) { clearTimeout(knob.timer); knob.keys = false; report(); }
  });
  return knob;
}

// Pointer handlers on the plot's holder, attached once: the drag lives in the figure's state, so a redraw (new
// data from the server) neither loses the pointer capture nor ends the drag.
function listenForDrags(root, holder, send) {
  const state = stateOf(root);
  holder.addEventListener("pointerdown", (ev) => {
    if (!state.view || !(ev.clientX >= 0)) return;
    const [x, y] = state.view.toData(ev);
    state.drag = { x, y, pointerId: ev.pointerId };
    holder.setPointerCapture(ev.pointerId);
    root.classList.add("olf-dragging");
    root.dataset.dragging = "true";
    state.view.preview(x, y);
  });
  holder.addEventListener("pointermove", (ev) => {
    if (!state.view) return;
    const [x, y] = state.view.toData(ev);
    state.view.readout.textContent = `x = ${fmt(x)}, y = ${fmt(y)}`;
    if (!state.drag) return;
    state.drag.x = x;
    state.drag.y = y;
    state.view.preview(x, y);
  });
  holder.addEventListener("pointerleave", () => { if (!state.drag && state.view) state.view.readout.textContent = ""; });
  const end = () => {
    state.drag = null;
    root.classList.remove("olf-dragging");
    delete root.dataset.dragging;
  };
  holder.addEventListener("pointerup", (ev) => {
    if (!state.drag) return;
    const [x, y] = state.view.toData(ev);
    end();
    send("start", { x: Number(x.toPrecision(4)), y: Number(y.toPrecision(4)), nonce: Date.now() });
  });
  holder.addEventListener("pointercancel", end);
}

function legend(root, data) {
  const box = root.querySelector(".olf-legend");
  box.replaceChildren();
  const text = data.texts;
  for (const run of data.runs) {
    const item = document.createElement("span");
    item.className = "olf-item";
    const swatch = document.createElement("i");
    swatch.style.background = run.color;
    item.append(swatch, document.createTextNode(run.label + (run.diverged ? " " + (text.diverged || "(diverged)") : "")));
    box.append(item);
  }
  const note = (words) => {
    const item = document.createElement("span");
    item.className = "olf-item olf-note";
    item.textContent = words;
    box.append(item);
  };
  if (data.runs.some((r) => r.ema)) note(text.ema || "dotted: EMA of the weights");
  const shown = data.runs[data.inspected];
  if (shown && shown.average) note(text.average || "dashed: the averaged point x, where eval() puts the weights");
  if (shown && shown.evals) note(text.evals || "small circles: where the line search evaluated f beyond the steps taken");
}

export default function (component) {
  const { parentElement, data, setStateValue } = component;
  let root = parentElement.querySelector(".olf");
  if (!root) {
    root = document.createElement("div");
    root.className = "olf";
    root.innerHTML = '<div class="olf-bar"></div><div class="olf-plot"></div><div class="olf-legend"></div>';
    parentElement.appendChild(root);
  }
  // every value reported to the server is counted in data-reports (browser tests check how often it spoke)
  const send = (name, value) => {
    root.dataset.reports = String((Number(root.dataset.reports) || 0) + 1);
    setStateValue(name, value);
  };
  const model = decodeAll(data);
  model.texts = data.texts || {};
  // the run whose extra sequences are drawn: the inspected run, else the swept one, else the first
  model.inspected = Number.isInteger(data.inspected) ? data.inspected : data.sweep ? data.sweep.run : 0;
  root.dataset.render = String((Number(root.dataset.render) || 0) + 1); // new data drawn (benchmarks wait on it)
  const render = () => {
    legend(root, model);
    draw(root, model, send);
  };
  render();
  root.dataset.run = String(model.inspected);
  // ready to drag: the knob's sweep and the start grid are in (both come from the background on a new setting)
  root.dataset.ready = data.sweep && data.starts ? "true" : "false";
  const state = stateOf(root);
  // Streamlit calls this function again for each new data, on the same element, and runs a call's cleanup only
  // when the element goes (or when that call was overtaken by a newer one): the newest call owns the timer.
  const generation = (state.generation = (state.generation || 0) + 1);
  clearInterval(state.waitTimer);
  state.waitTimer = data.hint ? setInterval(() => setStateValue("wait", { nonce: Date.now() }), WAIT_MS) : undefined;
  state.lastWidth = root.clientWidth;
  state.render = render;
  if (!state.observer) {
    state.observer = new ResizeObserver(() => {
      if (Math.abs(root.clientWidth - state.lastWidth) > 4) {
        state.lastWidth = root.clientWidth;
        state.render();
      }
    });
    state.observer.observe(root);
  }
  return () => {
    if (state.generation !== generation) return; // a newer call drew this element: the timer and observer are its
    clearInterval(state.waitTimer);
    state.observer?.disconnect();
    state.observer = null;
  };
}
