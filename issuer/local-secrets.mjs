// The secrets `npm run infra:up` generates (scripts/infra/lib.sh, `secret NAME`): one 0600 file
// per secret under $SECRETS_DIR, by default <repo>/.infra/secrets. The same rules as the
// services' libs/dist-core/src/config/local-secrets.ts, in plain JavaScript because the issuer
// and the token script run without a build step (and without the lib).
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file is <repo>/issuer/local-secrets.mjs. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

export function secretsDir(source = process.env) {
  if (source.SECRETS_DIR) return resolve(source.SECRETS_DIR);
  return join(source.INFRA_DIR ? resolve(source.INFRA_DIR) : join(REPO_ROOT, '.infra'), 'secrets');
}

/** The file's trimmed text, or undefined if it is missing or empty. */
export function readSecretFile(file) {
  try {
    const text = readFileSync(file, 'utf8').trim();
    return text === '' ? undefined : text;
  } catch (error) {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The secret's text, or undefined if infra:up has not generated it (or this is a container). */
export function localSecret(name, source = process.env) {
  return readSecretFile(join(secretsDir(source), name));
}

/**
 * Writes `text` to `file` (0600, directory 0700) unless the file exists, and returns what the
 * file holds: the issuer's signing and cookie keys are generated on its first start and reused
 * afterwards. Written aside and hard-linked into place, which fails if another process got
 * there first: two issuers starting at once end up with the same keys.
 */
export function createSecretFileOnce(file, text) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const aside = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(aside, text, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(aside, file);
  } catch (error) {
    if (error.code !== 'EEXIST') throw error;
  } finally {
    rmSync(aside, { force: true });
  }
  return readSecretFile(file);
}
