// The playground page: settings (kept in the URL), the JSON API, the play loop and the clicks.
import {
  buildNetwork, paintCurve, paintOutput, paintPoints, toDomain, toPixel, updateNetwork,
} from './draw.js';
import { showLedger, showWeight } from './explain.js';

const $ = (id) => document.getElementById(id);
const GRID = 50;
const LRS = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const L2S = [0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10];
const URL_KEYS = ['dataset', 'noise', 'train_fraction', 'points', 'features', 'layers',
  'activation', 'output', 'cost', 'optimizer', 'lr', 'l2', 'batch_size', 'seed'];
const LISTS = ['features', 'layers'];
const TEXTS = ['dataset', 'activation', 'output', 'cost', 'optimizer'];

const state = {
  options: null, config: {}, csv: null, info: null, params: null, maps: null, drawing: null,
  playing: false, busy: false, history: [], data: null, picked: null, point: -1,
  lastStuck: 0,
};

// -- the API --------------------------------------------------------------------------------
async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const response = await fetch(path, init);
  const payload = await response.json();
  if (!response.ok) throw new Error(payload.error || `HTTP ${response.status}`);
  return payload;
}
const sessionPath = (action = '') => `/api/sessions/${state.info.id}${action ? '/' + action : ''}`;

function report(error) {
  $('status').textContent = error ? String(error.message || error) : '';
}

// -- settings <-> URL ------------------------------------------------------------------------
function readHash() {
  const config = {};
  const params = new URLSearchParams(location.hash.slice(1));
  for (const key of URL_KEYS) {
    if (!params.has(key)) continue;
    const text = params.get(key);
    if (LISTS.includes(key)) {
      config[key] = text === '' ? [] : text.split(',').map((v) => (key === 'layers' ? Number(v) : v));
    } else if (TEXTS.includes(key)) config[key] = text;
    else config[key] = Number(text);
  }
  return config;
}

function writeHash() {
  const params = new URLSearchParams();
  for (const key of URL_KEYS) {
    const v = state.config[key];
    if (v === null || v === undefined) continue;
    params.set(key, Array.isArray(v) ? v.join(',') : String(v));
  }
  history.replaceState(null, '', `#${params.toString()}`);
}

// -- building the page for a session ---------------------------------------------------------
function fillSelect(select, values, current, label = String) {
  if (current !== null && current !== undefined && !values.some((v) => String(v) === String(current))) {
    values = [...values, current].sort((a, b) => a - b);     // a value typed into the URL
  }
  select.replaceChildren(...values.map((v) => {
    const o = document.createElement('option');
    o.value = v === null ? '' : String(v); o.textContent = label(v);
    if (v === current || (v !== null && String(v) === String(current))) o.selected = true;
    return o;
  }));
}

function syncControls() {
  const c = state.config, o = state.options;
  fillSelect($('lr'), LRS, c.lr);
  fillSelect($('l2'), L2S, c.l2);
  fillSelect($('activation'), o.activations, c.activation);
  fillSelect($('optimizer'), o.optimizers, c.optimizer);
  fillSelect($('cost'), [null, ...o.costs], state.info ? state.info.cost : c.cost,
    (v) => v ?? 'auto');
  fillSelect($('output'), [null, ...o.outputs], state.info ? state.info.output : c.output,
    (v) => v ?? 'auto');
  $('train_fraction').value = Math.round(c.train_fraction * 100);
  $('train-fraction-out').textContent = `${Math.round(c.train_fraction * 100)} %`;
  $('noise').value = Math.round(c.noise * 100);
  $('noise-out').textContent = `${Math.round(c.noise * 100)} %`;
  $('batch_size').value = c.batch_size;
  $('batch-size-out').textContent = c.batch_size;
  $('seed').value = c.seed;
  $('layer-count').textContent = `${c.layers.length} hidden layer${c.layers.length === 1 ? '' : 's'}`;
  for (const b of $('datasets').children) b.classList.toggle('chosen', b.dataset.name === c.dataset);
  for (const b of $('features').children) {
    b.classList.toggle('chosen', c.features.includes(b.dataset.name));
  }
  $('features').style.display = state.info && !state.info.planar ? 'none' : '';
}

async function newSession() {
  state.playing = false; setPlayButton();
  const body = { ...state.config };
  if (body.dataset === 'csv') body.csv = state.csv;
  try {
    const info = await api('POST', '/api/sessions', body);
    state.info = info;
    state.config = { ...state.config, ...info.config };
    state.info.featureLabels = info.features.map((f) => state.options.features[f] || f);
    state.params = info.params;
    state.history = [{ t: 0, train: info.train_loss, test: info.test_loss }];
    state.picked = null; state.point = -1;
    state.data = await api('GET', sessionPath('data'));
    state.drawing = buildNetwork($('network'), state.info, {
      hover: showTip, pickWeight: (l, j, k) => pickWeight(l, j, k),
      pickBias: (l, j) => pickWeight(l, j, null), resize,
    });
    $('export').href = sessionPath('model.npz');
    $('export-test').href = sessionPath('test.csv');
    writeHash(); syncControls(); report();
    $('data-note').textContent = `${info.n_train} training and ${info.n_test} test examples, `
      + `${info.sizes[0]} inputs; network ${info.sizes.join('-')}, ${info.optimizer}.`;
    await refreshMaps();
    render(info);
    buildExamples();
    refreshStuck();
    return true;
  } catch (error) { report(error); return false; }
}

async function refreshMaps() {
  state.maps = state.info.planar ? await api('GET', sessionPath(`heatmaps?grid=${GRID}`)) : null;
}

// -- drawing a state -------------------------------------------------------------------------
function render(status) {
  const started = performance.now();
  const fmt = (v) => (v === null ? '–' : v.toFixed(3));
  $('epoch').textContent = String(status.epoch).padStart(3, '0');
  $('batch-of').textContent = `batch ${status.batch}/${status.batches_per_epoch}`;
  $('train-loss').textContent = fmt(status.train_loss);
  $('test-loss').textContent = fmt(status.test_loss);
  $('accuracy').textContent = status.train_accuracy === null ? ''
    : `accuracy: training ${(100 * status.train_accuracy).toFixed(1)} %, test `
      + `${(100 * status.test_accuracy).toFixed(1)} %`;
  updateNetwork(state.drawing, state.params, state.info, state.maps);
  paintCurve($('curve'), state.history);
  if (state.info.planar && state.maps) drawOutput();
  performance.measure('playground-frame', { start: started, end: performance.now() });
}

function drawOutput() {
  const canvas = $('output-canvas');
  paintOutput(canvas, state.maps, state.info, state.maps.grid);
  const d = state.data, info = { ...state.info, domain: state.maps.domain };
  paintPoints(canvas, d.train.points, d.train.y, info, { picked: state.point });
  if ($('show-test').checked) paintPoints(canvas, d.test.points, d.test.y, info, { hollow: true });
}

function buildExamples() {
  const box = $('output-heatmap');
  box.querySelectorAll('.digits').forEach((e) => e.remove());
  $('output-canvas').style.display = state.info.planar ? '' : 'none';
  if (state.info.planar) return;
  const grid = document.createElement('div');
  grid.className = 'digits';
  const X = state.data.train.X;
  const side = Math.round(Math.sqrt(X[0].length));
  for (let i = 0; i < Math.min(60, X.length); i++) {
    let item;
    if (side * side === X[0].length) {
      item = document.createElement('canvas');
      item.width = side; item.height = side;
      const ctx = item.getContext('2d'), img = ctx.createImageData(side, side);
      X[i].forEach((v, p) => img.data.set([255 - 255 * v, 255 - 255 * v, 255 - 255 * v, 255], 4 * p));
      ctx.putImageData(img, 0, 0);
    } else {
      item = document.createElement('button'); item.textContent = `row ${i}`;
    }
    item.title = `training example ${i}, label ${state.data.train.y[i]}`;
    item.addEventListener('click', () => pickPoint(i));
    grid.appendChild(item);
  }
  box.appendChild(grid);
}

// -- training --------------------------------------------------------------------------------
async function step(body) {
  const result = await api('POST', sessionPath('step'), { ...body, grid: state.info.planar ? GRID : undefined });
  state.params = result.params;
  if (result.heatmaps) state.maps = result.heatmaps;
  state.history.push({ t: result.epoch + result.batch / result.batches_per_epoch,
    train: result.train_loss, test: result.test_loss });
  if (state.history.length > 2000) state.history.splice(1, 1);
  render(result);
  return result;
}

async function loop() {
  if (!state.playing) return;
  if (!state.busy) {
    state.busy = true;
    try {
      await step({ batches: state.info.batches_per_epoch });
      if (performance.now() - state.lastStuck > 1000) refreshStuck();
    } catch (error) { report(error); state.playing = false; setPlayButton(); }
    state.busy = false;
  }
  requestAnimationFrame(loop);
}

function setPlayButton() {
  $('play').textContent = state.playing ? '❚❚ pause' : '▶ play';
  $('play').setAttribute('aria-pressed', String(state.playing));
}

async function afterManualStep() {
  while (state.busy) await new Promise((resolve) => setTimeout(resolve, 10));  // a frame in flight
  refreshStuck();
  if (state.picked) await pickWeight(...state.picked);
  if (state.point >= 0) await pickPoint(state.point);
}

async function refreshStuck() {
  state.lastStuck = performance.now();
  try {
    const s = await api('GET', sessionPath('stuck'));
    const box = $('stuck');
    box.textContent = s.hint;
    box.className = `hint show${s.stuck ? '' : ' ok'}`;
    state.drawing.units.forEach((column, l) => column.forEach((u, j) => {
      const layer = s.layers[l - 1];
      u.div.classList.toggle('stuck', Boolean(layer && layer.stuck_units.includes(j)));
    }));
  } catch (error) { report(error); }
}

// -- explaining ------------------------------------------------------------------------------
async function pickPoint(index) {
  try {
    const ledger = await api('GET', sessionPath(`ledger?index=${index}`));
    state.point = index;
    showLedger($('ledger'), ledger, state.info);
    state.drawing.units.forEach((column, l) => column.forEach((u, j) => {
      if (l === 0) { u.note.textContent = ''; return; }
      const layer = ledger.layers[l - 1];
      u.note.textContent = column.length <= 16
        ? `z ${short(layer.z[j])}\na ${short(layer.a[j])}\nδ ${short(layer.delta[j])}` : '';
      u.note.style.whiteSpace = 'pre';
    }));
    if (state.info.planar) drawOutput();
  } catch (error) { report(error); }
}

async function pickWeight(layer, row, col) {
  const q = `layer=${layer}&row=${row}${col === null ? '' : `&col=${col}`}`;
  try {
    const [nudges, paths, check] = await Promise.all([
      api('GET', sessionPath(`nudges?${q}`)), api('GET', sessionPath(`paths?${q}`)),
      api('GET', sessionPath(`gradcheck?${q}`))]);
    state.picked = [layer, row, col];
    showWeight($('nudges'), { nudges, paths, check }, {
      setWeight: (value) => setWeight(layer, row, col, value) });
    for (const e of state.drawing.edges) {
      e.path.classList.toggle('picked', e.l === layer && e.j === row && e.k === col);
      e.path.classList.remove('on-path');
    }
    for (const p of paths.paths.slice(0, 200)) {
      for (let m = 1; m < p.units.length; m++) {
        const l = layer + m, j = p.units[m], k = p.units[m - 1];
        const e = state.drawing.edges.find((x) => x.l === l && x.j === j && x.k === k);
        if (e) e.path.classList.add('on-path');
      }
    }
  } catch (error) { report(error); }
}

async function setWeight(layer, row, col, value) {
  try {
    const body = { layer, row, value };
    if (col !== null) body.col = col;
    const result = await api('POST', sessionPath('weights'), body);
    state.params = result.params;
    await refreshMaps();
    render(result);
    await pickWeight(layer, row, col);
  } catch (error) { report(error); }
}

// Three significant digits, in the way a hand calculation would write them.
function short(v) {
  return v === 0 || (Math.abs(v) >= 0.01 && Math.abs(v) < 1000) ? v.toFixed(Math.abs(v) < 1 ? 3 : 2)
    : v.toExponential(1);
}

const tip = document.createElement('div');
tip.className = 'tip';
function showTip(event, l, j, k) {
  if (!event) { tip.style.display = 'none'; return; }
  const w = state.params[2 * l][j][k];
  tip.textContent = `w^${l + 1}[${j}][${k}] = ${w.toPrecision(5)} (click to inspect)`;
  Object.assign(tip.style, { display: 'block', left: `${event.clientX + 12}px`,
    top: `${event.clientY + 12}px` });
}

// -- settings --------------------------------------------------------------------------------
// A new run with some settings changed; refused settings are put back, the error shown.
async function change(patch) {
  const previous = { ...state.config };
  Object.assign(state.config, patch);
  if (!(await newSession())) { state.config = previous; syncControls(); }
}

function resize(layer, delta) {
  const layers = [...state.config.layers];
  layers[layer] = Math.max(1, Math.min(state.options.bounds.neurons, layers[layer] + delta));
  change({ layers });
}

function wire() {
  $('play').addEventListener('click', () => {
    state.playing = !state.playing; setPlayButton();
    if (state.playing) loop(); else afterManualStep();    // paused: the panels catch up
  });
  $('step').addEventListener('click', async () => {
    state.playing = false; setPlayButton();
    try {
      await step($('step-size').value === 'epoch' ? { epochs: 1 } : { batches: 1 });
      await afterManualStep();
    } catch (error) { report(error); }
  });
  $('reset').addEventListener('click', async () => {
    state.playing = false; setPlayButton();
    try {
      const info = await api('POST', sessionPath('reset'));
      state.params = info.params;
      state.history = [{ t: 0, train: info.train_loss, test: info.test_loss }];
      await refreshMaps(); render(info); refreshStuck();
    } catch (error) { report(error); }
  });
  const numeric = { lr: Number, l2: Number };
  for (const key of ['lr', 'l2', 'activation', 'optimizer', 'cost', 'output']) {
    $(key).addEventListener('change', (e) => {
      const v = e.target.value;
      change({ [key]: numeric[key] ? numeric[key](v) : (v === '' ? null : v) });
    });
  }
  $('train_fraction').addEventListener('change', (e) => change({ train_fraction: e.target.value / 100 }));
  $('noise').addEventListener('change', (e) => change({ noise: e.target.value / 100 }));
  $('batch_size').addEventListener('change', (e) => change({ batch_size: Number(e.target.value) }));
  $('seed').addEventListener('change', (e) => change({ seed: Math.max(0, Math.floor(Number(e.target.value))) }));
  $('regenerate').addEventListener('click', () => change({ seed: state.config.seed + 1 }));
  $('add-layer').addEventListener('click', () => {
    if (state.config.layers.length < state.options.bounds.layers) {
      change({ layers: [...state.config.layers, state.config.layers.at(-1) || 4] });
    }
  });
  $('remove-layer').addEventListener('click', () => {
    if (state.config.layers.length) change({ layers: state.config.layers.slice(0, -1) });
  });
  $('show-test').addEventListener('change', () => state.info.planar && drawOutput());
  $('output-canvas').addEventListener('click', (e) => {
    const canvas = e.target, rect = canvas.getBoundingClientRect();
    const px = (e.clientX - rect.left) * canvas.width / rect.width;
    const py = (e.clientY - rect.top) * canvas.height / rect.height;
    const points = state.data.train.points;
    let best = -1, bestD = Infinity;
    points.forEach((p, i) => {
      const [x, y] = toPixel(p, state.maps.domain, canvas.width);
      const d = (x - px) ** 2 + (y - py) ** 2;
      if (d < bestD) { bestD = d; best = i; }
    });
    if (best >= 0 && bestD < 15 ** 2) pickPoint(best);
    else report(new Error(`no training point near (${toDomain(px, py, state.maps.domain, canvas.width)
      .map((v) => v.toFixed(2)).join(', ')})`));
  });
  $('csv-file').addEventListener('change', (e) => {
    const file = e.target.files[0];
    if (!file) return;
    if (file.size > state.options.bounds.csv_bytes) {
      report(new Error(`${file.name}: ${file.size} bytes; the limit is ${state.options.bounds.csv_bytes}`));
      return;
    }
    file.text().then((text) => {
      state.csv = text;
      $('csv-note').textContent = `${file.name} (${file.size} bytes); re-upload it after sharing the URL.`;
      change({ dataset: 'csv', output: null, cost: null });
    });
  });
}

function buildStaticControls() {
  const o = state.options;
  $('datasets').replaceChildren(...o.datasets.filter((d) => d !== 'csv').map((name) => {
    const b = document.createElement('button');
    b.textContent = name; b.dataset.name = name;
    b.addEventListener('click', () => change({ dataset: name, output: null, cost: null }));
    return b;
  }));
  $('features').replaceChildren(...Object.entries(o.features).map(([name, label]) => {
    const b = document.createElement('button');
    b.textContent = label; b.dataset.name = name;
    b.title = `use ${label} as an input`;
    b.addEventListener('click', () => {
      const on = state.config.features.includes(name);
      const features = on ? state.config.features.filter((f) => f !== name)
        : [...state.config.features, name];
      if (features.length) change({ features });
    });
    return b;
  }));
}

async function start() {
  document.body.appendChild(tip);
  try {
    state.options = await api('GET', '/api/options');
  } catch (error) { report(error); return; }
  state.config = { ...state.options.defaults, ...readHash() };
  delete state.config.csv;
  if (state.config.dataset === 'csv') {
    $('csv-note').textContent = 'this setup used an uploaded CSV: upload it again';
    state.config.dataset = state.options.defaults.dataset;
  }
  buildStaticControls();
  wire();
  syncControls();
  if (!(await newSession())) {     // a link with a setting the server refuses: the defaults
    const refused = $('status').textContent;
    state.config = { ...state.options.defaults };
    syncControls();
    if (await newSession()) report(new Error(`${refused} — the default setup is shown instead`));
  }
}

start();
