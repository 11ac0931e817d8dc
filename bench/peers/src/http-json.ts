import { createServer, type IncomingMessage, type Server } from 'node:http';

/**
 * The little HTTP the peers' own services speak: POST a JSON body, get a JSON answer. A
 * handler's answer is 200; a thrown error is a 500 the caller retries (a fault, never a
 * business outcome: those are answers).
 */
export type JsonHandler = (body: never) => Promise<unknown>;

export function serveJson(port: number, routes: Record<string, JsonHandler>): Promise<Server> {
  const server = createServer((request, response) => {
    void (async () => {
      const handler = routes[request.url ?? ''];
      if (request.method === 'GET' && request.url === '/health') return reply(200, { ok: true });
      if (request.method !== 'POST' || !handler) return reply(404, { error: 'no such route' });
      try {
        reply(200, await handler((await readJson(request)) as never));
      } catch (error) {
        reply(500, { error: (error as Error).message });
      }
    })();
    function reply(status: number, body: unknown) {
      const text = JSON.stringify(body ?? null);
      response.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(text),
      });
      response.end(text);
    }
  });
  // Keep connections longer than the callers' keep-alive, so no request meets a closing socket.
  server.keepAliveTimeout = 65_000;
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

async function readJson(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
}

/** POST JSON, return the JSON answer; a non-200 is thrown (the caller decides to retry). */
export async function postJson<T>(url: string, body: unknown): Promise<T> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = (await response.json()) as T;
  if (response.status !== 200)
    throw new Error(`POST ${url}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Stops the process cleanly on SIGTERM (the driver's stop) after `close`. */
export function onTerminate(close: () => Promise<void>): void {
  process.once('SIGTERM', () => {
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
