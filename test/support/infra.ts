import { execFileSync } from 'node:child_process';
import { requireLocalSecret } from '@app/dist-core/config';

/**
 * The password of the Redis nodes infra:up starts (scripts/infra/redis.sh, secret `redis`).
 * Sent to every node: one that has none (6379 when infra:up reused it) answers AUTH with an
 * error that redis-cli only warns about.
 */
export function redisPassword(): string {
  return requireLocalSecret('redis');
}

/**
 * redis-cli against 127.0.0.1:port, authenticated; its output, trimmed. The password goes in
 * through REDISCLI_AUTH: on the command line (-a) any process could read it.
 */
export function redisCli(port: number, args: string[]): string {
  return execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    env: { ...process.env, REDISCLI_AUTH: redisPassword() },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
    .toString()
    .trim();
}

/**
 * Takes one Redis node of the quorum away and brings it back, through the same script
 * `npm run infra:up` uses. The node is shut down with SHUTDOWN NOSAVE, which works whoever
 * started it; the script starts it again and waits until it answers.
 */
export const redisNode = {
  stop(port: number): void {
    redisCli(port, ['shutdown', 'nosave']);
  },
  start(port: number): void {
    execFileSync('bash', ['scripts/infra/redis.sh', 'start', String(port)], { stdio: 'pipe' });
  },
};
