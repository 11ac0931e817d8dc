// The HTTP conventions every service gets from bootstrapService, on a tiny app of their own:
// strict validation (no unknown fields, no coercion), the 64 KiB limit, hostile bodies refused
// before any transform, one error shape.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Body, Controller, Get, Module, Post, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Type } from 'class-transformer';
import { IsInt, IsString, Max, Min, ValidateNested, ArrayMinSize } from 'class-validator';
import { HttpErrorFilter } from './http-error.filter.js';
import { jsonBodyMiddleware } from './json-body.js';
import { urlControlCharacterGuard } from './url-guard.js';
import { strictValidationPipe } from './validation.js';

class LineDto {
  @IsString() sku: string;
  @IsInt() @Min(1) @Max(10) quantity: number;
}
class OrderDto {
  @IsString() customerId: string;
  @ValidateNested({ each: true }) @ArrayMinSize(1) @Type(() => LineDto) items: LineDto[];
}

@Controller()
class ProbeController {
  @Post('orders') create(@Body() body: OrderDto) {
    return { ok: true, quantity: body.items[0].quantity, type: body.constructor.name };
  }
  @Get('boom') boom(): never {
    throw new Error('secret internals');
  }
}
@Module({ controllers: [ProbeController] })
class ProbeModule {}

describe('HTTP conventions', () => {
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    app = await NestFactory.create(ProbeModule, { bodyParser: false, logger: false });
    app.use(urlControlCharacterGuard());
    app.use(jsonBodyMiddleware());
    app.useGlobalPipes(strictValidationPipe());
    app.useGlobalFilters(new HttpErrorFilter());
    await app.listen(0, '127.0.0.1');
    url = await app.getUrl();
  });
  afterAll(() => app.close());

  const post = (body: string) =>
    fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });

  it('accepts a valid body as typed DTO instances', async () => {
    const response = await post(
      JSON.stringify({ customerId: 'c1', items: [{ sku: 'a', quantity: 2 }] }),
    );
    expect(response.status).toBe(201);
    expect(await response.json()).toEqual({ ok: true, quantity: 2, type: 'OrderDto' });
  });

  it('does not coerce "2" into 2', async () => {
    const response = await post(
      JSON.stringify({ customerId: 'c1', items: [{ sku: 'a', quantity: '2' }] }),
    );
    expect(response.status).toBe(400);
    const body = (await response.json()) as { message: string; error: string; statusCode: number };
    expect(body.statusCode).toBe(400);
    expect(body.error).toBe('Bad Request');
    expect(body.message).toContain('items.0.quantity must be an integer number');
  });

  it('rejects unknown fields, naming them', async () => {
    const response = await post(
      JSON.stringify({ customerId: 'c1', items: [{ sku: 'a', quantity: 1 }], admin: true }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toContain(
      'property admin should not exist',
    );
  });

  it('answers malformed JSON with 400 in the error shape', async () => {
    const response = await post('{"customerId": ');
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'Request body is not valid JSON',
    });
  });

  it('answers a body over 64 KiB with 413 naming the limit', async () => {
    const response = await post(JSON.stringify({ customerId: 'x'.repeat(64 * 1024), items: [] }));
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({
      statusCode: 413,
      error: 'Payload Too Large',
      message: 'Request body exceeds the 64 KiB limit',
    });
  });

  it('refuses JSON nested 4,000 deep with 400 before parsing it', async () => {
    const response = await post('['.repeat(4000) + ']'.repeat(4000));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toBe(
      'Request body nests arrays and objects deeper than 32 levels',
    );
  });

  it('refuses a NUL in a string with 400 naming the field', async () => {
    const response = await post(
      JSON.stringify({ customerId: 'c1', items: [{ sku: 'a\u0000b', quantity: 1 }] }),
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { message: string }).message).toBe(
      'items.0.sku must not contain control characters (U+0000-U+001F, U+007F)',
    );
  });

  it('refuses a body that is not JSON with 415', async () => {
    const response = await fetch(`${url}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(response.status).toBe(415);
  });

  it('answers a missing body with 400, not 500', async () => {
    const response = await fetch(`${url}/orders`, { method: 'POST' });
    expect(response.status).toBe(400);
  });

  it('hides an unexpected error behind a generic 500', async () => {
    const response = await fetch(`${url}/boom`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
    });
  });

  it('refuses a control character in the URL path or query with 400', async () => {
    for (const path of ['/nowhere%00', '/boom?x=%1b']) {
      const response = await fetch(`${url}${path}`);
      expect(response.status).toBe(400);
    }
  });

  it('answers an unknown route with 404 in the error shape', async () => {
    const response = await fetch(`${url}/nowhere`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { statusCode: number }).statusCode).toBe(404);
  });
});
