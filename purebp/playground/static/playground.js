/* purebp playground: the page's script.
 *
 * The server trains the network; this page only sends settings and draws what
 * the server answers (a STATE object, see purebp/docs/playground.md):
 *
 *   1. requests     api() never throws; user actions run one at a time
 *   2. controls     read the settings from the form, or put them back
 *   3. the session  accept a STATE, poll while training runs
 *   4. drawings     decision boundary, network diagram, loss and gradient charts
 *   5. details      tooltip on hover, the explain panel on click
 *   6. exports      model file, test vector, the pictures as SVG
 *
 * Plain JavaScript, no libraries. The server's Content-Security-Policy allows
 * no inline styles, so styles live in playground.css and the script sets only
 * SVG attributes and element.style properties.
 */
'use strict';

const $ = (id) => document.getElementById(id);
const SVG_NS = 'http://www.w3.org/2000/svg';

// The two classes, and the sign of a weight: orange (class 0, negative),
// a near-white middle, blue (class 1, positive). Safe for red-green colour blindness.
const NEG = [224, 130, 20], MID = [247, 247, 247], POS = [33, 102, 172];
const css = (rgb) => `rgb(${rgb.join(',')})`;
const NEG_CSS = css(NEG), POS_CSS = css(POS);
// Lines of the gradient chart, one per weight layer: colour AND dash differ (Okabe–Ito colours).
const SERIES_COLOURS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#000000'];
const SERIES_DASHES = ['', '6 3', '2 2', '8 3 2 3', '4 4', '1 3', '10 2'];
const MAX_LAYERS = 6, MAX_UNITS = 8, MIN_UNITS = 1;
// The loss forces the output activation for these two (as the server does).
const FORCED_OUTPUT = { bce: 'sigmoid', cross_entropy: 'softmax' };

let session = null;        // the session id, once POST /api/session answered
let state = null;          // the last STATE drawn
let hidden = [4, 2];       // the hidden layer sizes the controls show
let csvText = null;        // the text of the CSV file chosen, if any
let goodCsv = null;        // the last CSV text the server took (it does not echo it back)
let freeOutput = 'sigmoid';  // the output activation to come back to when the loss stops forcing one
let errorText = null, errorFromPoll = false;  // the error the message line shows
let pollTimer = null, pollBusy = false;
let configsWaiting = 0;    // config sends queued or in flight: only the last one puts the controls back
let hovered = null;        // the weight or node under the pointer (for the tooltip)
let explainTarget = null;  // the dataset of what the explain panel shows
let explainAsked = 0;      // counts explain requests, so that a late answer is dropped

/** Create an SVG element with attributes, appended to parent if given. */
function svgEl(tag, attrs, parent) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  if (parent) parent.appendChild(el);
  return el;
}

const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
/** A readout: 4 decimals (scientific notation when huge), or an en dash when there is no number. */
const fixed4 = (v) => (!isNum(v) ? '–' : Math.abs(v) < 1e5 ? v.toFixed(4) : v.toExponential(3));
const percent = (v) => (isNum(v) ? `${(100 * v).toFixed(1)} %` : '–');
/** A weight or gradient: 4 decimals, or scientific notation when that would hide it. */
function fmt(v) {
  if (!isNum(v)) return '–';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 1e-3 && a < 1e5 ? v.toFixed(4) : v.toExponential(3);
}
const clamp01 = (t) => (t < 0 ? 0 : t > 1 ? 1 : Number.isFinite(t) ? t : 0.5);

/** The colour of t in [0, 1] on the orange–white–blue scale, as [r, g, b]. */
function colourAt(t) {
  const [a, b, u] = t < 0.5 ? [NEG, MID, t * 2] : [MID, POS, (t - 0.5) * 2];
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * u));
}

/* ---------------------------------------------------------------------------
 * 1. Requests. api() answers {ok, status, data} or {ok: false, status, error};
 * it never throws, so a server that is down or slow never breaks the page.
 * ------------------------------------------------------------------------- */

async function api(method, path, body) {
  try {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    let data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (response.ok && data) return { ok: true, status: response.status, data };
    const error = (data && data.error) || `the server answered ${response.status}`;
    return { ok: false, status: response.status, error };
  } catch (e) {
    return { ok: false, status: 0, error: 'cannot reach the playground server (is `purebp playground` still running?)' };
  }
}

// User actions (settings, play, step, ...) run one after another, in order.
let queue = Promise.resolve();
function enqueue(task) {
  queue = queue.then(task).catch((e) => showError(`page error: ${e && e.message ? e.message : e}`));
}

/** The message line: the last error if any, else the session's own message. */
function renderMessage() {
  const el = $('message');
  el.textContent = errorText || (state && state.message) || '';
  el.classList.toggle('error', Boolean(errorText));
}
function showError(text, fromPoll = false) {
  errorText = text;
  errorFromPoll = fromPoll;
  renderMessage();
}

/* ---------------------------------------------------------------------------
 * 2. Controls: the form <-> a CONFIG object.
 * ------------------------------------------------------------------------- */

/** A number from an input, or its text if it is not one (the server then says what is wrong). */
function numberOf(id) {
  const text = $(id).value.trim();
  const n = Number(text);
  // an integer JavaScript cannot hold exactly goes as its text (the server says what is wrong)
  if (Number.isInteger(n) && !Number.isSafeInteger(n)) return text;
  return text !== '' && Number.isFinite(n) ? n : text;
}

/** The whole CONFIG the controls show. */
function readConfig() {
  const batch = $('batch-size').value;
  const config = {
    data: $('data').value,
    samples: numberOf('samples'),
    noise: numberOf('noise'),
    validation_split: numberOf('validation-split'),
    batch_size: batch === 'full' ? null : numberOf('batch-size'),
    hidden: hidden.slice(),
    activation: $('activation').value,
    loss: $('loss').value,
    output_activation: $('output-activation').value,
    init: $('init').value,
    optimizer: $('optimizer').value,
    learning_rate: numberOf('learning-rate'),
    weight_decay: numberOf('weight-decay'),
    seed: numberOf('seed'),
  };
  if (config.data === 'csv') config.csv = csvText;
  return config;
}

/** Select the option whose value is the number v, adding one if the list lacks it. */
function selectNumber(select, v) {
  let option = [...select.options].find((o) => Number(o.value) === v && o.value !== 'full');
  if (!option) {
    option = new Option(String(v), String(v));
    select.add(option, [...select.options].find((o) => o.value === 'full' || Number(o.value) > v) || null);
  }
  select.value = option.value;
}

/** Put the controls back to a CONFIG (the one in force, from STATE.config). */
function applyConfig(c) {
  if (!c) return;
  $('data').value = c.data;
  $('noise').value = c.noise;
  $('samples').value = c.samples;
  $('validation-split').value = c.validation_split;
  if (c.batch_size === null) $('batch-size').value = 'full';
  else selectNumber($('batch-size'), c.batch_size);
  hidden = (c.hidden || []).slice();
  $('activation').value = c.activation;
  $('loss').value = c.loss;
  if (!FORCED_OUTPUT[c.loss]) freeOutput = c.output_activation;
  $('output-activation').value = c.output_activation;
  $('init').value = c.init;
  $('optimizer').value = c.optimizer;
  selectNumber($('learning-rate'), c.learning_rate);
  $('weight-decay').value = c.weight_decay;
  $('seed').value = c.seed;
  csvText = goodCsv;
  updateDependentControls();
  renderNeuronButtons();
}

/** What follows from other controls: the forced output activation, the slider labels. */
function updateDependentControls() {
  const out = $('output-activation');
  const forced = FORCED_OUTPUT[$('loss').value];
  if (forced) {
    out.value = forced;
    out.disabled = true;
  } else {
    out.disabled = false;
    if (out.value === 'softmax' || FORCED_OUTPUT[state && state.config && state.config.loss]) out.value = freeOutput;
  }
  out.title = forced ? `the loss ${$('loss').value} needs a ${forced} output` : '';
  // a CSV file brings its own points: no count, no noise
  $('samples').disabled = $('noise').disabled = $('data').value === 'csv';
  $('noise-value').textContent = Number($('noise').value).toFixed(2);
  $('validation-split-value').textContent = `${Math.round(100 * Number($('validation-split').value))}%`;
}

/** The "+ −" buttons: one pair for the layers, one pair above each hidden layer's column. */
function renderNeuronButtons() {
  const box = $('neuron-buttons');
  box.textContent = '';
  const columns = hidden.length + 2;
  hidden.forEach((units, index) => {
    const k = index + 1;
    const group = document.createElement('div');
    group.className = 'neuron-group';
    group.style.left = `${(100 * columnX(k, columns)) / NET.width}%`;
    const buttons = document.createElement('div');
    for (const [sign, id, label, disabled] of [
      ['+', `add-neuron-${k}`, `Add a neuron to hidden layer ${k}`, units >= MAX_UNITS],
      ['−', `remove-neuron-${k}`, `Remove a neuron from hidden layer ${k}`, units <= MIN_UNITS],
    ]) {
      const b = document.createElement('button');
      Object.assign(b, { type: 'button', id, textContent: sign, disabled });
      b.setAttribute('aria-label', label);
      b.dataset.layer = String(k);
      b.dataset.change = sign === '+' ? '1' : '-1';
      buttons.appendChild(b);
    }
    group.appendChild(buttons);
    group.appendChild(document.createTextNode(`${units} neuron${units === 1 ? '' : 's'}`));
    box.appendChild(group);
  });
  $('layer-count').textContent = `${hidden.length} hidden layer${hidden.length === 1 ? '' : 's'}`;
  $('add-layer').disabled = hidden.length >= MAX_LAYERS;
  $('remove-layer').disabled = hidden.length === 0;
}

/* ---------------------------------------------------------------------------
 * 3. The session: create it, send settings and actions, accept STATEs, poll.
 * ------------------------------------------------------------------------- */

async function createSession() {
  const config = readConfig();
  const r = await api('POST', '/api/session', { config });
  if (!r.ok) { showError(r.error); setRunButtons(); return; }
  if (config.data === 'csv') goodCsv = config.csv;
  session = null;  // a new id: accept() takes the STATE whatever its version
  errorText = null;
  accept(r.data, { sync: true, force: true });
}

/** The session ended on the server (idle too long, or the server restarted): start another. */
async function restartSession(why) {
  session = null;
  state = null;
  await createSession();
  if (session) showError(`${why}\nA new session was started with the settings shown.`);
}

/**
 * Take a STATE from the server. An older one than the last (a poll answered
 * before a pause) is dropped; a new version is drawn. sync: put the controls
 * back to its config; force: draw even if the version did not change.
 */
function accept(s, { sync = false, force = false } = {}) {
  if (!s || typeof s !== 'object' || !Array.isArray(s.sizes)) {
    showError('the server sent an answer the page does not understand');
    return;
  }
  const sameSession = session !== null && s.session === session;
  if (sameSession && state && s.version < state.version) return;
  const changed = !sameSession || !state || s.version !== state.version;
  state = s;
  session = s.session;
  if (sync) applyConfig(s.config);
  if (changed || force) drawAll();
  setRunButtons();
  renderMessage();
  schedulePoll();
}

/** Play, pause, step or reset. */
function action(name) {
  enqueue(async () => {
    if (!session) { await createSession(); if (!session) return; }
    const r = await api('POST', `/api/${name}`, { session });
    if (r.ok) { errorText = null; accept(r.data, { force: true }); }
    else if (r.status === 404) await restartSession(r.error);
    else showError(r.error);
  });
}

/**
 * Send the whole config; on a refusal show why and put the controls back.
 * Changes made quickly one after another queue up, each sending the controls
 * as they are when its turn comes; only the last one to answer puts the
 * controls back to the server's config, so that no answer undoes a change
 * the user made while it was on its way.
 */
function sendConfig() {
  configsWaiting++;
  enqueue(async () => {
    try {
      if (!session) { await createSession(); return; }
      const config = readConfig();
      const r = await api('POST', '/api/config', { session, config });
      const last = configsWaiting === 1;
      if (r.ok) {
        if (config.data === 'csv') goodCsv = config.csv;
        errorText = null;
        accept(r.data, { sync: last, force: true });
      } else if (r.status === 404) {
        await restartSession(r.error);
      } else {
        showError(r.error);
        if (config.data === 'csv' && config.csv !== goodCsv) {  // a file the server refused
          csvText = goodCsv;
          $('csv-file').value = '';
        }
        if (state && last) applyConfig(state.config);
      }
    } finally {
      configsWaiting--;
    }
  });
}

/** While the session trains, ask for its state about every 200 ms, one request at a time. */
function schedulePoll(delay = 200) {
  if (pollTimer !== null || pollBusy || !state || !state.running) return;
  pollTimer = setTimeout(() => {
    pollTimer = null;
    poll().catch((e) => showError(`page error: ${e && e.message ? e.message : e}`, true));
  }, delay);
}

async function poll() {
  if (!state || !state.running || !session) return;
  pollBusy = true;
  let r;
  try {
    r = await api('GET', `/api/state?session=${encodeURIComponent(session)}`);
  } finally {
    pollBusy = false;
  }
  if (r.ok) {
    if (errorFromPoll) errorText = null;
    accept(r.data);
  } else if (r.status === 404) {
    state.running = false;
    enqueue(() => restartSession(r.error));
  } else {
    showError(r.error, true);
    schedulePoll(1000);  // the server may be busy or restarting: try again, more slowly
  }
}

function setRunButtons() {
  const has = Boolean(session && state);
  const running = Boolean(has && state.running);
  $('play').disabled = !has || running;
  $('pause').disabled = !has || !running;
  for (const id of ['step', 'reset', 'export-model', 'export-vector', 'export-svg']) $(id).disabled = !has;
  document.body.classList.toggle('running', running);
}

/* ---------------------------------------------------------------------------
 * 4. Drawings.
 * ------------------------------------------------------------------------- */

function drawAll() {
  drawReadouts();
  drawBoundary();
  drawNetwork();
  drawLossChart();
  drawGradientChart();
  refreshTooltip();
}

function drawReadouts() {
  $('epoch').textContent = String(state.epoch);
  $('loss-train').textContent = fixed4(state.loss_train);
  $('loss-validation').textContent = fixed4(state.loss_validation);
  $('accuracy-train').textContent = percent(state.accuracy_train);
  $('accuracy-validation').textContent = percent(state.accuracy_validation);
}

/**
 * A heat map as a PNG data URL: n × n pixels, row 0 at the top, each pixel the
 * colour of tOf(index) in [0, 1]. The SVG shows it as an <image>, so that the
 * exported SVG carries the picture too. soften pulls the colours toward the
 * middle, so that the data points stand out on the boundary.
 */
const canvases = new Map();
function heatmapURL(n, tOf, soften = 1) {
  if (!canvases.has(n)) {
    const c = document.createElement('canvas');
    c.width = c.height = n;
    canvases.set(n, c);
  }
  const canvas = canvases.get(n);
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const rgb = colourAt(0.5 + (clamp01(tOf(i)) - 0.5) * soften);
    image.data.set([rgb[0], rgb[1], rgb[2], 255], 4 * i);
  }
  ctx.putImageData(image, 0, 0);
  return canvas.toDataURL('image/png');
}

/* The decision boundary: the model's probability of class 1 over the data's
 * square (STATE.boundary, row 0 = top), with the points on top: training
 * points filled, validation points as rings. */
const PLOT = { x: 30, y: 4, size: 266 };
let pointsKey = '';
function drawBoundary() {
  const svg = $('boundary');
  const { x: [xlo, xhi], y: [ylo, yhi] } = state.domain;
  if (!svg.firstChild) {
    svg.setAttribute('viewBox', '0 0 300 300');
    svg.setAttribute('font-family', 'system-ui, sans-serif');
    svgEl('image', { id: 'boundary-map', x: PLOT.x, y: PLOT.y, width: PLOT.size, height: PLOT.size, preserveAspectRatio: 'none' }, svg);
    svgEl('rect', { x: PLOT.x, y: PLOT.y, width: PLOT.size, height: PLOT.size, fill: 'none', stroke: '#8c959f' }, svg);
    svgEl('g', { id: 'boundary-axes', 'font-size': 10, fill: '#57606a' }, svg);
    svgEl('g', { id: 'points-train' }, svg);
    svgEl('g', { id: 'points-validation' }, svg);
  }
  const discrete = $('discretize').checked;
  const values = state.boundary || [];
  const grid = state.grid || Math.round(Math.sqrt(values.length));
  $('boundary-map').setAttribute('href', heatmapURL(grid, (i) => (discrete ? (values[i] >= 0.5 ? 1 : 0) : values[i]), 0.8));
  $('points-validation').setAttribute('visibility', $('show-validation').checked ? 'visible' : 'hidden');

  // the points change only with the data: redraw them only then
  const train = state.points.train, validation = state.points.validation;
  const key = [session, JSON.stringify(state.config), JSON.stringify(state.domain), train.length, validation.length, train[0]].join('|');
  if (key === pointsKey) return;
  pointsKey = key;
  const px = (x) => PLOT.x + ((x - xlo) / (xhi - xlo)) * PLOT.size;
  const py = (y) => PLOT.y + ((yhi - y) / (yhi - ylo)) * PLOT.size;
  for (const [id, points, filled] of [['points-train', train, true], ['points-validation', validation, false]]) {
    const g = $(id);
    g.textContent = '';
    for (const [x, y, label] of points) {
      const colour = label >= 0.5 ? POS_CSS : NEG_CSS;
      svgEl('circle', filled
        ? { cx: px(x).toFixed(1), cy: py(y).toFixed(1), r: 3.2, fill: colour, stroke: '#fff', 'stroke-width': 0.8 }
        : { cx: px(x).toFixed(1), cy: py(y).toFixed(1), r: 3, fill: 'none', stroke: colour, 'stroke-width': 1.6 }, g);
    }
  }
  // axis labels: the ends and the middle of each side
  const axes = $('boundary-axes');
  axes.textContent = '';
  for (const f of [0, 0.5, 1]) {
    const x = xlo + f * (xhi - xlo), y = ylo + f * (yhi - ylo);
    const label = (v) => (Math.abs(v) < 0.05 ? '0.0' : v.toFixed(1));
    svgEl('text', { x: px(x), y: 296, 'text-anchor': f === 0 ? 'start' : f === 1 ? 'end' : 'middle' }, axes).textContent = label(x);
    svgEl('text', { x: PLOT.x - 3, y: py(y) + (f === 0 ? 0 : f === 1 ? 8 : 3), 'text-anchor': 'end' }, axes).textContent = label(y);
  }
}

/* The network diagram. Columns are layers (inputs x1, x2 first); each node is
 * a square showing what that neuron computes over the data's square
 * (STATE.neurons); each line is a weight: colour = sign, dashed when negative,
 * width = size. The structure is rebuilt only when the sizes change; otherwise
 * the same elements are updated, so that hovering and clicking keep working
 * while training runs. */
const NET = { width: 640, node: 38, gap: 54, top: 24, left: 60, right: 28 };
let net = { key: '', lines: [], nodes: [] };

function columnX(k, columns) {
  const span = NET.width - NET.left - NET.right - NET.node;
  return NET.left + NET.node / 2 + (columns > 1 ? (k * span) / (columns - 1) : 0);
}

function buildNetwork(sizes) {
  const svg = $('network');
  svg.textContent = '';
  const rows = Math.max(4, ...sizes);
  const height = NET.top + rows * NET.gap + 4;
  svg.setAttribute('viewBox', `0 0 ${NET.width} ${height}`);
  svg.setAttribute('font-family', 'system-ui, sans-serif');
  const L = sizes.length - 1;
  const x = (k) => columnX(k, sizes.length);
  const y = (k, c) => NET.top + (rows * NET.gap) / 2 + (c - (sizes[k] - 1) / 2) * NET.gap;
  const heads = svgEl('g', { 'font-size': 11, fill: '#57606a', 'text-anchor': 'middle' }, svg);
  sizes.forEach((_, k) => {
    svgEl('text', { x: x(k), y: 14 }, heads).textContent = k === 0 ? 'input' : k === L ? 'output' : `hidden ${k}`;
  });
  // wide invisible lines under the visible ones make thin weights easy to point at
  const hits = svgEl('g', {}, svg), lines = svgEl('g', {}, svg), nodes = svgEl('g', {}, svg);
  net = { key: sizes.join('-'), lines: [], nodes: [] };
  for (let l = 0; l < L; l++) {
    net.lines.push([]);
    const fan = sizes[l + 1] > 1 ? Math.min(12, (NET.node - 4) / (sizes[l + 1] - 1)) : 0;
    for (let i = 0; i < sizes[l]; i++) {
      net.lines[l].push([]);
      for (let j = 0; j < sizes[l + 1]; j++) {
        // the lines leave a node's right edge spread out by target, in order, and meet at the
        // next node's centre: two lines then never cross at their midpoints, where one
        // points at a line to click it
        const ends = { x1: x(l) + NET.node / 2, y1: y(l, i) + fan * (j - (sizes[l + 1] - 1) / 2),
          x2: x(l + 1) - NET.node / 2, y2: y(l + 1, j) };
        // a perfectly level line has a box of zero height, which tools take for invisible
        if (Math.abs(ends.y1 - ends.y2) < 0.01) ends.y2 += 0.01;
        const data = { 'data-kind': 'weight', 'data-layer': l, 'data-from': i, 'data-to': j };
        const hit = svgEl('line', { ...ends, ...data, class: 'hit', stroke: '#000', 'stroke-opacity': 0, 'stroke-width': 10 }, hits);
        const line = svgEl('line', { ...ends, ...data, id: `w-${l}-${i}-${j}`, class: 'weight', 'stroke-linecap': 'round' }, lines);
        net.lines[l][i].push({ line, hit });
      }
    }
  }
  sizes.forEach((count, k) => {
    net.nodes.push([]);
    for (let c = 0; c < count; c++) {
      const g = svgEl('g', {
        id: `n-${k}-${c}`, class: 'node', 'data-kind': k === 0 ? 'input' : 'neuron', 'data-layer': k, 'data-unit': c,
        transform: `translate(${x(k) - NET.node / 2} ${y(k, c) - NET.node / 2})`,
      }, nodes);
      if (k > 0) {
        g.setAttribute('tabindex', '0');
        g.setAttribute('role', 'button');
        g.setAttribute('aria-label', `unit ${c} of layer ${k}: explain`);
      }
      svgEl('rect', { width: NET.node, height: NET.node, fill: '#fff', stroke: '#57606a', 'stroke-width': 1 }, g);
      const image = svgEl('image', { width: NET.node, height: NET.node, preserveAspectRatio: 'none' }, g);
      if (k === 0) {
        svgEl('text', { x: -6, y: NET.node / 2 + 4, 'text-anchor': 'end', 'font-size': 13, fill: '#1f2328' }, g).textContent = `x${c + 1}`;
      }
      net.nodes[k].push({ g, image });
    }
  });
}

function drawNetwork() {
  const sizes = state.sizes;
  if (net.key !== sizes.join('-') || !$('network').firstChild) buildNetwork(sizes);
  // width: |w| relative to the largest weight (at least 1, so small weights look small)
  let largest = 1;
  for (const W of state.weights) for (const row of W) for (const w of row) largest = Math.max(largest, Math.abs(w));
  net.lines.forEach((rows, l) => rows.forEach((cols, i) => cols.forEach(({ line }, j) => {
    const w = state.weights[l][i][j];
    line.setAttribute('stroke', w >= 0 ? POS_CSS : NEG_CSS);
    line.setAttribute('stroke-width', (0.6 + 5.4 * Math.min(1, Math.abs(w) / largest)).toFixed(2));
    line.setAttribute('stroke-dasharray', w >= 0 ? 'none' : '5 3');
    line.setAttribute('data-value', String(w));
  })));
  // inputs: x1 grows left to right, x2 bottom to top (the same for every state)
  const n = state.neuron_grid || Math.round(Math.sqrt(((state.neurons[0] || [])[0] || []).length)) || 20;
  const inputs = [(i) => ((i % n) + 0.5) / n, (i) => 1 - (Math.floor(i / n) + 0.5) / n];
  net.nodes[0].forEach(({ image }, c) => {
    if (image.dataset.grid !== String(n)) {
      image.setAttribute('href', heatmapURL(n, inputs[c] || (() => 0.5)));
      image.dataset.grid = String(n);
    }
  });
  // hidden and output units: their activation, on the colour scale of their layer's range
  for (let k = 1; k < sizes.length; k++) {
    const [lo, hi] = (state.neuron_ranges && state.neuron_ranges[k - 1]) || [-1, 1];
    net.nodes[k].forEach(({ image }, c) => {
      const map = state.neurons[k - 1][c];
      image.setAttribute('href', heatmapURL(n, (i) => (hi > lo ? (map[i] - lo) / (hi - lo) : 0.5)));
    });
  }
  markSelected();
}

/** Outline what the explain panel shows. */
function markSelected() {
  for (const el of $('network').querySelectorAll('.selected')) el.classList.remove('selected');
  if (!explainTarget || $('explain-panel').hidden) return;
  const t = explainTarget;
  const el = t.kind === 'weight' ? net.lines[t.layer]?.[t.from]?.[t.to]?.hit : net.nodes[t.layer]?.[t.unit]?.g;
  if (el) el.classList.add('selected');
}

/**
 * A line chart in an SVG: xs along the bottom, one path per series, a legend
 * along the top. log: a log10 y axis (values ≤ 0 are left out). Non-numbers
 * make gaps. More than 400 points are thinned out for drawing.
 */
function drawChart(svg, xs, series, { log = false, empty = 'press Play or Step' } = {}) {
  // the legend: a sample of each line's stroke and its name, in rows as wide as the
  // chart; the plot keeps its height below them
  const W = 320, legend = [];
  let lx = 42, ly = 9;
  for (const s of series) {
    const width = 24 + 6.2 * s.label.length + 12;  // about 6.2 units a character at size 11
    if (lx + width > W && lx > 42) { lx = 42; ly += 14; }
    legend.push({ s, lx, ly });
    lx += width;
  }
  const m = { l: 42, r: 8, t: ly + 13, b: 20 }, H = 130 + m.t;
  svg.textContent = '';
  svg.setAttribute('viewBox', `0 0 ${W} ${H}`);
  svg.setAttribute('font-family', 'system-ui, sans-serif');
  const tf = (v) => (log ? (v > 0 ? Math.log10(v) : NaN) : v);
  const all = series.flatMap((s) => s.ys.map(tf)).filter(Number.isFinite);
  legend.forEach(({ s, lx, ly }) => {
    svgEl('line', { x1: lx, y1: ly, x2: lx + 20, y2: ly, stroke: s.colour, 'stroke-width': 2, 'stroke-dasharray': s.dash || 'none' }, svg);
    svgEl('text', { x: lx + 24, y: ly + 4, 'font-size': 11, fill: '#1f2328' }, svg).textContent = s.label;
  });
  const box = { x: m.l, y: m.t, w: W - m.l - m.r, h: H - m.t - m.b };
  svgEl('rect', { ...{ x: box.x, y: box.y, width: box.w, height: box.h }, fill: 'none', stroke: '#d0d7de' }, svg);
  if (!all.length || xs.length < 2) {  // a line needs two epochs
    svgEl('text', { x: box.x + box.w / 2, y: box.y + box.h / 2, 'text-anchor': 'middle', 'font-size': 11, fill: '#57606a' }, svg).textContent = empty;
    return;
  }
  let lo = Math.min(...all), hi = Math.max(...all);
  if (log) { lo = Math.floor(lo); hi = Math.ceil(hi); } else { lo = Math.min(0, lo); hi = hi > lo ? hi * 1.05 : lo + 1; }
  if (hi <= lo) hi = lo + 1;
  const x0 = xs[0], x1 = xs[xs.length - 1] > x0 ? xs[xs.length - 1] : x0 + 1;
  const sx = (x) => box.x + ((x - x0) / (x1 - x0)) * box.w;
  const sy = (v) => box.y + box.h - ((v - lo) / (hi - lo)) * box.h;
  // y ticks: powers of ten on a log axis, else the bottom, middle and top
  const ticks = [];
  if (log) { const step = Math.max(1, Math.ceil((hi - lo) / 4)); for (let e = lo; e <= hi; e += step) ticks.push(e); }
  else ticks.push(lo, (lo + hi) / 2, hi);
  const labels = svgEl('g', { 'font-size': 10, fill: '#57606a' }, svg);
  for (const v of ticks) {
    svgEl('line', { x1: box.x, x2: box.x + box.w, y1: sy(v), y2: sy(v), stroke: '#eaeef2' }, svg);
    svgEl('text', { x: box.x - 3, y: sy(v) + 3, 'text-anchor': 'end' }, labels).textContent = log ? `1e${v}` : tickLabel(v);
  }
  svgEl('text', { x: box.x, y: H - 6 }, labels).textContent = String(x0);
  svgEl('text', { x: box.x + box.w, y: H - 6, 'text-anchor': 'end' }, labels).textContent = String(xs[xs.length - 1]);
  svgEl('text', { x: box.x + box.w / 2, y: H - 6, 'text-anchor': 'middle' }, labels).textContent = 'epoch';
  const stride = Math.max(1, Math.ceil(xs.length / 400));
  const shown = [];
  for (let i = 0; i < xs.length; i += stride) shown.push(i);
  if (shown[shown.length - 1] !== xs.length - 1) shown.push(xs.length - 1);
  for (const s of series) {
    let d = '', pen = false;
    for (const i of shown) {
      const v = tf(s.ys[i]);
      if (!Number.isFinite(v)) { pen = false; continue; }
      d += `${pen ? 'L' : 'M'}${sx(xs[i]).toFixed(1)} ${sy(v).toFixed(1)}`;
      pen = true;
    }
    if (d) svgEl('path', { d, fill: 'none', stroke: s.colour, 'stroke-width': 1.6, 'stroke-dasharray': s.dash || 'none' }, svg);
  }
}

/** A linear axis' tick: 2 significant digits, short enough for the margin (5.8e285). */
function tickLabel(v) {
  const a = Math.abs(v);
  return a !== 0 && (a >= 1e4 || a < 1e-3) ? v.toExponential(1).replace('e+', 'e') : Number(v.toPrecision(2)).toString();
}

/* Training loss (solid) and validation loss (dashed) after each epoch; epoch 0 is before training. */
function drawLossChart() {
  const h = state.history || { epoch: [], train: [], validation: [] };
  drawChart($('loss-chart'), h.epoch, [
    { label: 'training', ys: h.train, colour: '#1f2328', dash: '' },
    { label: 'validation', ys: h.validation, colour: '#b35806', dash: '6 4' },
  ]);
}

/* The L2 norm of ∂E/∂W for each weight layer, log scale: lines that sink by
 * powers of ten toward the input are vanishing gradients, rising ones exploding. */
function drawGradientChart() {
  const g = state.gradient_history || { epoch: [], norms: [] };
  const layers = state.sizes.length - 1;
  const series = [];
  for (let l = 0; l < layers; l++) {
    series.push({ label: `W${l + 1}`, ys: g.norms.map((row) => row && row[l]), colour: SERIES_COLOURS[l % 7], dash: SERIES_DASHES[l % 7] });
  }
  drawChart($('gradient-chart'), g.epoch, series, { log: true, empty: 'press Play or Step' });
}

/* ---------------------------------------------------------------------------
 * 5. Details: the tooltip on hover, the explain panel on click.
 * ------------------------------------------------------------------------- */

/** The tooltip's text for a weight or node, from the current STATE. */
function describe(d) {
  if (!state) return '';
  const k = Number(d.layer), grads = state.gradients;
  const gradient = (v) => (grads && isNum(v) ? fmt(v) : '–');
  if (d.kind === 'weight') {
    const i = Number(d.from), j = Number(d.to);
    const from = k === 0 ? `input x${i + 1}` : `unit ${i} of layer ${k}`;
    const w = state.weights[k]?.[i]?.[j];
    return `W${k + 1}[${i}][${j}]: from ${from} to unit ${j} of layer ${k + 1}\n` +
      `weight: ${fmt(w)}\ngradient now, on all training points: ${gradient(grads?.weights?.[k]?.[i]?.[j])}\n` +
      'click: the equations of the last step';
  }
  const c = Number(d.unit);
  if (d.kind === 'input') return `input x${c + 1}: the point's ${c === 0 ? 'first (horizontal)' : 'second (vertical)'} coordinate`;
  const role = k === state.sizes.length - 1 ? 'output' : 'hidden';
  return `unit ${c} of layer ${k} (${role}, ${state.activations[k - 1]})\n` +
    `bias b${k}[${c}]: ${fmt(state.biases[k - 1]?.[c])}\n` +
    `gradient now, on all training points: ${gradient(grads?.biases?.[k - 1]?.[c])}\nclick: the equations of the last step`;
}

function showTooltip(target, clientX, clientY) {
  hovered = target;
  const tip = $('tooltip');
  tip.textContent = describe(target.dataset);
  tip.hidden = false;
  const r = tip.getBoundingClientRect();
  tip.style.left = `${Math.max(4, Math.min(clientX + 14, window.innerWidth - r.width - 4))}px`;
  tip.style.top = `${Math.max(4, Math.min(clientY + 14, window.innerHeight - r.height - 4))}px`;
}
function hideTooltip() { hovered = null; $('tooltip').hidden = true; }
function refreshTooltip() {
  if (hovered && hovered.isConnected) $('tooltip').textContent = describe(hovered.dataset);
  else if (hovered) hideTooltip();
}

/** Open the explain panel for a weight or neuron, and ask the server for its equations. */
async function openExplain(d) {
  const target = d.kind === 'weight'
    ? { kind: 'weight', layer: Number(d.layer), from: Number(d.from), to: Number(d.to) }
    : { kind: 'neuron', layer: Number(d.layer), unit: Number(d.unit) };
  explainTarget = target;
  const panel = $('explain-panel');
  panel.hidden = false;
  panel.scrollIntoView({ block: 'nearest' });
  markSelected();
  $('explain-title').textContent = target.kind === 'weight'
    ? `W${target.layer + 1}[${target.from}][${target.to}]` : `unit ${target.unit} of layer ${target.layer}`;
  $('explain-note').textContent = '';
  const asked = ++explainAsked;
  if (!session || !state || state.epoch === 0) {
    // the server has no step to explain before the first one (it would answer 400)
    $('explain-meta').textContent = state ? `epoch ${state.epoch}` : '';
    setExplainBody('No step has been taken yet: press Step (or Play), then click again.', true);
    return;
  }
  $('explain-meta').textContent = 'asking the server…';
  setExplainBody('', false);
  const query = target.kind === 'weight'
    ? `kind=weight&layer=${target.layer}&from=${target.from}&to=${target.to}`
    : `kind=neuron&layer=${target.layer}&unit=${target.unit}`;
  const r = await api('GET', `/api/explain?session=${encodeURIComponent(session)}&${query}`);
  if (asked !== explainAsked) return;  // another click came since
  if (!r.ok) { $('explain-meta').textContent = ''; setExplainBody(r.error, true); showError(r.error); return; }
  renderExplain(r.data);
}

function setExplainBody(text, isError) {
  const body = $('explain-body');
  body.textContent = '';
  if (text) {
    const p = document.createElement('p');
    p.className = isError ? 'explain-error' : '';
    p.textContent = text;
    body.appendChild(p);
  }
}

/** The EXPLAIN answer: its lines grouped by section, each line monospace with its tag first. */
function renderExplain(e) {
  $('explain-title').textContent = e.title || 'Explanation';
  $('explain-meta').textContent = `epoch ${e.epoch} · ${e.entry} before the step ${fmt(e.value)} · ` +
    `the last batch's gradient ${fmt(e.gradient)} · after the step ${fmt(e.updated)}`;
  const body = $('explain-body');
  body.textContent = '';
  const sections = new Map();
  for (const line of e.lines || []) {
    if (!sections.has(line.section)) sections.set(line.section, []);
    sections.get(line.section).push(line);
  }
  for (const [section, lines] of sections) {
    const h = document.createElement('h3');
    h.textContent = section;
    const list = document.createElement('ul');
    list.className = 'explain-lines';
    for (const { tag, text } of lines) {
      const li = document.createElement('li');
      const label = tag ? `(${tag})` : '';
      const rest = label && String(text).startsWith(label) ? String(text).slice(label.length) : (label ? ' ' : '') + text;
      if (label) {
        const span = document.createElement('span');
        span.className = 'tag';
        span.textContent = label;
        li.appendChild(span);
      }
      // break lines between terms only, never inside one (a1[0][2] stays whole)
      rest.split(' ').forEach((term, n) => {
        if (n > 0) li.appendChild(document.createTextNode(' '));
        if (term) {
          const span = document.createElement('span');
          span.className = 'term';
          span.textContent = term;
          li.appendChild(span);
        }
      });
      list.appendChild(li);
    }
    body.append(h, list);
  }
  $('explain-note').textContent = e.note || '';
}

let focusBeforeExplain = null;
function closeExplain() {
  $('explain-panel').hidden = true;
  explainTarget = null;
  explainAsked++;
  markSelected();
  if (focusBeforeExplain && focusBeforeExplain.isConnected) focusBeforeExplain.focus();
}

/* ---------------------------------------------------------------------------
 * 6. Exports.
 * ------------------------------------------------------------------------- */

function download(href, name) {
  const a = document.createElement('a');
  a.href = href;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
}

/* One SVG file with the boundary (left) and the network (right), built here:
 * the pictures are already SVG, and their heat maps PNG data URLs in <image>s. */
function exportSvg() {
  const root = document.createElementNS(SVG_NS, 'svg');
  const parts = [];
  let width = 0, height = 0;
  for (const id of ['boundary', 'network']) {
    const clone = $(id).cloneNode(true);
    clone.removeAttribute('id');
    clone.removeAttribute('role');
    for (const el of clone.querySelectorAll('.hit')) el.remove();
    const [, , w, h] = (clone.getAttribute('viewBox') || '0 0 300 300').split(' ').map(Number);
    clone.setAttribute('x', width);
    clone.setAttribute('width', w);
    clone.setAttribute('height', h);
    parts.push(clone);
    width += w + 20;
    height = Math.max(height, h);
  }
  width -= 20;
  Object.entries({ width, height, viewBox: `0 0 ${width} ${height}`, 'font-family': 'system-ui, sans-serif' })
    .forEach(([k, v]) => root.setAttribute(k, v));
  svgEl('rect', { width, height, fill: '#fff' }, root);
  parts.forEach((p) => root.appendChild(p));
  const text = `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(root)}\n`;
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  download(url, `purebp-playground-epoch-${state ? state.epoch : 0}.svg`);
  setTimeout(() => URL.revokeObjectURL(url), 5000);
}

/* ---------------------------------------------------------------------------
 * Wiring: every control, button and pointer event.
 * ------------------------------------------------------------------------- */

function wire() {
  for (const id of ['samples', 'batch-size', 'activation', 'init', 'optimizer', 'learning-rate', 'weight-decay', 'seed', 'noise', 'validation-split']) {
    $(id).addEventListener('change', sendConfig);
  }
  // sliders: show the value while dragging, send it when let go
  for (const id of ['noise', 'validation-split']) $(id).addEventListener('input', updateDependentControls);
  $('loss').addEventListener('change', () => { updateDependentControls(); sendConfig(); });
  $('output-activation').addEventListener('change', () => { freeOutput = $('output-activation').value; sendConfig(); });
  $('data').addEventListener('change', () => {
    updateDependentControls();
    if ($('data').value === 'csv' && !csvText) {
      showError('Choose a CSV file (rows x,y,label with label 0 or 1) to train on.');
      if (state) $('data').value = state.config.data;  // nothing changes until there is one
      updateDependentControls();
      $('csv-file').focus();
      return;
    }
    sendConfig();
  });
  // the browser says "change" only for another file: forget the last one when the picker
  // opens, so that choosing the same file again (edited since) reads it again
  $('csv-file').addEventListener('click', () => { $('csv-file').value = ''; });
  $('csv-file').addEventListener('change', () => {
    const file = $('csv-file').files[0];
    if (!file) return;
    const reader = new FileReader();
    reader.onload = () => {
      csvText = String(reader.result);
      $('data').value = 'csv';
      updateDependentControls();
      sendConfig();
    };
    reader.onerror = () => showError(`cannot read ${file.name}`);
    reader.readAsText(file);
  });
  $('add-layer').addEventListener('click', () => {
    if (hidden.length >= MAX_LAYERS) return;
    hidden.push(2);
    renderNeuronButtons();
    sendConfig();
  });
  $('remove-layer').addEventListener('click', () => {
    if (!hidden.length) return;
    hidden.pop();
    renderNeuronButtons();
    sendConfig();
  });
  $('neuron-buttons').addEventListener('click', (event) => {
    const b = event.target.closest('button');
    if (!b || b.disabled) return;
    const k = Number(b.dataset.layer) - 1;
    hidden[k] = Math.min(MAX_UNITS, Math.max(MIN_UNITS, hidden[k] + Number(b.dataset.change)));
    renderNeuronButtons();
    sendConfig();
  });
  for (const name of ['play', 'pause', 'step', 'reset']) $(name).addEventListener('click', () => action(name));
  for (const id of ['show-validation', 'discretize']) $(id).addEventListener('change', () => { if (state) drawBoundary(); });

  // the network: tooltip on hover, explain on click or Enter
  const svg = $('network');
  const targetOf = (event) => event.target.closest && event.target.closest('[data-kind]');
  svg.addEventListener('mousemove', (event) => {
    const t = targetOf(event);
    if (t) showTooltip(t, event.clientX, event.clientY); else hideTooltip();
  });
  svg.addEventListener('mouseleave', hideTooltip);
  svg.addEventListener('click', (event) => {
    const t = targetOf(event);
    if (t && t.dataset.kind !== 'input') { focusBeforeExplain = t.dataset.kind === 'neuron' ? t : null; openExplain(t.dataset); }
  });
  svg.addEventListener('keydown', (event) => {
    const t = targetOf(event);
    if (t && t.dataset.kind === 'neuron' && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      focusBeforeExplain = t;
      openExplain(t.dataset);
    }
  });
  svg.addEventListener('focusin', (event) => {
    const t = targetOf(event);
    if (t) { const r = t.getBoundingClientRect(); showTooltip(t, r.right, r.top); }
  });
  svg.addEventListener('focusout', hideTooltip);
  $('explain-close').addEventListener('click', closeExplain);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !$('explain-panel').hidden) closeExplain();
  });

  $('export-model').addEventListener('click', () => {
    if (session) download(`/api/export/model?session=${encodeURIComponent(session)}`, 'playground-model.json');
  });
  $('export-vector').addEventListener('click', () => {
    if (session) download(`/api/export/vector?session=${encodeURIComponent(session)}`, 'playground-case.json');
  });
  $('export-svg').addEventListener('click', () => { if (state) exportSvg(); });
}

// Leaving the page ends its session at once (rather than after the server's idle time),
// so that closed tabs do not hold the server's few sessions. A beacon is sent even as
// the page goes away.
window.addEventListener('pagehide', () => {
  if (!session) return;
  const body = new Blob([JSON.stringify({ session })], { type: 'application/json' });
  navigator.sendBeacon('/api/close', body);
  session = null;
  state = null;
});
window.addEventListener('pageshow', (event) => {
  // back from the browser's page cache after pagehide ended the session: start another
  if (event.persisted && !session) enqueue(createSession);
});

// Start: wire the controls, then open a session with the settings the form shows.
wire();
updateDependentControls();
renderNeuronButtons();
setRunButtons();
enqueue(createSession);
