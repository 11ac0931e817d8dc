import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The credentials `npm run infra:up` generates for a native run (scripts/infra/lib.sh,
 * `secret`): one file per secret under `$SECRETS_DIR`, by default `<repo>/.infra/secrets`.
 * They are the defaults of the credential variables, so a service started with no environment
 * finds what infra:up set up; containers and Kubernetes pass the variables instead and have no
 * such folder. Never committed: `.infra/` is git-ignored and every file is created 0600.
 *
 * Names: kafka-admin, kafka-order, kafka-payment, kafka-inventory (SCRAM passwords),
 * postgres-order, postgres-payment, postgres-inventory (role passwords), redis (the nodes'
 * password), issuer-tools (the token script's client secret), operator-password (/ui sign-in).
 */

/** `<repo>/.infra`: this file is libs/dist-core/{src,dist}/config/local-secrets.{ts,js}. */
const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export function secretsDir(source: NodeJS.ProcessEnv = process.env): string {
  if (source.SECRETS_DIR) return resolve(source.SECRETS_DIR);
  return join(source.INFRA_DIR ? resolve(source.INFRA_DIR) : join(REPO_ROOT, '.infra'), 'secrets');
}

/** The secret's text, or undefined if infra:up has not generated it (or this is a container). */
export function localSecret(
  name: string,
  source: NodeJS.ProcessEnv = process.env,
): string | undefined {
  try {
    const text = readFileSync(join(secretsDir(source), name), 'utf8').trim();
    return text === '' ? undefined : text;
  } catch {
    return undefined;
  }
}

/**
 * The local secret as the default of a variable; throws the reason (a configuration message
 * fragment, see loadConfig) when infra:up has not generated it.
 */
export function requireLocalSecret(name: string, source: NodeJS.ProcessEnv = process.env): string {
  const secret = localSecret(name, source);
  if (secret === undefined) {
    throw new Error(
      `is not set, and its default needs the secret ${name}, which \`npm run infra:up\` generates (none in ${secretsDir(source)})`,
    );
  }
  return secret;
}
