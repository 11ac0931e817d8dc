import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { errorBody } from './http-error.filter.js';
import { findJsonShapeProblem, scanJsonStructure } from './json-shape.js';

/** CONTRACT.md: a body over 64 KiB gets 413. The largest real body (100 order lines) is ~5 KiB. */
export const BODY_LIMIT_BYTES = 64 * 1024;
const BODY_LIMIT_TEXT = '64 KiB';

/** What the structure scan found wrong, carried through the parser's error path. */
class RefusedBody extends Error {
  readonly status = 400;
  readonly type = 'body.refused';
}

/**
 * JSON request bodies, refused as early and as cheaply as each problem can be seen:
 * 1. a body that is not `application/json` → 415, unread;
 * 2. more than 64 KiB → 413, reading stops at the limit;
 * 3. nested deeper than 32 or with more than 1,000 values → 400, from one pass over the raw
 *    bytes before JSON.parse (json-shape.ts);
 * 4. invalid JSON → 400;
 * 5. a string with a control character, or an array longer than any endpoint takes → 400
 *    naming the field, before the validation pipe transforms anything.
 * Parser failures happen in Express middleware, before Nest's exception filters can see them,
 * so they are answered here in the same error shape.
 */
export function jsonBodyMiddleware() {
  const parse = express.json({
    limit: BODY_LIMIT_BYTES,
    strict: true,
    // No gzip: a compressed body is 64 KiB of work disguised as a few bytes, and no client of
    // this API compresses.
    inflate: false,
    verify: (_req: IncomingMessage, _res: unknown, bytes: Buffer, encoding: string) => {
      // The scan reads UTF-8 bytes; UTF-16 and UTF-32 bodies are refused rather than decoded.
      if (encoding !== 'utf-8') throw new RefusedBody('Request body must be UTF-8 JSON');
      const problem = scanJsonStructure(bytes);
      if (problem) throw new RefusedBody(problem);
    },
  });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (carriesBody(req) && !req.is('application/json')) {
      res.status(415).json(errorBody(415, 'Content-Type must be application/json'));
      return;
    }
    parse(req, res, (error?: unknown) => {
      if (error) {
        const [status, message] = describeParseError(error);
        res.status(status).json(errorBody(status, message));
        return;
      }
      const problem = req.body === undefined ? null : findJsonShapeProblem(req.body);
      if (problem) {
        res.status(400).json(errorBody(400, problem));
        return;
      }
      next();
    });
  };
}

/** A request with a non-empty body (a declared length above 0, or a chunked one). */
function carriesBody(req: Request): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function describeParseError(error: unknown): [number, string] {
  const { status, type, message } = error as { status?: number; type?: string; message?: string };
  if (status === 413 || type === 'entity.too.large') {
    return [413, `Request body exceeds the ${BODY_LIMIT_TEXT} limit`];
  }
  if (type === 'body.refused') return [400, message ?? 'Request body refused'];
  if (type === 'entity.parse.failed') return [400, 'Request body is not valid JSON'];
  if (type === 'encoding.unsupported') return [415, 'Content-Encoding is not supported'];
  if (type === 'charset.unsupported') return [415, 'Request body must be UTF-8 JSON'];
  const code = status && status >= 400 && status < 500 ? status : 400;
  return [code, message || 'Unreadable request body'];
}
