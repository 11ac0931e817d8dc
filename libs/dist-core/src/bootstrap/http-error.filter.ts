import {
  ArgumentsHost,
  Catch,
  ExceptionFilter,
  HttpException,
  HttpStatus,
  Logger,
} from '@nestjs/common';
import type { Response } from 'express';

/**
 * The one JSON error shape every endpoint answers with:
 * `{ statusCode, error, message, details? }` — `message` is one line a person can act on
 * (it names the field at fault), `details` carries structure when there is more to say.
 */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
}

export function errorBody(statusCode: number, message: string, details?: unknown): ErrorBody {
  const error = (HttpStatus[statusCode] ?? 'Error')
    .toLowerCase()
    .replace(/(^|_)(\w)/g, (_m, sep: string, c: string) => (sep ? ' ' : '') + c.toUpperCase());
  return details === undefined
    ? { statusCode, error, message }
    : { statusCode, error, message, details };
}

/**
 * Turns whatever a handler threw into the error shape. An unexpected error becomes a 500
 * with a generic message: its text and stack go to the log, never to the client.
 */
@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpErrorFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (response.headersSent) return;
    response.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const payload = exception.getResponse();
      if (typeof payload === 'string') return errorBody(status, payload);
      const { message, details, ...rest } = payload as Record<string, unknown>;
      const text = Array.isArray(message)
        ? message.join('; ')
        : String(message ?? exception.message);
      const extra =
        details ??
        (Object.keys(rest).some((k) => k !== 'statusCode' && k !== 'error') ? rest : undefined);
      return errorBody(status, text, extra);
    }
    this.logger.error(
      exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
    );
    return errorBody(HttpStatus.INTERNAL_SERVER_ERROR, 'Internal server error');
  }
}
