import { localSecret, secretsDir } from '@app/dist-core/config';

/**
 * A credential `npm run infra:up` generated (scripts/infra/lib.sh, `secret NAME`), as the
 * services read it by default; tests fail at once, saying so, when it is missing.
 */
export function infraSecret(name: string): string {
  const secret = localSecret(name);
  if (secret === undefined)
    throw new Error(`no secret ${name} in ${secretsDir()}: \`npm run infra:up\` generates it`);
  return secret;
}
