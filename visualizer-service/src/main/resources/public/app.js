'use strict';
// Crema's dashboard. Every name that comes from a prototxt, a CSV or a topic reaches the page as
// text (textContent, never innerHTML), and ECharts' HTML tooltips get it escaped: a layer named
// <script> shows as that name. The Content-Security-Policy forbids inline script besides.

const $ = (id) => document.getElementById(id);
const state = { overview: null, run: null, runId: null, tab: 'curves', runSource: null, graph: null };

function el(tag, text, attrs) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === 'class') e.className = v; else if (k.startsWith('data-')) e.setAttribute(k, v); else e[k] = v;
  }
  return e;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function fmt(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return '—';
  if (typeof x !== 'number') return String(x);
  if (x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e6)) return x.toExponential(3);
  return Number.isInteger(x) ? String(x) : x.toPrecision(6).replace(/\.?0+$/, '');
}

function chart(dom) {
  return echarts.getInstanceByDom(dom) || echarts.init(dom, null, { renderer: 'canvas' });
}

async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  const body = await r.json().catch(() => ({ error: r.status + ' ' + r.statusText }));
  if (!r.ok) throw new Error(body.error || body.message || (r.status + ' ' + r.statusText));
  return body;
}

// ---------- routing ----------

function route() {
  const parts = (location.hash || '#/').slice(2).split('/').map(decodeURIComponent);
  const page = parts[0] === 'run' ? 'run' : parts[0] === 'datasets' ? 'datasets' : parts[0] === 'predict' ? 'predict' : 'runs';
  for (const p of ['runs', 'run', 'datasets', 'predict']) $('page-' + p).hidden = p !== page;
  // Charts drawn while their page was hidden have no size yet.
  for (const c of $('page-' + page).querySelectorAll('.chart, .heatmap, .histogram')) {
    const i = echarts.getInstanceByDom(c);
    if (i) i.resize();
  }
  if (page === 'run') {
    openRun(parts[1], parts[2] || 'curves');
  } else {
    closeRun();
  }
  if (page === 'predict') loadModels();
}

// ---------- overview (runs table, datasets): pushed by the server ----------

function connectOverview() {
  const es = new EventSource('/api/stream');
  es.addEventListener('overview', (e) => {
    state.overview = JSON.parse(e.data);
    renderRuns();
    renderDatasets();
  });
  es.onopen = () => { $('live').textContent = 'live'; };
  es.onerror = () => { $('live').textContent = 'reconnecting…'; };
}

function renderRuns() {
  const runs = state.overview.runs;
  const body = $('runs-table').tBodies[0];
  body.replaceChildren();
  $('runs-empty').hidden = runs.length > 0;
  for (const r of runs) {
    const tr = el('tr', null, { 'data-run': r.run });
    const link = el('a', r.model, { href: '#/run/' + encodeURIComponent(r.run) });
    const name = el('td'); name.append(link);
    tr.append(name, el('td', r.run), el('td', r.state, { class: 'state' }), el('td', r.iteration, { class: 'iteration' }),
      el('td', fmt(r.loss), { class: 'loss' }),
      el('td', Object.entries(r.testOutputs).map(([k, v]) => k + ' = ' + fmt(v)).join(', '), { class: 'test' }),
      el('td', fmt(Math.round(r.examplesPerSecond))), el('td', r.checkpoints));
    body.append(tr);
  }
}

// ---------- one run ----------

function openRun(id, tab) {
  state.tab = tab;
  for (const a of document.querySelectorAll('.tabs a')) {
    a.href = '#/run/' + encodeURIComponent(id) + '/' + a.dataset.tab;
    a.classList.toggle('active', a.dataset.tab === tab);
  }
  for (const t of ['curves', 'net', 'weights']) $('tab-' + t).hidden = t !== tab;
  if (state.runId !== id) {
    closeRun();
    state.runId = id;
    state.graph = null;
    $('weights').replaceChildren();
    $('net-graph').replaceChildren();
    const es = new EventSource('/api/runs/' + encodeURIComponent(id) + '/stream');
    es.addEventListener('run', (e) => { state.run = JSON.parse(e.data); renderRun(); });
    state.runSource = es;
  }
  if (state.run) renderRun();
  if (tab === 'net' && !state.graph) loadNet();
  if (tab === 'curves') {
    for (const c of document.querySelectorAll('#tab-curves .chart')) {
      const i = echarts.getInstanceByDom(c);
      if (i) i.resize();
    }
  }
}

function closeRun() {
  if (state.runSource) state.runSource.close();
  state.runSource = null;
  state.runId = null;
  state.run = null;
}

function renderRun() {
  const d = state.run;
  const s = d.summary;
  $('run-model').textContent = s.model;
  $('run-id').textContent = s.run;
  $('run-status').textContent = s.state + ' at iteration ' + s.iteration + (s.message ? ' — ' + s.message : '');
  $('solver-text').textContent = d.solver;
  if (state.tab === 'curves') renderCurves();
  if (state.tab === 'weights') renderCheckpointChoice();
}

const CURVE_CHARTS = [
  { dom: 'chart-loss', title: 'Training loss', pick: (n) => n === 'train/loss' || n === 'train/loss (smoothed)',
    label: (n) => n === 'train/loss' ? 'loss (raw)' : 'loss (smoothed)' },
  { dom: 'chart-test', title: 'Test outputs', pick: (n) => n.startsWith('test/'), label: (n) => n.slice(5) },
  { dom: 'chart-lr', title: 'Learning rate', pick: (n) => n === 'train/lr', label: () => 'lr' },
  { dom: 'chart-ratio', title: 'Update : parameter ratio', pick: (n) => n.startsWith('ratio/'), label: (n) => n.slice(6), log: true },
];

function renderCurves() {
  const d = state.run;
  const byTime = $('x-axis').value === 'time';
  const t0 = d.summary.startedMs;
  for (const c of CURVE_CHARTS) {
    const series = [];
    for (const [name, s] of Object.entries(d.curves)) {
      if (!c.pick(name)) continue;
      const data = s.values.map((v, i) => [byTime ? (s.times[i] - t0) / 1000 : s.iterations[i], v]);
      series.push({ id: name, name: c.label(name), type: 'line', showSymbol: data.length < 50, data, sampling: 'lttb' });
    }
    chart($(c.dom)).setOption({
      animation: false,
      title: { text: c.title, textStyle: { fontSize: 14 } },
      tooltip: {
        trigger: 'axis',
        formatter: (ps) => esc((byTime ? 't = ' : 'iteration ') + fmt(ps[0].value[0])) + '<br>'
          + ps.map((p) => esc(p.seriesName + ': ' + fmt(p.value[1]))).join('<br>'),
      },
      legend: { type: 'scroll', top: 22 },
      grid: { top: 60, left: 70, right: 30 },
      xAxis: { type: 'value', name: byTime ? 'seconds' : 'iteration', nameLocation: 'middle', nameGap: 25, scale: true },
      yAxis: { type: c.log ? 'log' : 'value', scale: true },
      dataZoom: [{ type: 'inside', filterMode: 'none' }, { type: 'slider', filterMode: 'none', height: 18, bottom: 4 }],
      series,
    }, { replaceMerge: ['series'] });
  }
}

// ---------- the net ----------

async function loadNet() {
  const deploy = document.querySelector('input[name=net-which]:checked').value === 'deploy';
  $('net-error').textContent = '';
  try {
    const g = await getJson('/api/runs/' + encodeURIComponent(state.runId) + '/net?deploy=' + deploy);
    state.graph = g;
    $('net-error').textContent = g.error || '';
    renderGraph(g);
  } catch (e) {
    state.graph = null;
    $('net-graph').replaceChildren();
    $('net-error').textContent = e.message;
  }
}

// The page lays the net out itself with dagre (from its WebJar, as ECharts is), in draw_net's look:
// each layer a box filled by type, each blob a layer reads a grey octagon, a blob only produced a
// plain ellipse, edges labelled with the batch or num_output. The server sends only the nodes and
// edges (NetDiagram's), so drawing a net needs no Graphviz anywhere. Every name goes in as text.

const SVG_NS = 'http://www.w3.org/2000/svg';
// Graphviz's default font, as draw_net's pictures have it; measured with the same font it is drawn in.
const GRAPH_FONT = { family: 'Times, serif', size: 14 };
const LINE = GRAPH_FONT.size * 1.25;

function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = String(text);
  return e;
}

let measurer = null;
function textWidth(s) {
  // A canvas measures text whether or not the graph's tab is shown yet (SVG's getBBox would not).
  measurer = measurer || document.createElement('canvas').getContext('2d');
  measurer.font = GRAPH_FONT.size + 'px ' + GRAPH_FONT.family;
  return measurer.measureText(s).width;
}

function nodeSize(n) {
  const w = Math.max(...n.lines.map(textWidth));
  const h = n.lines.length * LINE;
  if (n.shape === 'LAYER') return { width: w + 16, height: h + 10 };
  if (n.shape === 'BLOB') return { width: w + 36, height: Math.max(h + 14, 34) };
  return { width: w + 32, height: Math.max(h + 12, 34) };
}

function layOut(g) {
  const dg = new dagre.graphlib.Graph({ multigraph: true });
  dg.setGraph({ rankdir: g.rankdir, nodesep: 18, ranksep: 40, edgesep: 12, marginx: 8, marginy: 8 });
  for (const n of g.nodes) dg.setNode(n.id, { ...nodeSize(n), node: n });
  g.edges.forEach((e, i) => {
    // Twice a line high: the edge runs through the middle, its text sits above it (as Graphviz's beside it).
    const label = e.label ? { width: textWidth(e.label) + 8, height: 2 * LINE, labelpos: 'c' } : {};
    dg.setEdge(e.from, e.to, { ...label, edge: e }, 'e' + i);
  });
  dagre.layout(dg);
  return dg;
}

// A uniform B-spline through dagre's points, from the first to the last (d3's curveBasis).
function spline(points) {
  const p = points;
  if (p.length < 3) return 'M' + p.map((q) => q.x + ',' + q.y).join('L');
  const parts = ['M' + p[0].x + ',' + p[0].y, 'L' + (5 * p[0].x + p[1].x) / 6 + ',' + (5 * p[0].y + p[1].y) / 6];
  const bezier = (a, b, c) => 'C' + [(2 * a.x + b.x) / 3, (2 * a.y + b.y) / 3, (a.x + 2 * b.x) / 3, (a.y + 2 * b.y) / 3,
    (a.x + 4 * b.x + c.x) / 6, (a.y + 4 * b.y + c.y) / 6].join(',');
  for (let i = 2; i < p.length; i++) parts.push(bezier(p[i - 2], p[i - 1], p[i]));
  const a = p[p.length - 2];
  const b = p[p.length - 1];
  parts.push(bezier(a, b, b), 'L' + b.x + ',' + b.y);
  return parts.join('');
}

function nodeShape(n, x, y, w, h) {
  if (n.shape === 'LAYER') {
    return svgEl('rect', { x: x - w / 2, y: y - h / 2, width: w, height: h, fill: n.fill, stroke: '#000' });
  }
  if (n.shape === 'BLOB') {
    const k = h * 0.3;
    const l = x - w / 2, r = x + w / 2, t = y - h / 2, b = y + h / 2;
    const pts = [[l + k, t], [r - k, t], [r, t + k], [r, b - k], [r - k, b], [l + k, b], [l, b - k], [l, t + k]];
    return svgEl('polygon', { points: pts.map((q) => q.join(',')).join(' '), fill: n.fill, stroke: '#000' });
  }
  return svgEl('ellipse', { cx: x, cy: y, rx: w / 2, ry: h / 2, fill: '#fff', stroke: '#000' });
}

function renderGraph(g) {
  const host = $('net-graph');
  host.replaceChildren();
  if (!g.nodes.length) return;
  const dg = layOut(g);
  const { width, height } = dg.graph();
  const svg = svgEl('svg', { width: Math.ceil(width), height: Math.ceil(height), viewBox: '0 0 ' + width + ' ' + height,
    'font-family': GRAPH_FONT.family, 'font-size': GRAPH_FONT.size });
  const marker = svgEl('marker', { id: 'net-arrow', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 9,
    markerHeight: 9, orient: 'auto' });
  marker.append(svgEl('path', { d: 'M0,1 L10,5 L0,9 z', fill: '#000' }));
  const defs = svgEl('defs');
  defs.append(marker);
  const edges = svgEl('g', { class: 'edges' });
  for (const key of dg.edges()) {
    const e = dg.edge(key);
    const ge = svgEl('g', { class: 'edge', 'data-from': key.v, 'data-to': key.w });
    ge.append(svgEl('path', { d: spline(e.points), fill: 'none', stroke: '#000', 'marker-end': 'url(#net-arrow)' }));
    if (e.edge.label) {
      ge.append(svgEl('text', { x: e.x, y: e.y - LINE / 2 - 1, 'text-anchor': 'middle', 'dominant-baseline': 'central' },
        e.edge.label));
    }
    edges.append(ge);
  }
  const nodes = svgEl('g', { class: 'nodes' });
  for (const id of dg.nodes()) {
    const d = dg.node(id);
    const n = d.node;
    // Layer nodes carry id layer<i> (i: the layer's index), which the hover below looks up.
    const gn = svgEl('g', n.shape === 'LAYER' ? { class: 'node layer', id: n.id, 'data-node': n.id }
      : { class: 'node blob', 'data-node': n.id });
    gn.append(nodeShape(n, d.x, d.y, d.width, d.height));
    n.lines.forEach((line, i) => gn.append(svgEl('text', { x: d.x, y: d.y + (i - (n.lines.length - 1) / 2) * LINE,
      'text-anchor': 'middle', 'dominant-baseline': 'central' }, line)));
    nodes.append(gn);
  }
  svg.append(defs, edges, nodes);
  host.append(svg);
  const tip = $('layer-tip');
  for (const node of host.querySelectorAll('g.node.layer')) {
    const m = /^layer(\d+)$/.exec(node.id);
    if (!m) continue;
    const info = g.layers[Number(m[1])];
    node.addEventListener('mousemove', (ev) => {
      showLayerTip(info);
      tip.style.left = (ev.clientX + 16) + 'px';
      tip.style.top = (ev.clientY + 16) + 'px';
    });
    node.addEventListener('mouseleave', () => { tip.hidden = true; });
  }
}

function showLayerTip(first) {
  // One node may stand for several layers of one name and type (TRAIN and TEST Data layers).
  const same = state.graph.layers.filter((l) => l.name === first.name && l.type === first.type);
  const tip = $('layer-tip');
  const shape = (b) => b.name + (b.shape ? ' [' + b.shape.join(' × ') + ']' : '');
  tip.replaceChildren(el('strong', first.name), el('span', ' (' + first.type + ')'));
  for (const l of same) {
    const box = el('div', null, { class: 'layer' });
    if (same.length > 1) box.append(el('em', l.phases.join(', ') || 'no phase'));
    box.append(
      el('div', 'bottoms: ' + (l.bottoms.map(shape).join(', ') || '—'), { class: 'bottoms' }),
      el('div', 'tops: ' + (l.tops.map(shape).join(', ') || '—'), { class: 'tops' }),
      el('div', 'parameters: ' + l.paramCount.toLocaleString('en'), { class: 'param-count' }));
    if (same.length === 1 && l.phases.length) box.append(el('div', 'phases: ' + l.phases.join(', ')));
    if (l.params) box.append(el('pre', l.params));
    tip.append(box);
  }
  tip.hidden = false;
}

// ---------- weights ----------

function renderCheckpointChoice() {
  const cps = state.run.checkpoints.map((c) => c.iteration).sort((a, b) => b - a);
  for (const id of ['checkpoint-a', 'checkpoint-b']) {
    const sel = $(id);
    const keep = sel.value;
    const have = [...sel.options].map((o) => o.value).filter((v) => v !== '');
    if (have.join() === cps.join()) continue;
    sel.replaceChildren();
    if (id === 'checkpoint-b') sel.append(el('option', '—', { value: '' }));
    for (const it of cps) sel.append(el('option', 'iteration ' + it, { value: String(it) }));
    sel.value = keep && (keep === '' || cps.includes(Number(keep))) ? keep : (id === 'checkpoint-a' && cps.length ? String(cps[0]) : '');
  }
  if (!$('weights').hasChildNodes() && $('checkpoint-a').value) renderWeights();
}

async function renderWeights() {
  const host = $('weights');
  $('weights-error').textContent = '';
  const picks = [$('checkpoint-a').value, $('checkpoint-b').value].filter((v) => v !== '');
  try {
    const all = await Promise.all(picks.map((it) =>
      getJson('/api/runs/' + encodeURIComponent(state.runId) + '/checkpoints/' + it)));
    host.replaceChildren();
    all.forEach((w, col) => host.append(weightsColumn(w, col)));
    for (const c of host.querySelectorAll('[data-chart]')) drawWeightChart(c);
  } catch (e) {
    $('weights-error').textContent = e.message;
  }
}

function weightsColumn(w, col) {
  const div = el('div', null, { 'data-iteration': String(w.iteration) });
  const base = '/api/runs/' + encodeURIComponent(state.runId) + '/checkpoints/' + w.iteration;
  div.append(el('h3', 'iteration ' + w.iteration));
  w.layers.forEach((l) => {
    l.params.forEach((p) => {
      const title = l.name + ' (' + l.type + ') ' + p.role + ' [' + p.shape.join(' × ') + '], |W| = ' + fmt(p.norm);
      div.append(el('h4', title));
      const attrs = (kind) => ({ class: kind === 'histogram' ? 'histogram' : 'heatmap', 'data-chart': kind,
        'data-layer': l.name, 'data-role': p.role, 'data-column': String(col) });
      if (p.filters) {
        // A 4-D filter bank: Caffe's vis_square as the server draws it (colour for 3 input channels).
        const img = el('img', null, { class: 'vis-square', alt: 'filters of ' + l.name, title: 'filters (vis_square)',
          'data-layer': l.name, 'data-role': p.role, 'data-column': String(col) });
        zoomOnLoad(img, 240);
        img.src = base + '/filters/' + l.index + '/' + p.index + '.png';
        div.append(img);
      }
      for (const kind of ['heatmap', 'histogram']) {
        if (!p[kind]) continue;
        const c = el('div', null, attrs(kind));
        c.weights = p[kind];
        c.caption = l.name + ' ' + p.role;
        div.append(c);
      }
    });
  });
  // A net with filter banks (a conv net) gets one sample's feature maps too.
  if (w.layers.some((l) => l.params.some((p) => p.filters))) {
    const features = el('div', null, { class: 'features-maps', 'data-column': String(col) });
    div.append(features);
    loadFeatures(features, base);
  }
  return div;
}

// Small pictures (an 8×8 digit, 5×5 filters) are drawn larger, pixel for pixel: a whole number of
// screen pixels per image pixel, about `target` pixels on the longer side.
function zoomOnLoad(img, target) {
  img.addEventListener('load', () => {
    const side = Math.max(img.naturalWidth, img.naturalHeight);
    const k = Math.max(1, Math.floor(target / side));
    img.style.width = (img.naturalWidth * k) + 'px';
  });
}

function sampleQuery() {
  const v = $('feature-sample').value;
  if (!v) return '';
  const [label, k] = v.split('/');
  return '?label=' + encodeURIComponent(label) + '&k=' + encodeURIComponent(k);
}

// One sample through the checkpoint's net: the sample and each conv layer's output channels.
async function loadFeatures(host, base) {
  const q = sampleQuery();
  host.append(el('h4', 'feature maps'));
  try {
    const f = await getJson(base + '/features' + q);
    host.append(el('p', 'sample: ' + (f.labelName || f.label) + ' (' + f.topic + ' @ ' + f.partition + ':' + f.offset
      + '), input [' + f.input.join(' × ') + ']', { class: 'muted sample-caption' }));
    if (f.image) {
      const img = el('img', null, { class: 'feature-sample', alt: 'the sample', title: 'the sample' });
      zoomOnLoad(img, 112);
      img.src = base + '/features/sample.png' + q;
      host.append(img);
    }
    if (!f.layers.length) host.append(el('p', 'the net has no convolution layer', { class: 'muted' }));
    for (const m of f.layers) {
      host.append(el('h5', m.layer + ' (' + m.type + ') output [' + m.shape.join(' × ') + ']'));
      const img = el('img', null, { class: 'feature-map', alt: 'feature maps of ' + m.layer, 'data-layer': m.layer });
      zoomOnLoad(img, 320);
      img.src = base + '/features/' + m.index + '.png' + q;
      host.append(img);
    }
    if (f.dataset) fillSampleChoice(f.dataset);
  } catch (e) {
    host.append(el('p', 'no feature maps: ' + e.message, { class: 'muted feature-error' }));
  }
}

async function fillSampleChoice(dataset) {
  const sel = $('feature-sample');
  if (sel.dataset.dataset === dataset) return;
  sel.dataset.dataset = dataset;
  try {
    const s = await getJson('/api/datasets/' + encodeURIComponent(dataset) + '/samples');
    const keep = sel.value;
    sel.replaceChildren(el('option', 'first test sample', { value: '' }));
    for (const c of s.classes) {
      for (let k = 0; k < c.count; k++) sel.append(el('option', c.name + ' #' + (k + 1), { value: c.label + '/' + k }));
    }
    sel.value = keep;
  } catch (e) {
    // The first test sample stays the only choice.
  }
}

// Signed values (weights) get a diverging map centred on 0, so that sign and size both read at a
// glance; a sequential map would put 0 at some arbitrary shade.
const RDBU = ['#053061', '#2166ac', '#4393c3', '#92c5de', '#d1e5f0', '#f7f7f7', '#fddbc7', '#f4a582', '#d6604d', '#b2182b', '#67001f'];

function colourScale(m, kind) {
  const base = { calculable: true, orient: 'vertical', right: 0, top: 'middle', precision: 4 };
  if (kind === 'tiles') return { ...base, min: m.min, max: m.max, inRange: { color: ['#000000', '#ffffff'] } };
  if (m.min < 0 && m.max > 0) {
    const a = Math.max(-m.min, m.max);
    return { ...base, min: -a, max: a, inRange: { color: RDBU } };
  }
  return { ...base, min: m.min, max: m.max, inRange: { color: VIRIDIS } };
}

const VIRIDIS = ['#440154', '#482878', '#3e4989', '#31688e', '#26828e', '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725'];

function drawWeightChart(dom) {
  const kind = dom.dataset.chart;
  const m = dom.weights;
  if (kind === 'histogram') {
    const centers = m.counts.map((_, i) => (m.edges[i] + m.edges[i + 1]) / 2);
    chart(dom).setOption({
      animation: false,
      title: { text: 'histogram (' + m.counts.length + ' bins)', textStyle: { fontSize: 12 } },
      tooltip: { formatter: (p) => esc(fmt(m.edges[p.dataIndex]) + ' … ' + fmt(m.edges[p.dataIndex + 1]) + ': ' + p.value) },
      xAxis: { type: 'category', data: centers.map(fmt) },
      yAxis: { type: 'value' },
      grid: { top: 30, left: 50, right: 10, bottom: 30 },
      series: [{ type: 'bar', data: m.counts, barCategoryGap: '5%' }],
    });
    return;
  }
  const data = new Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let c = 0; c < m.cols; c++) data[r * m.cols + c] = [c, r, m.values[r * m.cols + c]];
  const rows = Array.from({ length: m.rows }, (_, i) => i);
  const cols = Array.from({ length: m.cols }, (_, i) => i);
  chart(dom).setOption({
    animation: false,
    title: { text: (kind === 'tiles' ? 'filters (vis_square)' : m.rows + ' × ' + m.cols + (m.averaged ? ' (block averages)' : '')),
      textStyle: { fontSize: 12 } },
    tooltip: { formatter: (p) => esc('row ' + p.value[1] + ', column ' + p.value[0] + ': ' + fmt(p.value[2])) },
    grid: { top: 30, left: 40, right: 90, bottom: 30 },
    xAxis: { type: 'category', data: cols, splitArea: { show: false } },
    yAxis: { type: 'category', data: rows, inverse: true },
    visualMap: colourScale(m, kind),
    series: [{ type: 'heatmap', data, progressive: 0 }],
  });
}

// ---------- datasets ----------

function renderDatasets() {
  const host = $('datasets');
  const sets = state.overview.datasets;
  $('datasets-empty').hidden = sets.length > 0;
  host.replaceChildren();
  for (const d of sets) {
    const box = el('div', null, { class: 'dataset', 'data-dataset': d.dataset });
    box.append(el('h3', d.dataset));
    box.append(el('p', 'rejected rows: ' + d.rejected + '; dead letters seen: ' + d.deadLetters, { class: 'rejected' }));
    const balance = el('div', null, { class: 'histogram' });
    box.append(balance, samplesOf(d));
    const feats = el('table', null, { class: 'grid features' });
    const head = el('tr');
    for (const h of ['feature', 'min', 'max', 'mean', 'std']) head.append(el('th', h));
    feats.append(head);
    for (const f of d.features) {
      const tr = el('tr');
      tr.append(el('td', f.name), el('td', fmt(f.min)), el('td', fmt(f.max)), el('td', fmt(f.mean)), el('td', fmt(f.std)));
      feats.append(tr);
    }
    box.append(el('h4', 'features'), feats);
    if (d.latestRejections.length) {
      const dl = el('table', null, { class: 'grid dead-letters' });
      const h = el('tr');
      for (const x of ['source', 'line', 'reason', 'row']) h.append(el('th', x));
      dl.append(h);
      for (const r of d.latestRejections) {
        const tr = el('tr');
        tr.append(el('td', r.source), el('td', r.lineNumber), el('td', r.reason), el('td', r.rawLine));
        dl.append(tr);
      }
      box.append(el('h4', 'latest rejections'), dl);
    }
    host.append(box);
    const splits = Object.keys(d.countsBySplit);
    chart(balance).setOption({
      animation: false,
      title: { text: 'class balance per split', textStyle: { fontSize: 12 } },
      tooltip: { trigger: 'axis', formatter: (ps) => ps.map((p) => esc(p.seriesName + ' ' + p.name + ': ' + p.value)).join('<br>') },
      legend: { top: 0, right: 0 },
      xAxis: { type: 'category', data: d.labels },
      yAxis: { type: 'value' },
      grid: { top: 30, left: 50, right: 10, bottom: 30 },
      series: splits.map((s) => ({ name: s, type: 'bar', data: d.countsBySplit[s] })),
    });
  }
}

// Sample images per class, kept across pushes (the page redraws the datasets at each one): asked
// for again only when the dataset's counts change. Only image datasets have any.
const samplesShown = new Map();

function samplesOf(d) {
  const key = JSON.stringify([d.labels, d.countsBySplit]);
  let s = samplesShown.get(d.dataset);
  if (s && s.key === key) return s.box;
  const box = s ? s.box : el('div', null, { class: 'samples', 'data-dataset': d.dataset });
  samplesShown.set(d.dataset, { key, box });
  if (/^[A-Za-z0-9_-]{1,100}$/.test(d.dataset)) loadSamples(d.dataset, box);
  return box;
}

async function loadSamples(dataset, box) {
  try {
    const s = await getJson('/api/datasets/' + encodeURIComponent(dataset) + '/samples');
    if (!s.images) { box.replaceChildren(); return; }
    const rows = [el('h4', 'samples per class (' + s.channels + ' × ' + s.height + ' × ' + s.width
      + (s.encoded ? ', encoded' : '') + ')')];
    for (const c of s.classes) {
      const row = el('div', null, { class: 'sample-row', 'data-label': String(c.label) });
      row.append(el('span', c.name, { class: 'sample-label' }));
      for (let k = 0; k < c.count; k++) {
        const img = el('img', null, { class: 'sample', alt: c.name + ' #' + (k + 1), title: c.name + ' #' + (k + 1) });
        zoomOnLoad(img, 56);
        img.src = '/api/datasets/' + encodeURIComponent(dataset) + '/samples/' + c.label + '/' + k + '.png';
        row.append(img);
      }
      if (!c.count) row.append(el('span', 'no sample found', { class: 'muted' }));
      rows.push(row);
    }
    box.replaceChildren(...rows);
  } catch (e) {
    box.replaceChildren(el('p', 'samples: ' + e.message, { class: 'muted' }));
  }
}

// ---------- predict ----------

async function loadModels() {
  try {
    const models = await getJson('/api/models');
    const sel = $('predict-model');
    const keep = sel.value;
    sel.replaceChildren();
    for (const m of models) sel.append(el('option', m.model + ' (iteration ' + m.iteration + ')', { value: m.model }));
    if (keep) sel.value = keep;
    $('predict-error').textContent = models.length ? '' : 'The inference service serves no model yet.';
  } catch (e) {
    $('predict-error').textContent = e.message;
  }
}

async function predict(ev) {
  ev.preventDefault();
  $('predict-error').textContent = '';
  const file = $('predict-file').files[0];
  const csv = file ? await file.text() : $('predict-csv').value;
  const table = $('predict-table');
  table.tHead.replaceChildren();
  table.tBodies[0].replaceChildren();
  try {
    const r = await fetch('/api/models/' + encodeURIComponent($('predict-model').value) + '/predict',
      { method: 'POST', headers: { 'Content-Type': 'text/csv' }, body: csv });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error || body.message || r.status);
    $('predict-served').textContent = 'served by ' + body.model + ' at iteration ' + body.iteration
      + (body.labelled ? '; accuracy ' + body.accuracy.toFixed(4) + ', loss ' + body.loss.toFixed(4)
        + ' on ' + body.labelled + ' labelled rows' : '');
    const labels = body.predictions.length ? Object.keys(body.predictions[0].probabilities) : [];
    const h = el('tr');
    h.append(el('th', 'row'), el('th', 'label'));
    labels.forEach((l) => h.append(el('th', l)));
    table.tHead.append(h);
    body.predictions.forEach((p, i) => {
      const tr = el('tr', null, { 'data-row': String(i) });
      tr.append(el('td', p.id != null ? p.id : i + 1, { class: 'id' }), el('td', p.label, { class: 'top' }));
      labels.forEach((l) => tr.append(el('td', p.probabilities[l].toFixed(6), { 'data-label': l })));
      table.tBodies[0].append(tr);
    });
  } catch (e) {
    $('predict-error').textContent = e.message;
  }
}

// ---------- wiring ----------

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => document.querySelectorAll('.chart, .heatmap, .histogram').forEach((c) => {
  const i = echarts.getInstanceByDom(c);
  if (i) i.resize();
}));
$('x-axis').addEventListener('change', () => { if (state.run) renderCurves(); });
for (const r of document.querySelectorAll('input[name=net-which]')) r.addEventListener('change', loadNet);
$('checkpoint-a').addEventListener('change', renderWeights);
$('checkpoint-b').addEventListener('change', renderWeights);
$('feature-sample').addEventListener('change', renderWeights);
$('predict-form').addEventListener('submit', predict);
connectOverview();
route();
