// The latentmodels explorer page. Talks to the explorer's JSON API, or, in a static export,
// reads the answers precomputed into window.EXPLORE_STATIC.
"use strict";
(function () {
  const STATIC = window.EXPLORE_STATIC || null;
  const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#ad494a", "#637939", "#7b4173", "#3182bd",
    "#e6550d", "#31a354", "#756bb1", "#636363", "#843c39"];
  const $ = (id) => document.getElementById(id);
  const state = { info: null, method: "pca", map: null, selected: [], z: null, itemCache: new Map(),
    busy: false, pending: null, topic: 0, lastPointClick: 0 };
  window.exploreReady = false;

  function status(text) { $("status").textContent = text || ""; }

  async function api(method, path, body) {
    if (STATIC) return staticAnswer(method, path, body);
    const response = await fetch(path, {
      method, headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined, credentials: "same-origin" });
    const data = await response.json();
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  function staticAnswer(method, path, body) {
    const answers = STATIC.answers;
    if (method === "POST" && path === "/api/decode" && body.xy) {
      const grid = STATIC.decode_grid;
      if (!grid) throw new Error("decoding needs the server");
      const [x, y] = body.xy[0];
      const col = Math.round((x - grid.x0) / grid.dx), row = Math.round((y - grid.y0) / grid.dy);
      const c = Math.min(grid.n - 1, Math.max(0, col)), r = Math.min(grid.n - 1, Math.max(0, row));
      return { images: [grid.images[r * grid.n + c]], exact: false, z: null,
        note: "nearest precomputed decode" };
    }
    let key = method + " " + path;
    if (method === "POST" && path === "/api/interpolate")
      key += " " + body.start + "-" + body.end + "-" + body.mode;
    if (!(key in answers)) throw new Error("not precomputed in this static page; run `latentmodels explore` for it");
    return answers[key];
  }

  function labelColours(labels) {
    const names = [...new Set(labels)].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
    const index = new Map(names.map((n, i) => [n, PALETTE[i % PALETTE.length]]));
    return labels.map((l) => index.get(l));
  }

  function markerFor(by) {
    const info = state.info;
    if (by === "score" && info.scores) return { color: info.scores, colorscale: "Viridis", showscale: true,
      colorbar: { title: { text: "score" }, thickness: 10 }, size: 5 };
    if (by === "cluster" || !info.labels) return { color: labelColours(info.clusters.map(String)), size: 5 };
    return { color: labelColours(info.labels), size: 5 };
  }

  function hoverText() {
    const info = state.info;
    return info.clusters.map((c, i) => "#" + i + (info.labels ? " label " + info.labels[i] : "") +
      (info.scores ? " score " + info.scores[i] : ""));
  }

  async function drawMap() {
    status("computing the " + state.method.toUpperCase() + " map…");
    const points = await api("GET", "/api/map?method=" + state.method);
    state.map = points;
    const trace = { type: "scattergl", mode: "markers", x: points.x, y: points.y, text: hoverText(),
      hoverinfo: "text", marker: markerFor($("colour-by").value) };
    const picks = { type: "scatter", mode: "markers+text", x: [], y: [], text: [], textposition: "top center",
      hoverinfo: "skip", marker: { size: 14, color: "rgba(0,0,0,0)", line: { color: "black", width: 2 } } };
    const layout = { margin: { l: 40, r: 10, t: 10, b: 30 }, hovermode: "closest", showlegend: false,
      dragmode: "pan", xaxis: { zeroline: false }, yaxis: { zeroline: false } };
    await Plotly.react("map", [trace, picks], layout, { responsive: true, scrollZoom: true });
    drawPicks();
    status("");
  }

  function drawPicks() {
    if (!state.map) return;
    const xs = [], ys = [], names = [];
    state.selected.forEach((i, k) => { xs.push(state.map.x[i]); ys.push(state.map.y[i]); names.push(k ? "B" : "A"); });
    if (state.decodedAt) { xs.push(state.decodedAt[0]); ys.push(state.decodedAt[1]); names.push("×"); }
    Plotly.restyle("map", { x: [xs], y: [ys], text: [names] }, [1]);
  }

  async function showItem(i) {
    let item = state.itemCache.get(i);
    if (!item) {
      try { item = await api("GET", "/api/item/" + i); } catch (e) { $("hover-info").textContent = "#" + i + ": " + e.message; return null; }
      state.itemCache.set(i, item);
    }
    $("hover-info").textContent = "#" + i + (item.label != null ? "  label " + item.label : "") +
      (item.score != null ? "  score " + item.score : "") + "  cluster " + item.cluster;
    $("hover-input").src = item.input; $("hover-recon").src = item.reconstruction;
    return item;
  }

  function buildSliders() {
    const info = state.info, box = $("sliders");
    box.innerHTML = "";
    if (STATIC) { box.innerHTML = "<p class='note'>Sliders decode live with the server (latentmodels explore).</p>"; return; }
    info.slider_dims.forEach((d, k) => {
      const [lo, hi] = info.slider_ranges[k];
      const label = document.createElement("label");
      label.innerHTML = "z<sub>" + d + "</sub> <input type='range' id='slider-" + d + "' min='" + lo +
        "' max='" + hi + "' step='" + ((hi - lo) / 200) + "'> <span id='slider-value-" + d + "'></span>";
      box.appendChild(label);
      label.querySelector("input").addEventListener("input", (e) => {
        state.z[d] = parseFloat(e.target.value);
        $("slider-value-" + d).textContent = state.z[d].toFixed(2);
        decodeLatent(state.z.slice(), "sliders");
      });
    });
    setSliders(info.code_mean);
  }

  function setSliders(z) {
    state.z = z.slice();
    state.info.slider_dims.forEach((d) => {
      const input = $("slider-" + d);
      if (input) { input.value = z[d]; $("slider-value-" + d).textContent = z[d].toFixed(2); }
    });
  }

  function condition() { return state.info.classes ? { label: $("class-picker").value } : {}; }

  // One decode in flight at a time; a newer request replaces the waiting one.
  async function decodeLatent(z, why) {
    if (state.busy) { state.pending = [z, why]; return; }
    state.busy = true;
    try {
      const answer = await api("POST", "/api/decode", { z: [z], ...condition() });
      $("decoded").src = answer.images[0];
      $("decode-info").textContent = "decoded from " + why;
    } catch (e) { status(e.message); }
    state.busy = false;
    if (state.pending) { const [pz, pw] = state.pending; state.pending = null; decodeLatent(pz, pw); }
  }

  async function decodeAt(x, y) {
    state.decodedAt = [x, y]; drawPicks();
    try {
      const answer = await api("POST", "/api/decode", { xy: [[x, y]], method: state.method, ...condition() });
      $("decoded").src = answer.images[0];
      $("decode-info").textContent = "decoded at (" + x.toFixed(2) + ", " + y.toFixed(2) + ") — " +
        (answer.note ? answer.note : answer.exact ? "exact inverse of the PCA map" :
          "approximate: weighted mean of the nearest points' codes");
      if (answer.z) setSliders(answer.z[0]);
    } catch (e) { status(e.message); }
  }

  function pick(i) {
    if (state.selected.length >= 2) state.selected = [];
    state.selected.push(i);
    $("interp-a").textContent = state.selected[0] != null ? "#" + state.selected[0] : "–";
    $("interp-b").textContent = state.selected[1] != null ? "#" + state.selected[1] : "–";
    drawPicks();
    showItem(i).then((item) => { if (item && item.code && !STATIC) { setSliders(item.code); $("decoded").src = item.reconstruction; $("decode-info").textContent = "code of #" + i; } });
  }

  function frames(box, images, captions) {
    box.innerHTML = "";
    images.forEach((src, k) => {
      const f = document.createElement("figure");
      f.innerHTML = "<img alt='' src='" + src + "'>" + (captions ? "<figcaption>" + captions[k] + "</figcaption>" : "");
      box.appendChild(f);
    });
  }

  async function interpolate() {
    if (state.selected.length < 2) { status("pick two points on the map first (click A, then B)"); return; }
    try {
      const answer = await api("POST", "/api/interpolate", { start: state.selected[0], end: state.selected[1],
        steps: parseInt($("interp-steps").value, 10), mode: $("interp-mode").value, ...condition() });
      frames($("interp-frames"), answer.images);
      if (answer.strip) { $("interp-export").href = answer.strip; $("interp-export").hidden = false; }
      status("");
    } catch (e) { status(e.message); }
  }

  async function loadAnomalies() {
    if (!state.info.has_scores) { $("anomaly-panel").hidden = true; return; }
    const answer = await api("GET", "/api/anomalies?n=8");
    state.quantiles = answer.quantiles;
    $("anomaly-source").textContent = answer.score_source ? "Scores: " + answer.score_source + "." : "";
    const caption = (e) => e.score + (e.label != null ? " (" + e.label + ")" : "");
    frames($("least-typical"), answer.least_typical.map((e) => e.image), answer.least_typical.map(caption));
    frames($("most-typical"), answer.most_typical.map((e) => e.image), answer.most_typical.map(caption));
    updateThreshold();
  }

  function updateThreshold() {
    const scores = state.info.scores; if (!scores || !state.quantiles) return;
    const threshold = state.quantiles[parseInt($("anomaly-threshold").value, 10)];
    const flagged = scores.filter((s) => s < threshold).length;
    $("anomaly-count").textContent = flagged + " of " + scores.length + " flagged (score < " + threshold + ")";
  }

  async function sample() {
    try { frames($("samples"), (await api("POST", "/api/sample", { n: 8, seed: Math.floor(Math.random() * 1e6), ...condition() })).images); }
    catch (e) { status(e.message); }
  }

  function search() {
    const query = $("label-search").value.trim().toLowerCase(), labels = state.info.labels;
    if (!query || !labels) { Plotly.restyle("map", { selectedpoints: [null] }, [0]); $("search-count").textContent = ""; return; }
    const hits = []; labels.forEach((l, i) => { if (String(l).toLowerCase().includes(query)) hits.push(i); });
    Plotly.restyle("map", { selectedpoints: [hits], "unselected.marker.opacity": 0.08 }, [0]);
    $("search-count").textContent = hits.length + " match";
  }

  async function startLatent() {
    const info = state.info;
    $("latent-view").hidden = false;
    const methods = $("map-method");
    Object.entries(info.methods).forEach(([name, reason]) => {
      const o = document.createElement("option"); o.value = name; o.textContent = name.toUpperCase();
      if (reason || (STATIC && name !== "pca")) { o.disabled = true; o.title = reason || "static page: PCA only"; }
      methods.appendChild(o);
    });
    if (info.classes) {
      $("class-picker-wrap").hidden = false;
      info.classes.forEach((c) => { const o = document.createElement("option"); o.value = c; o.textContent = c; $("class-picker").appendChild(o); });
    }
    if (!info.labels) $("colour-by").value = "cluster";
    if (!info.has_scores) $("colour-by").querySelector("option[value=score]").disabled = true;
    if (!info.can_sample) $("sample-button").disabled = true;
    buildSliders();
    await drawMap();
    const gd = $("map");
    gd.on("plotly_hover", (e) => showItem(e.points[0].pointIndex));
    gd.on("plotly_click", (e) => { state.lastPointClick = Date.now(); if (e.points[0].curveNumber === 0) pick(e.points[0].pointIndex); });
    gd.addEventListener("click", (e) => {
      if (Date.now() - state.lastPointClick < 300) return;
      const drag = gd.querySelector(".nsewdrag"); if (!drag) return;
      const box = drag.getBoundingClientRect();
      if (e.clientX < box.left || e.clientX > box.right || e.clientY < box.top || e.clientY > box.bottom) return;
      const layout = gd._fullLayout;
      decodeAt(layout.xaxis.p2d(e.clientX - box.left), layout.yaxis.p2d(e.clientY - box.top));
    });
    methods.addEventListener("change", async () => { state.method = methods.value; state.decodedAt = null;
      try { await drawMap(); } catch (e) { status(e.message); } });
    $("colour-by").addEventListener("change", () => Plotly.restyle("map", { marker: [markerFor($("colour-by").value)] }, [0]));
    $("label-search").addEventListener("input", search);
    $("interp-button").addEventListener("click", interpolate);
    $("sample-button").addEventListener("click", sample);
    $("anomaly-threshold").addEventListener("input", updateThreshold);
    await loadAnomalies();
  }

  async function showTopic(k) {
    state.topic = k;
    const weight = parseFloat($("relevance").value).toFixed(1);
    $("relevance-value").textContent = weight;
    const answer = await api("GET", "/api/topic/" + k + "?relevance=" + weight);
    $("topic-title").textContent = "Topic " + k + " (about " + answer.expected_documents + " documents' worth)";
    const terms = answer.terms.slice().reverse();
    await Plotly.react("topic-terms", [
      { type: "bar", orientation: "h", y: terms, x: answer.term_frequency.slice().reverse(), name: "overall", marker: { color: "#c6d4e1" } },
      { type: "bar", orientation: "h", y: terms, x: answer.term_probability.slice().reverse(), name: "in topic", marker: { color: "#d62728" } }],
      { barmode: "overlay", margin: { l: 90, r: 10, t: 10, b: 30 }, legend: { orientation: "h" } }, { responsive: true });
    const docs = $("topic-docs"); docs.innerHTML = "";
    answer.documents.forEach((d) => { const li = document.createElement("li");
      li.textContent = "[" + (d.label != null ? d.label + ", " : "") + "share " + d.share + "] " + d.text; docs.appendChild(li); });
    Plotly.restyle("topic-map", { "marker.line.width": [state.topicCount.map((_, i) => (i === k ? 3 : 0.5))] }, [0]);
  }

  async function startLda() {
    $("lda-view").hidden = false;
    const t = await api("GET", "/api/topics");
    state.topicCount = t.x;
    const size = t.prevalence.map((p) => 20 + 120 * Math.sqrt(p));
    await Plotly.react("topic-map", [{ type: "scatter", mode: "markers+text", x: t.x, y: t.y, text: t.x.map((_, i) => String(i)),
      hovertext: t.names.map((n, i) => "topic " + i + ": " + n), hoverinfo: "text",
      marker: { size, color: "rgba(31,119,180,0.45)", line: { color: "#1f3a5f", width: 0.5 } } }],
      { margin: { l: 40, r: 10, t: 10, b: 30 }, hovermode: "closest", xaxis: { title: { text: "PC1" } }, yaxis: { title: { text: "PC2" } } },
      { responsive: true });
    $("topic-map").on("plotly_click", (e) => showTopic(e.points[0].pointIndex));
    $("relevance").addEventListener("input", () => showTopic(state.topic));
    await showTopic(0);
  }

  async function showState(k) {
    const s = await api("GET", "/api/state/" + k);
    const rows = Object.entries(s.emission).map(([name, v]) => "<tr><th>" + name + "</th><td>" + JSON.stringify(v) + "</td></tr>").join("");
    $("state-panel").innerHTML = "<h3 id='state-title'>State " + k + "</h3><p>" + s.occupancy + " steps; start probability " + s.start + "</p>" +
      "<table><tr><th>transition row</th><td id='transition-row'>" + s.transition.map((p, j) => "→" + j + ": " + p).join("  ") + "</td></tr>" + rows + "</table>";
  }

  async function drawSequence() {
    const seq = state.sequence, j = parseInt($("hmm-feature").value, 10);
    const steps = seq.states.map((_, i) => i);
    const traces = [{ type: "scatter", mode: "lines", x: steps, y: seq.values[j], line: { color: "#bbb" }, hoverinfo: "skip", yaxis: "y" },
      { type: "scattergl", mode: "markers", x: steps, y: seq.values[j], text: seq.states.map((s) => "state " + s), hoverinfo: "text+y",
        marker: { color: seq.states.map((s) => PALETTE[s % PALETTE.length]), size: 6 }, yaxis: "y" }];
    seq.posteriors.forEach((p, k) => traces.push({ type: "scatter", mode: "lines", x: steps, y: p, stackgroup: "posterior",
      name: "P(state " + k + ")", line: { width: 0, color: PALETTE[k % PALETTE.length] }, yaxis: "y2" }));
    await Plotly.react("hmm-series", traces, { margin: { l: 50, r: 10, t: 10, b: 30 }, showlegend: false,
      grid: { rows: 2, columns: 1 }, yaxis: { domain: [0.35, 1], title: { text: seq.features[j] } },
      yaxis2: { domain: [0, 0.28], range: [0, 1], title: { text: "posterior" } } }, { responsive: true });
  }

  async function startHmm() {
    $("hmm-view").hidden = false;
    state.sequence = await api("GET", "/api/sequence");
    state.sequence.features.forEach((f, j) => { const o = document.createElement("option"); o.value = j; o.textContent = f; $("hmm-feature").appendChild(o); });
    for (let k = 0; k < state.info.n_states; k++) {
      const b = document.createElement("button"); b.className = "state"; b.id = "state-" + k; b.textContent = "state " + k;
      b.style.background = PALETTE[k % PALETTE.length]; b.addEventListener("click", () => showState(k)); $("state-buttons").appendChild(b);
    }
    $("hmm-feature").addEventListener("change", drawSequence);
    await drawSequence();
  }

  async function start() {
    try {
      state.info = await api("GET", "/api/info");
      $("run-title").textContent = state.info.model + " on " + state.info.source + " (" + state.info.run + ")";
      if (STATIC) $("mode-note").textContent = "static page: decodes precomputed";
      if (state.info.family === "latent") await startLatent();
      else if (state.info.family === "lda") await startLda();
      else await startHmm();
      window.exploreReady = true;
    } catch (e) { status("the explorer could not start: " + e.message); }
  }
  start();
})();
