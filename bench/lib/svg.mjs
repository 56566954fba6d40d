// Hand-written SVG charts (no chart library): a line chart (e.g. latency against offered load) and
// a grouped bar chart (e.g. bytes per socket), candidate beside baseline.

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const W = 720;
const H = 400;
const M = { left: 70, right: 190, top: 40, bottom: 55 };

function esc(text) {
  return String(text).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}

function niceMax(value) {
  if (!Number.isFinite(value) || value <= 0) {
    return 1;
  }
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    if (value <= step * exp) {
      return step * exp;
    }
  }
  return 10 * exp;
}

function fmt(value) {
  if (Math.abs(value) >= 1e6) {
    return `${+(value / 1e6).toFixed(1)}M`;
  }
  if (Math.abs(value) >= 1e4) {
    return `${+(value / 1e3).toFixed(0)}k`;
  }
  if (Math.abs(value) >= 1e3) {
    return `${+(value / 1e3).toFixed(1)}k`;
  }
  return `${+value.toPrecision(3)}`;
}

function frame(title, xLabel, yLabel, xMax, yMax, xTicks) {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${M.left}" y1="${M.top + ph}" x2="${M.left + pw}" y2="${M.top + ph}" stroke="#333"/>`,
    `<line x1="${M.left}" y1="${M.top}" x2="${M.left}" y2="${M.top + ph}" stroke="#333"/>`,
    `<text x="${M.left + pw / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
  ];
  for (let i = 0; i <= 5; i += 1) {
    const y = M.top + ph - (ph * i) / 5;
    parts.push(`<line x1="${M.left}" y1="${y}" x2="${M.left + pw}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmt((yMax * i) / 5)}</text>`);
  }
  if (xTicks) {
    for (const [x, label] of xTicks) {
      parts.push(`<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle">${esc(label)}</text>`);
    }
  } else {
    for (let i = 0; i <= 5; i += 1) {
      const x = M.left + (pw * i) / 5;
      parts.push(`<text x="${x}" y="${M.top + ph + 16}" text-anchor="middle">${fmt((xMax * i) / 5)}</text>`);
    }
  }
  return { parts, pw, ph };
}

function legend(parts, series) {
  series.forEach((s, i) => {
    const y = M.top + 10 + i * 18;
    const x = W - M.right + 14;
    parts.push(`<line x1="${x}" y1="${y}" x2="${x + 22}" y2="${y}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${x + 28}" y="${y + 4}">${esc(s.name)}</text>`);
  });
}

/** series: [{ name, points: [[x, y], …], dashed? }] */
export function lineChart({ title, xLabel, yLabel, series, note }) {
  const colored = series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }));
  const all = colored.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xMax = niceMax(Math.max(1e-9, ...all.map(([x]) => x)) * 1.05);
  const yMax = niceMax(Math.max(1e-9, ...all.map(([, y]) => y)) * 1.05);
  const { parts, pw, ph } = frame(title, xLabel, yLabel, xMax, yMax);
  const sx = (x) => M.left + (pw * x) / xMax;
  const sy = (y) => M.top + ph - (ph * y) / yMax;
  for (const s of colored) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).sort((a, b) => a[0] - b[0]);
    if (pts.length > 1) {
      const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    }
    for (const [x, y] of pts) {
      parts.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    }
  }
  legend(parts, colored);
  if (note) {
    parts.push(`<text x="${M.left}" y="${M.top - 6}" font-size="10" fill="#555">${esc(note)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}

/** groups: [{ label, values: [number per series] }], series: [{ name }] */
export function barChart({ title, yLabel, groups, series, note }) {
  const colored = series.map((s, i) => ({ ...s, color: s.color ?? PALETTE[i % PALETTE.length] }));
  const yMax = niceMax(Math.max(1e-9, ...groups.flatMap((g) => g.values.filter(Number.isFinite))) * 1.1);
  const pw = W - M.left - M.right;
  const groupWidth = pw / Math.max(1, groups.length);
  const ticks = groups.map((g, i) => [M.left + groupWidth * (i + 0.5), g.label]);
  const { parts, ph } = frame(title, '', yLabel, 1, yMax, ticks);
  const barWidth = (groupWidth * 0.7) / Math.max(1, colored.length);
  groups.forEach((g, gi) => {
    g.values.forEach((v, si) => {
      if (!Number.isFinite(v)) {
        return;
      }
      const h = (ph * v) / yMax;
      const x = M.left + groupWidth * gi + groupWidth * 0.15 + barWidth * si;
      parts.push(`<rect x="${x.toFixed(1)}" y="${(M.top + ph - h).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${h.toFixed(1)}" fill="${colored[si].color}"/>`);
      parts.push(`<text x="${(x + barWidth / 2).toFixed(1)}" y="${(M.top + ph - h - 4).toFixed(1)}" text-anchor="middle" font-size="10">${fmt(v)}</text>`);
    });
  });
  legend(parts, colored);
  if (note) {
    parts.push(`<text x="${M.left}" y="${M.top - 6}" font-size="10" fill="#555">${esc(note)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('\n');
}
