// Drawing: the colour scale, heatmaps, the network (SVG edges + unit canvases), the output
// plane with its points, and the loss curve. Numbers come from the server; nothing is computed
// here but colours and positions.

const NEG = [245, 147, 34];    // TensorFlow Playground's orange (negative)
const MID = [232, 234, 235];
const POS = [8, 119, 189];     // and blue (positive)
const CLASS_COLOURS = [NEG, POS, [39, 174, 96], [142, 68, 173], [192, 57, 43],
  [22, 160, 133], [243, 156, 18], [52, 73, 94], [211, 84, 0], [127, 140, 141]];

// t in [-1, 1] -> [r, g, b]
export function colour(t) {
  const s = Math.max(-1, Math.min(1, t));
  const [a, b, u] = s < 0 ? [MID, NEG, -s] : [MID, POS, s];
  return [0, 1, 2].map((i) => Math.round(a[i] + (b[i] - a[i]) * u));
}
const LUT = Array.from({ length: 256 }, (_, i) => colour(i / 127.5 - 1));

export function rgb(c, alpha = 1) { return `rgba(${c[0]},${c[1]},${c[2]},${alpha})`; }
export function classColour(k) { return CLASS_COLOURS[k % CLASS_COLOURS.length]; }

// A packed heatmap {lo, hi, b64} -> Float32Array of its values.
export function unpack(map) {
  const bytes = atob(map.b64);
  const out = new Float32Array(bytes.length);
  const scale = (map.hi - map.lo) / 255;
  for (let i = 0; i < bytes.length; i++) out[i] = map.lo + bytes.charCodeAt(i) * scale;
  return out;
}

// How a unit's value maps to the colour scale [-1, 1], by what produced it.
export function scaler(kind, map) {
  if (kind === 'tanh') return (v) => v;
  if (kind === 'sigmoid' || kind === 'softmax') return (v) => 2 * v - 1;
  const m = Math.max(Math.abs(map.lo), Math.abs(map.hi)) || 1;
  return (v) => v / m;
}

export function paintMap(canvas, map, kind, grid) {
  if (canvas.width !== grid) { canvas.width = grid; canvas.height = grid; }
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(grid, grid);
  const values = unpack(map);
  const f = scaler(kind, map);
  for (let i = 0; i < values.length; i++) {
    const c = LUT[Math.max(0, Math.min(255, Math.round((f(values[i]) + 1) * 127.5)))];
    img.data[4 * i] = c[0]; img.data[4 * i + 1] = c[1]; img.data[4 * i + 2] = c[2];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

// The output plane: argmax colours for k > 2 classes, else the single output's scale.
export function paintOutput(canvas, maps, info, grid) {
  const off = document.createElement('canvas');
  off.width = grid; off.height = grid;
  const ctx = off.getContext('2d');
  const img = ctx.createImageData(grid, grid);
  const outs = maps.output.map(unpack);
  const k = outs.length;
  for (let i = 0; i < grid * grid; i++) {
    let c;
    if (k > 2) {
      let best = 0;
      for (let j = 1; j < k; j++) if (outs[j][i] > outs[best][i]) best = j;
      const p = Math.max(0, Math.min(1, (outs[best][i] - 1 / k) / (1 - 1 / k)));
      c = classColour(best).map((x, n) => Math.round(MID[n] + (x - MID[n]) * (0.25 + 0.6 * p)));
    } else {
      const v = k === 2 ? outs[1][i] : outs[0][i];
      const t = info.output === 'tanh' || info.output === 'identity' ? v : 2 * v - 1;
      c = LUT[Math.max(0, Math.min(255, Math.round((t * 0.6 + 1) * 127.5)))];   // paler than the points
    }
    img.data.set([c[0], c[1], c[2], 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
  const out = canvas.getContext('2d');
  out.imageSmoothingEnabled = true;
  out.drawImage(off, 0, 0, canvas.width, canvas.height);
}

// Domain point -> canvas pixel, and back.
export function toPixel(p, domain, size) {
  const [[x0, x1], [y0, y1]] = domain;
  return [(p[0] - x0) / (x1 - x0) * size, (y1 - p[1]) / (y1 - y0) * size];
}
export function toDomain(px, py, domain, size) {
  const [[x0, x1], [y0, y1]] = domain;
  return [x0 + px / size * (x1 - x0), y1 - py / size * (y1 - y0)];
}

export function paintPoints(canvas, points, labels, info, { hollow = false, picked = -1 } = {}) {
  const ctx = canvas.getContext('2d');
  const size = canvas.width;
  for (let i = 0; i < points.length; i++) {
    const [x, y] = toPixel(points[i], info.domain, size);
    let c;
    if (info.kind === 'regression') c = colour(labels[i]);
    else c = info.classes > 2 ? classColour(labels[i]) : (labels[i] ? POS : NEG);
    ctx.beginPath();
    ctx.arc(x, y, i === picked ? 7 : 3.2, 0, 2 * Math.PI);
    ctx.fillStyle = hollow ? 'rgba(255,255,255,0.9)' : rgb(c);
    ctx.strokeStyle = hollow ? rgb(c) : (i === picked ? '#000' : 'rgba(255,255,255,0.9)');
    ctx.lineWidth = i === picked ? 3 : 1;
    ctx.fill(); ctx.stroke();
  }
}

export function paintCurve(canvas, history) {
  const ctx = canvas.getContext('2d');
  const w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const rows = history.filter((r) => r.train !== null && r.test !== null);
  if (rows.length < 2) return;
  const top = Math.max(...rows.map((r) => Math.max(r.train, r.test))) || 1;
  const last = rows[rows.length - 1].t || 1;
  for (const [key, style] of [['test', '#999'], ['train', '#222']]) {
    ctx.beginPath();
    rows.forEach((r, i) => {
      const x = r.t / last * (w - 4) + 2, y = h - 2 - r[key] / top * (h - 6);
      if (i) ctx.lineTo(x, y); else ctx.moveTo(x, y);
    });
    ctx.strokeStyle = style; ctx.lineWidth = 1.5; ctx.stroke();
  }
  ctx.font = '10px sans-serif'; ctx.textAlign = 'right';
  ctx.fillStyle = '#222'; ctx.fillText('training', w - 4, 11);
  ctx.fillStyle = '#999'; ctx.fillText('test', w - 50, 11);
  ctx.textAlign = 'left'; ctx.fillStyle = '#666';
  ctx.fillText(top.toFixed(2), 3, 11); ctx.fillText(`0 · epoch ${last.toFixed(1)}`, 3, h - 3);
}

// -- the network --------------------------------------------------------------------------
const UNIT = 34, GAP_Y = 12, LEFT = 70, TOP = 34;

// Unit positions: one column per layer (features first), centred vertically, the columns
// at most 120 px apart and spread over ``width``.
export function layout(sizes, width) {
  const COL = Math.max(UNIT + 24, Math.min(120, (width - LEFT - UNIT - 70) / (sizes.length - 1)));
  const tallest = Math.max(...sizes.map((n) => Math.min(n, 16)));
  const height = TOP + tallest * (UNIT + GAP_Y) + 10;
  const columns = sizes.map((n, l) => {
    const step = n > 16 ? (tallest * (UNIT + GAP_Y)) / n : UNIT + GAP_Y;
    const size = n > 16 ? Math.max(4, step - 2) : UNIT;
    const span = n * step;
    return Array.from({ length: n }, (_, j) => ({
      x: LEFT + l * COL, y: TOP + (height - TOP - span) / 2 + j * step, size,
    }));
  });
  return { columns, width: LEFT + (sizes.length - 1) * COL + UNIT + 80, height };
}

const SVG = 'http://www.w3.org/2000/svg';
export const MAX_DRAWN_EDGES = 3000;

// Build the drawing once per architecture; returns handles to update it every frame.
export function buildNetwork(root, info, handlers) {
  root.textContent = '';
  const sizes = info.sizes;
  const geo = layout(sizes, root.parentElement.clientWidth || 600);
  root.style.height = `${geo.height + 20}px`;

  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('width', geo.width); svg.setAttribute('height', geo.height);
  root.appendChild(svg);
  const edges = [];
  for (let l = 0; l < sizes.length - 1; l++) {
    if (sizes[l] * sizes[l + 1] > MAX_DRAWN_EDGES) continue;
    for (let j = 0; j < sizes[l + 1]; j++) {
      for (let k = 0; k < sizes[l]; k++) {
        const a = geo.columns[l][k], b = geo.columns[l + 1][j];
        const x0 = a.x + a.size, y0 = a.y + a.size / 2, x1 = b.x, y1 = b.y + b.size / 2;
        const d = `M${x0},${y0} C${(x0 + x1) / 2},${y0} ${(x0 + x1) / 2},${y1} ${x1},${y1}`;
        const hit = document.createElementNS(SVG, 'path');
        hit.setAttribute('d', d); hit.setAttribute('class', 'hit');
        const path = document.createElementNS(SVG, 'path');
        path.setAttribute('d', d); path.setAttribute('class', 'weight');
        for (const el of [hit, path]) {
          el.dataset.layer = l; el.dataset.row = j; el.dataset.col = k;
        }
        hit.addEventListener('mouseenter', (e) => handlers.hover(e, l, j, k));
        hit.addEventListener('mouseleave', () => handlers.hover(null));
        hit.addEventListener('click', () => handlers.pickWeight(l, j, k));
        svg.appendChild(hit); svg.appendChild(path);
        edges.push({ l, j, k, path });
      }
    }
  }
  const units = sizes.map((n, l) => geo.columns[l].map((pos, j) => {
    const div = document.createElement('div');
    div.className = 'unit' + (l === 0 ? ' feature' : '');
    Object.assign(div.style, { left: `${pos.x}px`, top: `${pos.y}px`, width: `${pos.size}px`,
      height: `${pos.size}px` });
    div.dataset.layer = l; div.dataset.unit = j;
    let canvas = null;
    if (info.planar && pos.size >= 20) {
      canvas = document.createElement('canvas');
      div.appendChild(canvas);
    }
    if (l === 0 && n <= 16) {
      const name = document.createElement('span');
      name.className = 'name'; name.textContent = info.featureLabels[j];
      div.appendChild(name);
    }
    if (l > 0) div.addEventListener('click', () => handlers.pickBias(l - 1, j));
    const note = document.createElement('span');
    note.className = 'note';
    div.appendChild(note);
    root.appendChild(div);
    return { div, canvas, note };
  }));
  sizes.forEach((n, l) => {
    if (l === 0 || l === sizes.length - 1) return;
    const head = document.createElement('div');
    head.className = 'layer-head';
    head.style.left = `${geo.columns[l][0].x + UNIT / 2 - 45}px`; head.style.top = '0px';
    const minus = document.createElement('button'), plus = document.createElement('button');
    minus.textContent = '−'; plus.textContent = '+';
    minus.title = 'one unit fewer'; plus.title = 'one unit more';
    minus.addEventListener('click', () => handlers.resize(l - 1, -1));
    plus.addEventListener('click', () => handlers.resize(l - 1, +1));
    head.append(minus, ` ${n} `, plus);
    root.appendChild(head);
  });
  return { edges, units, geo };
}

// Every frame: edge widths and colours from the weights, unit heatmaps from the maps.
export function updateNetwork(drawing, params, info, maps) {
  const weights = params.filter((_, i) => i % 2 === 0);
  let top = 0;
  for (const W of weights) for (const row of W) for (const w of row) top = Math.max(top, Math.abs(w));
  top = top || 1;
  for (const e of drawing.edges) {
    const w = weights[e.l][e.j][e.k];
    e.path.setAttribute('stroke', rgb(w >= 0 ? POS : NEG, 0.9));
    e.path.setAttribute('stroke-width', (0.4 + 5 * Math.abs(w) / top).toFixed(2));
  }
  if (!maps) return;
  const grid = maps.grid;
  drawing.units.forEach((column, l) => column.forEach((u, j) => {
    if (!u.canvas) return;
    if (l === 0) paintMap(u.canvas, maps.features[j], 'feature', grid);
    else if (l < drawing.units.length - 1) paintMap(u.canvas, maps.layers[l - 1][j], info.activation, grid);
    else paintMap(u.canvas, maps.output[j], info.output, grid);
  }));
}
