import { readFile } from 'node:fs/promises';
import { Controller, Get, Header, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Response } from 'express';
import { Public } from '@app/dist-core/auth';
import { SERVICE_CONFIG } from '@app/dist-core/bootstrap';
import type { OrderConfig } from '../config.js';

/**
 * The operator's page at /ui: static HTML, two vanilla JS modules and a stylesheet, all served
 * from here (no CDN, no framework) and reading only the REST API — the same calls a script
 * would make, with the operator's token. Only the files named below are served, so no request
 * can walk the file system.
 */
const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'sign-in.js': 'text/javascript; charset=utf-8',
  'styles.css': 'text/css; charset=utf-8',
};

/** What the page needs to sign the operator in (sign-in.js): the issuer and its client id. */
export interface UiSignInConfig {
  issuer: string;
  clientId: string;
}

/**
 * Beside this module: apps/order/src/ui/assets when run from source, dist/apps/order/ui/assets
 * after `npm run build` (tsc does not copy non-TS files; the Nest CLI does: nest-cli.json `assets`).
 */
const ASSET_DIR = new URL('./assets/', import.meta.url);

/**
 * Public: the files hold no data, and the page cannot sign in before it is loaded. Everything
 * it shows comes from the API, which wants the operator's token.
 */
@ApiExcludeController()
@Public()
@Controller('ui')
export class UiController {
  private readonly cache = new Map<string, Buffer>();

  constructor(@Inject(SERVICE_CONFIG) private readonly config: OrderConfig) {}

  @Get()
  index(@Res() response: Response): Promise<void> {
    return this.send(response, 'index.html');
  }

  @Get('config.json')
  @Header('cache-control', 'no-cache')
  signInConfig(): UiSignInConfig {
    return { issuer: this.config.AUTH_ISSUER, clientId: this.config.AUTH_UI_CLIENT_ID };
  }

  @Get(':file')
  asset(@Param('file') file: string, @Res() response: Response): Promise<void> {
    if (!Object.hasOwn(ASSETS, file) || file === 'index.html') {
      throw new NotFoundException(`No UI file ${file}`);
    }
    return this.send(response, file);
  }

  private async send(response: Response, file: string): Promise<void> {
    let body = this.cache.get(file);
    if (!body) {
      try {
        body = await readFile(new URL(file, ASSET_DIR));
      } catch {
        throw new NotFoundException(`UI file ${file} is missing: run \`npm run build\``);
      }
      this.cache.set(file, body);
    }
    response.status(200).type(ASSETS[file]).setHeader('cache-control', 'no-cache').send(body);
  }
}
