import { execFileSync } from 'node:child_process';

/**
 * Takes one Redis node of the quorum away and brings it back, through the same script
 * `npm run infra:up` uses. The node is shut down with SHUTDOWN NOSAVE, which works whoever
 * started it; the script starts it again and waits until it answers.
 */
export const redisNode = {
  stop(port: number): void {
    execFileSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), 'shutdown', 'nosave'], {
      stdio: 'ignore',
    });
  },
  start(port: number): void {
    execFileSync('bash', ['scripts/infra/redis.sh', 'start', String(port)], { stdio: 'pipe' });
  },
};
