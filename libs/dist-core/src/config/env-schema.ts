import { requireLocalSecret } from './local-secrets.js';

/**
 * Configuration read once at start-up from environment variables, validated and typed.
 *
 * A schema maps each variable name (the names of shared/CONTRACT.md) to a field that parses
 * its text. A missing variable takes the field's default, which points at the native
 * infrastructure of `npm run infra:up`. A bad value stops start-up with one line naming the
 * variable: a service that starts on a half-understood configuration fails later, somewhere
 * less obvious. Passwords in URLs never appear in that line.
 */

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/**
 * A default: its text, or a function of the environment computing it when the variable is
 * unset (a URL carrying a generated password). The function throws a message fragment ("is
 * not set, and ...") when there is no default to give.
 */
export type DefaultText = string | ((source: NodeJS.ProcessEnv) => string);

/** Parses one variable's text; throws a message fragment ("must be ...") when it is wrong. */
export interface EnvField<T> {
  readonly defaultText: DefaultText | undefined;
  parse(text: string): T;
}

export type EnvSchema = Record<string, EnvField<unknown>>;
export type ConfigOf<S extends EnvSchema> = { readonly [K in keyof S]: ReturnType<S[K]['parse']> };

export function loadConfig<S extends EnvSchema>(
  schema: S,
  source: NodeJS.ProcessEnv = process.env,
): ConfigOf<S> {
  const config: Record<string, unknown> = {};
  for (const [variable, field] of Object.entries(schema)) {
    const given = source[variable];
    const text =
      given === undefined || given.trim() === ''
        ? defaultOf(variable, field, source)
        : given.trim();
    if (text === undefined) throw new ConfigError(variable, 'is required but not set');
    try {
      config[variable] = field.parse(text);
    } catch (error) {
      throw new ConfigError(
        variable,
        `${(error as Error).message}, got "${redactPasswords(text)}"`,
      );
    }
  }
  return config as ConfigOf<S>;
}

function defaultOf(
  variable: string,
  field: EnvField<unknown>,
  source: NodeJS.ProcessEnv,
): string | undefined {
  if (typeof field.defaultText !== 'function') return field.defaultText;
  try {
    return field.defaultText(source);
  } catch (error) {
    throw new ConfigError(variable, (error as Error).message);
  }
}

/** `scheme://user:secret@host` → `scheme://user:***@host`, in any text (a list, a bad URL). */
function redactPasswords(text: string): string {
  return text.replace(/(\/\/[^/:@\s,]*:)[^@\s,]*@/g, '$1***@');
}

function field<T>(defaultText: DefaultText | undefined, parse: (text: string) => T): EnvField<T> {
  return { defaultText, parse };
}

function list(text: string): string[] {
  const items = text.split(',').map((item) => item.trim());
  if (items.some((item) => item === ''))
    throw new Error('must be a comma-separated list with no empty entries');
  return items;
}

function parseUrl(text: string, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`must be a URL (${protocols.join(' or ')})`);
  }
  if (!protocols.includes(url.protocol)) throw new Error(`must use ${protocols.join(' or ')}`);
  if (url.hostname === '') throw new Error('must name a host');
  return text;
}

function parseInteger(text: string, min: number, max: number): number {
  if (!/^\d+$/.test(text)) throw new Error(`must be a whole number from ${min} to ${max}`);
  const value = Number(text);
  if (value < min || value > max) throw new Error(`must be a whole number from ${min} to ${max}`);
  return value;
}

function unique(items: string[], what: string): string[] {
  if (new Set(items).size !== items.length) throw new Error(`must not list the same ${what} twice`);
  return items;
}

const POSTGRES = ['postgres:', 'postgresql:'] as const;
const HTTP = ['http:', 'https:'] as const;

/** The field types the services' schemas are built from. */
export const env = {
  /** Any non-empty text, e.g. KAFKA_USERNAME. */
  text: (defaultText: string) => field(defaultText, (t) => t),

  /**
   * A credential: the variable, else the local secret `name` that `npm run infra:up` generated
   * (read when the configuration is loaded). With neither, start-up stops saying where it
   * comes from.
   */
  secret: (name: string) =>
    field(
      (source) => requireLocalSecret(name, source),
      (t) => t,
    ),

  port: (defaultPort: number) => field(String(defaultPort), (t) => parseInteger(t, 1, 65535)),

  integer: (defaultValue: number | undefined, min: number, max: number) =>
    field(defaultValue === undefined ? undefined : String(defaultValue), (t) =>
      parseInteger(t, min, max),
    ),

  /** An optional integer: unset means "not pinned", e.g. SNOWFLAKE_WORKER_ID. */
  optionalInteger: (min: number, max: number) =>
    field<number | undefined>('', (t) => (t === '' ? undefined : parseInteger(t, min, max))),

  /** `host:port,host:port`, as kafkajs takes brokers. */
  hostPorts: (defaultText: string) =>
    field(defaultText, (t) =>
      unique(
        list(t).map((entry) => {
          const match = /^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(\d+)$/.exec(entry);
          if (!match) throw new Error('must be a comma-separated list of host:port');
          parseInteger(match[2], 1, 65535);
          return entry;
        }),
        'broker',
      ),
    ),

  redisUrls: (defaultText: DefaultText) =>
    field(defaultText, (t) =>
      unique(
        list(t).map((u) => parseUrl(u, ['redis:', 'rediss:'])),
        'node',
      ),
    ),

  /** A name that `problem` accepts (it returns why not, or undefined), e.g. DEPLOYMENT. */
  name: (defaultText: string, problem: (text: string) => string | undefined) =>
    field(defaultText, (t) => {
      const reason = problem(t);
      if (reason !== undefined) throw new Error(reason);
      return t;
    }),

  /** One of a fixed set of words, e.g. LOG_LEVEL. */
  oneOf: <T extends string>(values: readonly T[], defaultValue: T) =>
    field(defaultValue, (t) => {
      if (!(values as readonly string[]).includes(t))
        throw new Error(`must be one of ${values.join(', ')}`);
      return t as T;
    }),

  postgresUrl: (defaultText: DefaultText) => field(defaultText, (t) => parseUrl(t, POSTGRES)),

  /** An http(s) URL, e.g. AUTH_ISSUER. */
  httpUrl: (defaultText: string) => field(defaultText, (t) => parseUrl(t, HTTP)),

  /** An optional http(s) URL: unset means "found another way", e.g. AUTH_JWKS_URL. */
  optionalHttpUrl: () =>
    field<string | undefined>('', (t) => (t === '' ? undefined : parseUrl(t, HTTP))),

  /** A word such as an audience: printable ASCII without spaces. */
  word: (defaultText: string) =>
    field(defaultText, (t) => {
      if (!/^[\x21-\x7e]{1,255}$/.test(t))
        throw new Error('must be 1-255 printable ASCII characters without spaces');
      return t;
    }),

  /** An address to bind: an IPv4 or IPv6 address or a host name, e.g. HOST. */
  host: (defaultText: string) =>
    field(defaultText, (t) => {
      if (!/^([A-Za-z0-9.-]+|[0-9A-Fa-f:]+)$/.test(t))
        throw new Error('must be an IP address or a host name');
      return t;
    }),

  postgresUrls: (defaultText: DefaultText) =>
    field(defaultText, (t) =>
      unique(
        list(t).map((u) => parseUrl(u, POSTGRES)),
        'database',
      ),
    ),
};
