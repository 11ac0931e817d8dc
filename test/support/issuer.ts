import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port nobody listens on right now (the kernel's pick). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * A real identity issuer (issuer/server.mjs) of a test's own, on a free port with its own
 * secrets dir: the test knows the tools secret and the operator's password, and can restart
 * the issuer to see its keys survive.
 */
export class TestIssuer {
  readonly secretsDir: string;
  readonly toolsSecret = randomBytes(18).toString('base64url');
  readonly operatorPassword = randomBytes(18).toString('base64url');
  private child?: ChildProcess;
  private output = '';

  private constructor(
    private readonly root: string,
    readonly port: number,
  ) {
    this.secretsDir = join(root, 'secrets');
    mkdirSync(this.secretsDir, { mode: 0o700 });
    writeFileSync(join(this.secretsDir, 'issuer-tools'), this.toolsSecret, { mode: 0o600 });
    writeFileSync(join(this.secretsDir, 'operator-password'), this.operatorPassword, {
      mode: 0o600,
    });
  }

  static async start(): Promise<TestIssuer> {
    const issuer = new TestIssuer(mkdtempSync(join(tmpdir(), 'issuer-test-')), await freePort());
    await issuer.launch();
    return issuer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The environment under which scripts find this issuer and its secrets. */
  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env,
      AUTH_ISSUER: this.url,
      SECRETS_DIR: this.secretsDir,
      // Empty: the secrets come from this issuer's files, not from the caller's environment.
      ISSUER_TOOLS_SECRET: '',
      ISSUER_OPERATOR_PASSWORD: '',
    };
  }

  private async launch(): Promise<void> {
    this.output = '';
    const child = spawn(process.execPath, ['issuer/server.mjs'], {
      env: {
        ...this.env,
        ISSUER_PORT: String(this.port),
        ...{ ISSUER_URL: '', ISSUER_HOST: '', ISSUER_JWKS_FILE: '', ISSUER_COOKIE_KEYS: '' },
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) {
      stream.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) break;
      const answered = await fetch(`${this.url}/.well-known/openid-configuration`).then(
        (response) => response.ok,
        () => false,
      );
      if (answered) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the issuer did not start on ${this.url}:\n${this.output}`);
  }

  async restart(): Promise<void> {
    await this.stopProcess();
    await this.launch();
  }

  private async stopProcess(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async stop(): Promise<void> {
    await this.stopProcess();
    rmSync(this.root, { recursive: true, force: true });
  }
}
