import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import type { Redis } from 'ioredis';
import { coalesceWrites } from './write-coalescing.js';

// coalesceWrites only reads a client's `status` and `stream`: a plain object carrying a real
// Writable that records how its chunks reached the "socket" stands in for a connected client.
function recordingClient(status = 'ready') {
  const syscalls: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      syscalls.push([chunk.toString()]);
      done();
    },
    writev(chunks, done) {
      syscalls.push(chunks.map(({ chunk }) => (chunk as Buffer).toString()));
      done();
    },
  });
  return { client: { status, stream } as unknown as Redis, stream, syscalls };
}

describe('coalesceWrites', () => {
  it("sends a tick's commands to a node in one write, in order, before the next tick's I/O", async () => {
    const { client, stream, syscalls } = recordingClient();
    for (const command of ['acquire a', 'acquire b', 'release a']) {
      coalesceWrites(client);
      stream.write(command);
    }
    expect(syscalls).toEqual([]);
    // Flushed on the tick's own nextTick queue: no I/O or timer phase in between.
    await new Promise((resolve) => process.nextTick(resolve));
    expect(syscalls).toEqual([['acquire a', 'acquire b', 'release a']]);
    expect(stream.writableCorked).toBe(0);
  });

  it('flushes commands sent from promise continuations of the same tick together', async () => {
    const { client, stream, syscalls } = recordingClient();
    const send = (command: string) => {
      coalesceWrites(client);
      stream.write(command);
    };
    send('first');
    await Promise.resolve().then(() => send('from a continuation'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(syscalls).toEqual([['first', 'from a continuation']]);
  });

  it('corks each node separately and leaves a stream that is not connected alone', async () => {
    const up = recordingClient();
    const connecting = recordingClient('connecting');
    coalesceWrites(up.client);
    coalesceWrites(connecting.client);
    expect(up.stream.writableCorked).toBe(1);
    expect(connecting.stream.writableCorked).toBe(0);
    await new Promise((resolve) => process.nextTick(resolve));
    expect(up.stream.writableCorked).toBe(0);
  });
});
