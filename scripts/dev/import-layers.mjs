// Counts the imports between the lib's folders that run against the layer order declared in
// eslint.config.js (LIB_LAYERS), and the folder cycles, whatever the order says. The ESLint rule
// fails such an import file by file; this prints the picture: `node scripts/dev/import-layers.mjs`
// (add --specs to count the *.spec.ts beside the code as well). Exits 1 if any arrow runs up.
//
// How it counts: every import and `export … from` of every .ts file under libs/dist-core/src
// (TypeScript's own pre-processor, so multi-line and type-only imports count), resolved to the
// folder it lands in (`../kafka/…`, `@app/dist-core/kafka`); one arrow per pair of folders,
// with the number of files behind it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import ts from 'typescript';
import { LIB_LAYERS } from '../../eslint.config.js';

const SRC = 'libs/dist-core/src';
const withSpecs = process.argv.includes('--specs');

function* tsFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(path);
    else if (entry.name.endsWith('.ts') && (withSpecs || !entry.name.endsWith('.spec.ts')))
      yield path;
  }
}

const folderOf = (file) => relative(SRC, file).split('/')[0];
const rank = new Map(LIB_LAYERS.flatMap((folders, i) => folders.map((folder) => [folder, i])));

const arrows = new Map(); // "from -> to" → files
for (const file of tsFiles(SRC)) {
  const from = folderOf(file);
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  for (const { fileName } of importedFiles) {
    let to;
    if (fileName.startsWith('@app/dist-core/')) to = fileName.split('/')[2];
    else if (fileName.startsWith('.')) to = folderOf(resolve(dirname(file), fileName));
    if (!to || to === from || to.startsWith('..')) continue;
    const key = `${from} -> ${to}`;
    arrows.set(key, (arrows.get(key) ?? new Set()).add(relative(SRC, file)));
  }
}

const unknown = [...new Set([...arrows.keys()].flatMap((k) => k.split(' -> ')))].filter(
  (folder) => !rank.has(folder),
);
const upward = [...arrows].filter(([key]) => {
  const [from, to] = key.split(' -> ');
  return !(rank.get(from) > rank.get(to));
});

// Folder cycles: strongly connected components of more than one folder (Tarjan).
const graph = new Map();
for (const key of arrows.keys()) {
  const [from, to] = key.split(' -> ');
  graph.set(from, [...(graph.get(from) ?? []), to]);
  if (!graph.has(to)) graph.set(to, []);
}
const cycles = [];
{
  let index = 0;
  const stack = [];
  const info = new Map();
  const visit = (v) => {
    info.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of graph.get(v)) {
      if (!info.has(w)) {
        visit(w);
        info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
      } else if (info.get(w).onStack)
        info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
    }
    if (info.get(v).low === info.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        info.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) cycles.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!info.has(v)) visit(v);
}

console.log(`Layers, lowest first: ${LIB_LAYERS.map((l) => l.join(' ')).join(' | ')}`);
console.log(`${arrows.size} arrows between folders${withSpecs ? ' (specs included)' : ''}`);
console.log(`${upward.length} upward (or sideways):`);
for (const [key, files] of upward) console.log(`  ${key}   (${[...files].join(', ')})`);
console.log(`${cycles.length} folder cycles${cycles.length ? ':' : ''}`);
for (const cycle of cycles) console.log(`  ${cycle.join(' ⇄ ')}`);
if (unknown.length) console.log(`folders without a layer: ${unknown.join(', ')}`);
process.exitCode = upward.length || cycles.length || unknown.length ? 1 : 0;
