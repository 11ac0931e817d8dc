import type { NextFunction, Request, Response } from 'express';
import { errorBody } from './http-error.filter.js';
import { CONTROL_CHARACTER_RULE, hasControlCharacter } from './json-shape.js';

/**
 * Refuses a URL whose path or query carries a control character once percent-decoded
 * (`/products/a%00b`, `?customerId=%07`), before routing: route params and query values get the
 * same rule as body strings, in one place, whichever handler would have read them. (Node's HTTP
 * parser already refuses raw control characters in the request line.)
 */
export function urlControlCharacterGuard() {
  return (req: Request, res: Response, next: NextFunction): void => {
    const problem = findUrlProblem(req.originalUrl);
    if (problem) {
      res.status(400).json(errorBody(400, problem));
      return;
    }
    next();
  };
}

export function findUrlProblem(url: string): string | null {
  const queryStart = url.indexOf('?');
  const path = queryStart === -1 ? url : url.slice(0, queryStart);
  for (const segment of path.split('/')) {
    // A malformed escape is left to the router, which answers it with 400.
    if (hasControlCharacter(decodeOrSelf(segment))) return `URL path ${CONTROL_CHARACTER_RULE}`;
  }
  if (queryStart === -1) return null;
  for (const [name, value] of new URLSearchParams(url.slice(queryStart + 1))) {
    if (hasControlCharacter(name)) return `a query parameter name ${CONTROL_CHARACTER_RULE}`;
    if (hasControlCharacter(value)) return `query parameter ${name} ${CONTROL_CHARACTER_RULE}`;
  }
  return null;
}

function decodeOrSelf(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
