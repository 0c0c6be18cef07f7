'use strict';
// The shipped declarations (index.d.ts, dist/**/*.d.ts) compile against user-style code in
// __test__/typescript: once resolved the classic CommonJS way ("paths" onto the repo root), once
// through package.json "exports" (module node16, including an ES module file).

const { describe, it } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const tsc = path.join(root, 'node_modules', '.bin', process.platform === 'win32' ? 'tsc.cmd' : 'tsc');

function compile(project) {
  const run = spawnSync(tsc, ['-p', project, '--pretty', 'false'], { cwd: root, encoding: 'utf8' });
  if (run.error) throw run.error;
  const output = `${run.stdout}${run.stderr}`.trim();
  assert.equal(run.status, 0, `tsc -p ${project} exited with ${run.status}:\n${output}`);
}

describe('TypeScript declarations', () => {
  it('tsc is installed', () => {
    assert.ok(fs.existsSync(tsc), `${tsc} is missing: run npm install`);
  });

  it('every dist/**/*.js has a .d.ts next to it', () => {
    const missing = [];
    (function walk(dir) {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith('.js') && !fs.existsSync(file.replace(/\.js$/, '.d.ts'))) missing.push(path.relative(root, file));
      }
    })(path.join(root, 'dist'));
    assert.deepEqual(missing, []);
  });

  it('compile with module commonjs (tsc -p __test__/typescript)', () => {
    compile('__test__/typescript');
  });

  it('compile through package.json "exports" with module node16', () => {
    compile('__test__/typescript/tsconfig.node16.json');
  });
});
