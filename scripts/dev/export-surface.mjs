// How big the lib's public surface is, and how much of it the services use:
// `node scripts/dev/export-surface.mjs [checkout]`.
//
// Exported: every name (values and types) the entry points `libs/dist-core/src/<folder>/index.ts`
// export, as TypeScript's checker sees them (so `export *` and re-exports count once each).
// Used: the names apps/**/*.ts (specs excluded) import from `@app/dist-core/<folder>`; and,
// for what keeps an export alive though no service needs it, those tests, benchmarks and
// scripts import. `--unused` lists the names nothing outside the lib imports.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const root = process.argv.slice(2).find((arg) => !arg.startsWith('--')) ?? '.';
const SRC = join(root, 'libs/dist-core/src');

function* tsFiles(dir) {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist')
      yield* tsFiles(path);
    else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) yield path;
  }
}

const entries = readdirSync(SRC, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(SRC, d.name, 'index.ts')))
  .map((d) => d.name);
const program = ts.createProgram(
  entries.map((folder) => join(SRC, folder, 'index.ts')),
  {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
  },
);
const checker = program.getTypeChecker();
const exported = new Set();
for (const folder of entries) {
  const source = program.getSourceFile(join(SRC, folder, 'index.ts'));
  const symbol = source && checker.getSymbolAtLocation(source);
  for (const name of symbol ? checker.getExportsOfModule(symbol) : []) {
    exported.add(`${folder}:${name.getName()}`);
  }
}

/** `folder:name` for each name a file imports from @app/dist-core/<folder>. */
function importedNames(file) {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const names = [];
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) && !ts.isExportDeclaration(statement)) continue;
    const spec = statement.moduleSpecifier;
    const match = spec && ts.isStringLiteral(spec) && /^@app\/dist-core\/(.+)$/.exec(spec.text);
    if (!match) continue;
    const bindings = ts.isImportDeclaration(statement)
      ? statement.importClause?.namedBindings
      : statement.exportClause;
    if (bindings && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings))) {
      for (const element of bindings.elements) {
        names.push(`${match[1]}:${(element.propertyName ?? element.name).text}`);
      }
    }
  }
  return names;
}

const usedBy = (dirs, keep = () => true) =>
  new Set(dirs.flatMap((dir) => [...tsFiles(join(root, dir))].filter(keep).flatMap(importedNames)));
const byApps = usedBy(['apps'], (file) => !file.endsWith('.spec.ts'));
const elsewhere = usedBy(['test', 'bench', 'scripts', 'libs/order-flow-api']);

const count = (set) => [...set].filter((name) => exported.has(name)).length;
console.log(`entry points: ${entries.length} (${entries.join(', ')})`);
console.log(`names exported: ${exported.size}`);
console.log(`names the apps import: ${count(byApps)}`);
console.log(
  `names imported outside the lib at all (apps, tests, bench, scripts): ${count(new Set([...byApps, ...elsewhere]))}`,
);
for (const folder of entries) {
  const mine = [...exported].filter((name) => name.startsWith(`${folder}:`)).length;
  console.log(`  ${folder.padEnd(14)} ${String(mine).padStart(3)} exported`);
}
if (process.argv.includes('--unused')) {
  const unused = [...exported].filter((name) => !byApps.has(name) && !elsewhere.has(name));
  console.log(`exported, imported by nothing outside the lib (${unused.length}):`);
  console.log(`  ${unused.sort().join('\n  ')}`);
}
