// A Nest CLI compiler plugin with one job: build the libs (libs/dist-core, then
// libs/order-flow-api, which references it) with tsc's solution builder, as `tsc -b` does,
// before an app is emitted, so `nest build <app>` and `nest start <app> --watch`
// need no separate step. The CLI compiles one program per app and does not build TypeScript
// project references (nestjs/nest-cli#392, #2656), and the apps import the lib's compiled
// output at run time (node_modules/@app/dist-core → libs/dist-core/dist).
//
// The app's program reads the lib's *source* (the "source" export condition), so it type-checks
// without the lib's output and, in watch mode, notices a change in the lib: the CLI then emits
// again, and this hook rebuilds the lib (incrementally) before the app restarts.
//
// CommonJS because the CLI loads plugins with require().
const { createHash } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const ts = require('typescript');

/**
 * `npm run start:dev` runs three watching CLIs that all react to one change in the lib: one
 * builds it at a time (a directory as the lock; the others wait, then find it up to date), so
 * no app restarts while another process is half-way through rewriting the lib's files.
 */
function underLock(lockDir, fn) {
  const wait = new Int32Array(new SharedArrayBuffer(4));
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      fs.mkdirSync(lockDir, { recursive: false });
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      // A holder that died long ago left its lock behind.
      if (Date.now() > deadline) fs.rmSync(lockDir, { recursive: true, force: true });
      else Atomics.wait(wait, 0, 0, 100);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lockDir, { recursive: true, force: true });
  }
}

function buildLibraries(tsconfigs) {
  // Outside the repository: a lock appearing in the lib's folder is a change the watching CLIs
  // see (the lib is in their programs), which would rebuild, take the lock, and so on forever.
  const roots = tsconfigs.map((tsconfig) => path.resolve(tsconfig));
  const id = createHash('sha256').update(roots.join('\n')).digest('hex').slice(0, 16);
  const lockDir = path.join(os.tmpdir(), `nest-build-lib-first-${id}.lock`);
  underLock(lockDir, () => solutionBuild(roots));
}

function solutionBuild(roots) {
  const diagnostics = [];
  const host = ts.createSolutionBuilderHost(ts.sys, undefined, (d) => diagnostics.push(d));
  const status = ts.createSolutionBuilder(host, roots, {}).build();
  if (status !== ts.ExitStatus.Success) {
    const format = {
      getCanonicalFileName: (name) => name,
      getCurrentDirectory: ts.sys.getCurrentDirectory,
      getNewLine: () => ts.sys.newLine,
    };
    throw new Error(
      `building ${roots.join(', ')} failed:\n${ts.formatDiagnosticsWithColorAndContext(diagnostics, format)}`,
    );
  }
}

module.exports = {
  /** Called by the CLI before each emit of an app; returns a transformer that changes nothing. */
  before(options) {
    buildLibraries(options.tsconfigs ?? [options.tsconfig ?? 'libs/dist-core/tsconfig.json']);
    return () => (sourceFile) => sourceFile;
  },
};
