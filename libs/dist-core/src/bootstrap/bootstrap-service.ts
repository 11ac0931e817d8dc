import 'reflect-metadata';
import type { Server } from 'node:http';
import { Logger, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { ConfigError, loadConfig, type ConfigOf, type EnvSchema } from '../config/index.js';
import { KafkaClient, KafkaConsumerServer } from '../kafka/index.js';
import { ConsumerGroupStatus } from '../kafka/consumer-group-status.js';
import { serviceGroup } from '../kafka/deployment.js';
import {
  createLogger,
  httpTracingMiddleware,
  PinoLoggerService,
  startTracing,
  type LogLevel,
} from '../observability/index.js';
import { authenticateBeforeBody, TokenVerifier } from '../auth/index.js';
import { CoreModule } from './core.module.js';
import { errorBody, HttpErrorFilter } from './http-error.filter.js';
import { jsonBodyMiddleware } from './json-body.js';
import { securityHeaders } from './security-headers.js';
import type { ServiceSpec } from './service-spec.js';
import { setupSwagger } from './swagger.js';
import { urlControlCharacterGuard } from './url-guard.js';
import { strictValidationPipe } from './validation.js';

/**
 * The one start-up path of every service (its main.ts is a single call): configuration,
 * tracing and JSON logs, HTTP conventions (security headers, hostile input refused early), health,
 * Swagger, the Kafka consumer, graceful shutdown.
 */
export async function bootstrapService<S extends EnvSchema>(
  spec: ServiceSpec<S>,
): Promise<INestApplication> {
  let config: ConfigOf<S>;
  try {
    config = loadConfig(spec.config);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // One line naming the variable, and no stack: the fix is in the environment, not the code.
    process.stderr.write(`${spec.name}: ${error.message}\n`);
    process.exit(1);
  }

  @Module({ imports: [CoreModule.forService(spec, config), spec.module] })
  class ServiceRootModule {}

  // Before the app exists: its modules' start-up already logs, and relays already send.
  const { LOG_LEVEL, HOST, AUTH_ISSUER, CONSUMER_BATCH_MAX_MESSAGES, CONSUMER_BATCH_MAX_MS } =
    config as unknown as {
      LOG_LEVEL: LogLevel;
      HOST: string;
      AUTH_ISSUER: string;
      CONSUMER_BATCH_MAX_MESSAGES: number;
      CONSUMER_BATCH_MAX_MS: number;
    };
  const logger = new PinoLoggerService(createLogger(spec.name, LOG_LEVEL));
  startTracing(spec.name, { logger });

  const app = await NestFactory.create<NestExpressApplication>(ServiceRootModule, {
    bodyParser: false,
    logger,
  });
  // Names the framework to anyone scanning for its known holes, and helps no client.
  app.disable('x-powered-by');
  app.use(httpTracingMiddleware());
  // Headers first, so that every answer carries them, the refusals below included.
  app.use(securityHeaders(AUTH_ISSUER));
  // Before anything reads the request: CONTRACT.md's 401 comes before any 400 about it.
  app.use(authenticateBeforeBody(app.get(TokenVerifier), errorBody));
  app.use(urlControlCharacterGuard());
  app.use(jsonBodyMiddleware());
  app.useGlobalPipes(strictValidationPipe());
  app.useGlobalFilters(new HttpErrorFilter());
  app.enableShutdownHooks();
  setupSwagger(app, spec.name, spec.description);

  const separate = spec.separateConsumers ?? [];
  app.connectMicroservice(
    {
      strategy: new KafkaConsumerServer(app.get(KafkaClient), {
        groupId: serviceGroup(spec.name),
        messages: spec.messages,
        topics: { except: separate.flatMap(({ topics }) => topics) },
        status: app.get(ConsumerGroupStatus),
        batch: { maxMessages: CONSUMER_BATCH_MAX_MESSAGES, maxMs: CONSUMER_BATCH_MAX_MS },
      }),
    },
    { inheritAppConfig: true },
  );
  for (const { consumer, topics } of separate) {
    app.connectMicroservice(
      {
        strategy: new KafkaConsumerServer(app.get(KafkaClient), {
          groupId: `${spec.name}-${consumer}`,
          messages: spec.messages,
          topics: { only: topics },
          // Ready only when this one has joined too: decisions nobody takes would wait in Kafka.
          status: app.get(ConsumerGroupStatus),
        }),
      },
      { inheritAppConfig: true },
    );
  }
  await app.startAllMicroservices();

  const port = spec.httpPort(config);
  // Loopback natively: a developer's services are not reachable from the network they sit on.
  await app.listen(port, HOST);
  // Node closes an idle keep-alive connection after 5 s, the moment a client (or a load
  // balancer) may be reusing it: that request fails with "socket closed". Idle connections are
  // kept far longer than clients keep them, so the client is always the one that closes.
  const server = app.getHttpServer() as Server;
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  new Logger(spec.name).log(`Listening on ${HOST}:${port} (Swagger at /docs, health at /health)`);
  return app;
}
