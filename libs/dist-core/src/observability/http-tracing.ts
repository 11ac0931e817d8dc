import { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import type { NextFunction, Request, Response } from 'express';
import { parseTraceparent, toSpanContext } from './trace-context.js';
import { tracer } from './tracer.js';

/** Polled by orchestrators and tests many times a second: spans of them would drown the rest. */
const UNTRACED_PATHS = new Set(['/health']);

/**
 * A SERVER span around each HTTP request, the first middleware of the app so body parsing
 * and its errors are inside it. It continues the caller's trace when the request carries a
 * `traceparent`, and is a trace's root otherwise. Named `METHOD /route` (`POST /orders`,
 * `GET /orders/:id`) once the router has matched; the status code and, from 500 up, an error
 * status are set when the response is finished.
 */
export function httpTracingMiddleware() {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (UNTRACED_PATHS.has(req.path)) return next();
    const caller = parseTraceparent(req.header('traceparent'));
    const parent = caller
      ? trace.setSpanContext(ROOT_CONTEXT, toSpanContext(caller))
      : ROOT_CONTEXT;
    const span = tracer().startSpan(
      req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: req.method, [ATTR_URL_PATH]: req.path },
      },
      parent,
    );
    const active = trace.setSpan(parent, span);
    // Body parsing continues in the socket's stream events, outside this call's async context:
    // binding the request and response makes their listeners run inside the span too.
    context.bind(active, req);
    context.bind(active, res);
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      const route = (req.route as { path?: unknown } | undefined)?.path;
      if (typeof route === 'string') {
        const fullRoute = `${req.baseUrl}${route}`;
        span.updateName(`${req.method} ${fullRoute}`);
        span.setAttribute(ATTR_HTTP_ROUTE, fullRoute);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    };
    res.once('finish', end);
    // A client that hangs up before the answer: the span ends with whatever status there is.
    res.once('close', end);
    context.with(active, next);
  };
}
