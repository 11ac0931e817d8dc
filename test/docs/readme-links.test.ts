// The README is the map of the code: every file or folder it links to must exist.
import { describe, expect, it } from '@jest/globals';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const DOCUMENTS = [
  'README.md',
  'docs/api.md',
  'docs/running.md',
  'bench/README.md',
  'libs/dist-core/src/sharding/README.md',
  'libs/dist-core/src/snowflake/README.md',
  'libs/dist-core/src/redlock/README.md',
  'libs/dist-core/src/barrier/README.md',
  'libs/dist-core/src/outbox/README.md',
  'libs/dist-core/src/engine/README.md',
  'libs/dist-core/src/saga/README.md',
  'libs/dist-core/src/tcc/README.md',
  'libs/dist-core/src/twopc/README.md',
  'issuer/README.md',
];

/** Relative link targets of a Markdown file: `[text](target)`, without anchors or URLs. */
function localLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((match) => match[1].split('#')[0])
    .filter((target) => target !== '' && !/^[a-z]+:/i.test(target));
}

describe.each(DOCUMENTS)('%s', (document) => {
  const links = localLinks(readFileSync(document, 'utf8'));

  it('links to files that exist', () => {
    const missing = links.filter((target) => !existsSync(join(dirname(document), target)));
    expect(missing).toEqual([]);
  });

  it('stays inside the repository', () => {
    const outside = links.filter((target) => join(dirname(document), target).startsWith('..'));
    expect(outside).toEqual([]);
  });
});

it('the README links to every pattern folder of the library', () => {
  const links = localLinks(readFileSync('README.md', 'utf8')).join('\n');
  for (const folder of [
    'snowflake',
    'hashing',
    'sharding',
    'redlock',
    'kafka',
    'outbox',
    'inbox',
    'barrier',
    'saga',
    'tcc',
  ]) {
    expect(links).toContain(`libs/dist-core/src/${folder}`);
  }
});
