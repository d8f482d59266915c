// The "why" panels: a training point's ledger (cr.explain) and a weight's nudges, path sum and
// gradient check. All numbers are the server's; this file only lays them out.

const fmt = (v) => (v === null || v === undefined ? '–'
  : Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4));

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function table(head, rows) {
  return el('table', {}, el('tr', {}, ...head.map((h) => el('th', {}, h))),
    ...rows.map((r) => el('tr', {}, ...r.map((c) => el('td', {}, c)))));
}

export function showLedger(panel, ledger, info) {
  panel.replaceChildren(el('h2', {}, `Ledger of training point ${ledger.index}`));
  const where = ledger.point ? ` at (${ledger.point.map(fmt).join(', ')})` : '';
  panel.append(el('p', {}, `Example ${ledger.index}${where}, label ${JSON.stringify(ledger.label)}:
    cost C_x = ${fmt(ledger.cost)} (${ledger.network.cost}), η = ${fmt(ledger.network.lr)}.`));
  panel.append(el('p', { class: 'small' }, 'Forward: z = W a + b, a = σ(z). Backward: BP1 δᴸ = ',
    ledger.network.bp1, ' at the output, BP2 δˡ = (Wˡ⁺¹)ᵀδˡ⁺¹ ⊙ σ\'(zˡ), BP3 ∂C/∂b = δ, ',
    'BP4 ∂C/∂w_jk = a_k δ_j; the update is w − η ∂C/∂w.'));
  panel.append(el('p', { class: 'eq' }, `input a⁰ = [${ledger.input.map(fmt).join(', ')}]`));
  ledger.layers.forEach((layer, l) => {
    const name = l === ledger.layers.length - 1 ? 'output layer' : `hidden layer ${l + 1}`;
    panel.append(el('h2', {}, `${name} (W^${l + 1}, b^${l + 1})`));
    panel.append(table(['unit j', 'z', 'a', `δ (${layer.delta_rule})`, '∂C/∂b (BP3)', 'new b'],
      layer.z.map((z, j) => [j, fmt(z), fmt(layer.a[j]), fmt(layer.delta[j]),
        fmt(layer.grad_biases[j]), fmt(layer.new_biases ? layer.new_biases[j] : null)])));
    if (layer.grad_weights[0].length <= 16) {
      panel.append(table(['∂C/∂w_jk (BP4)', ...layer.grad_weights[0].map((_, k) => `k=${k}`)],
        layer.grad_weights.map((row, j) => [`j=${j}`, ...row.map(fmt)])));
    } else {
      panel.append(el('p', { class: 'small' }, `∂C/∂w: ${layer.grad_weights.length} × ` +
        `${layer.grad_weights[0].length} numbers (in the JSON of /ledger).`));
    }
  });
}

// The nudges of one weight as a bar chart: one bar per example, the mean and the real step.
function bars(n) {
  const W = 420, H = 130, pad = 18;
  const values = [...n.nudges, n.mean, n.step];
  const top = Math.max(...values.map(Math.abs)) || 1;
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('width', W); svg.setAttribute('height', H); svg.setAttribute('class', 'bars');
  const mid = H / 2;
  const bw = Math.max(2, Math.min(24, (W - 2 * pad) / n.nudges.length - 2));
  const add = (tag, attrs) => {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    svg.appendChild(e); return e;
  };
  add('line', { x1: pad, x2: W - pad, y1: mid, y2: mid, stroke: '#999' });
  n.nudges.forEach((v, i) => {
    const h = Math.abs(v) / top * (mid - 14);
    const r = add('rect', { x: pad + i * (bw + 2), y: v >= 0 ? mid - h : mid, width: bw,
      height: Math.max(h, 0.5), fill: v >= 0 ? '#0877bd' : '#f59322' });
    const t = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    t.textContent = `example ${n.examples[i]}: −η ∂C_x/∂w = ${v}`;
    r.appendChild(t);
  });
  const y = mid - n.mean / top * (mid - 14);
  add('line', { x1: pad, x2: W - pad, y1: y, y2: y, stroke: '#c0392b', 'stroke-dasharray': '4 3' });
  add('text', { x: W - pad, y: y - 3, 'text-anchor': 'end', 'font-size': 11, fill: '#c0392b' })
    .textContent = `mean ${fmt(n.mean)}`;
  return svg;
}

export function showWeight(panel, weight, handlers) {
  const { nudges: n, paths: p, check: g } = weight;
  panel.replaceChildren(el('h2', {}, `Why ${n.param} moves`));
  const form = el('form', {},
    `${n.param} = `, el('input', { type: 'number', step: 'any', value: n.value, name: 'value' }),
    el('button', { type: 'submit' }, 'set'));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    handlers.setWeight(Number(form.elements.value.value));
  });
  panel.append(form);
  panel.append(el('p', {}, `The next mini-batch (epoch ${n.epoch + 1}, batch ${n.batch + 1}) has `
    + `${n.nudges.length} example(s); each wants to change ${n.param} by −η ∂C_x/∂w `
    + `(η = ${fmt(n.lr)}):`));
  panel.append(bars(n));
  panel.append(el('p', { class: 'small' }, 'One bar per example, in batch order (hover for its '
    + 'number); the dashed line is their mean.'));
  const same = Math.abs(n.mean - n.step) <= 1e-9 * Math.max(1, Math.abs(n.step));
  panel.append(el('p', {}, `Mean of the nudges = ${fmt(n.mean)}; the step ${n.optimizer} will `
    + `take on this batch = ${fmt(n.step)}`,
  el('span', { class: same ? 'good' : 'small' }, same ? ' — the same: the step is the average nudge.'
    : ' (momentum/Adam reshape the mean with their memory of earlier batches).')));
  panel.append(el('h2', {}, `∂C_x/∂w as a sum over paths (example ${p.index}, the first of the batch)`));
  panel.append(el('p', { class: 'small' }, `Each path from ${p.param} to the cost multiplies `
    + `the local derivatives on its edges: ${p.factors}.`));
  if (p.listed) {
    const factor = (name, v) => el('span', { class: 'factor' }, el('span', { class: 'small' }, name),
      el('br'), fmt(v));
    const rows = p.paths.slice(0, 12).map((q) => [
      q.units.map((u, m) => `z^${p.layer + m + 1}[${u}]`).join(' → '),
      el('span', {}, ...q.factors.flatMap((v, i) => [i ? ' × ' : '', factor(q.names[i], v)])),
      fmt(q.product)]);
    panel.append(table(['path through', 'the factors on its edges', 'product'], rows));
    if (p.paths.length > 12) panel.append(el('p', { class: 'small' }, `… and ${p.paths.length - 12} more.`));
    panel.append(el('p', {}, `${p.count} path(s), sum = ${fmt(p.sum)}; backprop's ∂C_x/∂w = `
      + `${fmt(p.backprop)}`));
  } else {
    panel.append(el('p', {}, `${p.count} paths: too many to list — this explosion is why `
      + `backprop merges them layer by layer. Backprop's ∂C_x/∂w = ${fmt(p.backprop)}.`));
  }
  panel.append(el('h2', {}, 'Gradient check on the mini-batch'));
  panel.append(el('p', {}, `backprop ${fmt(g.backprop)} · central differences (ε = ${g.eps}) `
    + `${fmt(g.numeric)} · relative difference ${g.relative_difference.toExponential(2)} `,
  el('span', { class: g.ok ? 'good' : 'bad' }, g.ok ? '✓ agree' : '✗ disagree')));
}
