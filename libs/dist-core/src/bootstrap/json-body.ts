import express, { type NextFunction, type Request, type Response } from 'express';
import { errorBody } from './http-error.filter.js';

export const BODY_LIMIT = '1mb';

/**
 * JSON body parsing with a 1 MiB limit. Parser failures happen in Express middleware, before
 * Nest's exception filters can see them, so they are answered here in the same error shape:
 * 413 for an oversized body, 400 for malformed JSON or an unsupported encoding.
 */
export function jsonBodyMiddleware() {
  const parse = express.json({ limit: BODY_LIMIT, strict: true });
  return (req: Request, res: Response, next: NextFunction): void => {
    parse(req, res, (error?: unknown) => {
      if (!error) return next();
      const { status, type } = error as { status?: number; type?: string };
      if (status === 413 || type === 'entity.too.large') {
        res.status(413).json(errorBody(413, `Request body exceeds the ${BODY_LIMIT} limit`));
      } else if (type === 'entity.parse.failed') {
        res.status(400).json(errorBody(400, 'Request body is not valid JSON'));
      } else {
        const code = status && status >= 400 && status < 500 ? status : 400;
        res
          .status(code)
          .json(errorBody(code, (error as Error).message || 'Unreadable request body'));
      }
    });
  };
}
