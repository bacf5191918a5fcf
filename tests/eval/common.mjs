// Shared pieces of the eval-pad / eval-match tests: a CSV reader independent of the C one, running
// the CLI, and a minimal well-formedness check for the SVG it writes.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';

// RFC 4180: quoted fields may hold commas, doubled quotes and newlines; blank lines are ignored.
export function parseCsv(text) {
  const rows = [];
  let row = [], field = '', quoted = false, i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const endRow = () => {
    row.push(field);
    if (!(row.length === 1 && row[0] === '')) rows.push(row);
    row = [];
    field = '';
  };
  for (; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') { field += '"'; i++; }
      else quoted = false;
    } else if (c === '"' && field === '') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') { if (c === '\r' && text[i + 1] === '\n') i++; endRow(); }
    else field += c;
  }
  if (field !== '' || row.length) endRow();
  return rows;
}

// Run the CLI: exit status, the JSON lines of stdout (every line must parse) and the summary.
export function run(bin, args) {
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  const lines = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l, k) => {
    try { return JSON.parse(l); } catch (e) { throw new Error(`stdout line ${k + 1} is not JSON: ${l.slice(0, 200)}`); }
  });
  const summaries = lines.filter((l) => l.summary === true);
  return { status: r.status, stderr: r.stderr, lines: lines.filter((l) => l.summary !== true), summary: summaries[0], n_summaries: summaries.length };
}

// Tags balanced and properly nested, attributes quoted, no stray '<' or '&' in text. Returns the
// element names in document order, or throws.
export function checkXml(text) {
  const names = [], stack = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>/y;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);)/.test(chunk)) throw new Error(`bad '&' in text near offset ${i}`);
    if (lt < 0) break;
    tag.lastIndex = lt;
    const m = tag.exec(text);
    if (!m) throw new Error(`malformed tag at offset ${lt}: ${text.slice(lt, lt + 60)}`);
    const [, close, name, , self] = m;
    if (close) {
      if (stack.pop() !== name) throw new Error(`</${name}> at offset ${lt} closes nothing open`);
    } else {
      names.push(name);
      if (!self) stack.push(name);
    }
    i = tag.lastIndex;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join('>, <')}>`);
  return names;
}

export function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}

export function readText(p) {
  return fs.readFileSync(p, 'utf8');
}
