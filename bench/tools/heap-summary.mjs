#!/usr/bin/env node
// Summarizes a V8 .heapsnapshot: self size and count per constructor, top N. Compare two snapshots
// (before/after connecting N sockets) to see what a socket costs:
//   node bench/tools/heap-summary.mjs <after.heapsnapshot> [N] [<before.heapsnapshot>]
import { readFileSync } from 'node:fs';

function summarize(file) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const out = new Map();
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + iType]];
    const name = type === 'object' || type === 'closure' ? snap.strings[snap.nodes[i + iName]] : `(${type})`;
    const entry = out.get(name) ?? { size: 0, count: 0 };
    entry.size += snap.nodes[i + iSize];
    entry.count += 1;
    out.set(name, entry);
  }
  return out;
}

const [afterFile, topArg, beforeFile] = process.argv.slice(2);
const top = Number(topArg ?? 30);
const after = summarize(afterFile);
const before = beforeFile ? summarize(beforeFile) : new Map();
const rows = [...after].map(([name, a]) => {
  const b = before.get(name) ?? { size: 0, count: 0 };
  return { name, size: a.size - b.size, count: a.count - b.count };
});
rows.sort((x, y) => y.size - x.size);
const total = rows.reduce((s, r) => s + r.size, 0);
console.log(`${beforeFile ? 'growth' : 'total'}: ${(total / 1024 / 1024).toFixed(1)} MiB`);
for (const r of rows.slice(0, top)) {
  console.log(`${(r.size / 1024).toFixed(0).padStart(9)} KiB ${String(r.count).padStart(8)}  ${r.name}`);
}
