/**
 * Preloaded into each service by bench/e2e/cost-per-order.ts (`node --import`): counts what the
 * process asks of Postgres and Kafka, without touching the services' code.
 *
 * - Postgres: every `pg` Client query, per database, split into BEGIN, COMMIT, ROLLBACK,
 *   savepoint statements and the rest; a statement outside BEGIN…COMMIT is a transaction of its
 *   own (autocommit), so local transactions = COMMITs + autocommit statements. With
 *   COST_PROBE_TEXTS=1 it also counts each statement's text (whitespace folded).
 * - Kafka: every request kafkajs sends, by API (Produce, Fetch, OffsetCommit, …).
 *
 * On SIGWINCH (ignored by default, and not one of the signals Nest shuts down on) it writes the totals so far to $COST_PROBE_DIR/<pid>.json; the bench reads
 * differences of two dumps. pg and kafkajs are CommonJS, so the copies required here are the
 * very modules the service imports.
 */
import { createRequire } from 'node:module';
import { writeFileSync } from 'node:fs';

const require = createRequire(`${process.cwd()}/package.json`);
const withTexts = process.env.COST_PROBE_TEXTS === '1';
const dir = process.env.COST_PROBE_DIR ?? '/tmp';

const counts = { pid: process.pid, databases: {}, kafka: {}, texts: {} };

function database(name) {
  return (counts.databases[name] ??= {
    statements: 0,
    begin: 0,
    commit: 0,
    rollback: 0,
    savepoint: 0,
    autocommit: 0,
  });
}

const pg = require('pg');
const query = pg.Client.prototype.query;
const IN_TX = Symbol('cost-probe: inside BEGIN');
pg.Client.prototype.query = function probedQuery(config, values, callback) {
  const text = typeof config === 'string' ? config : config?.text;
  if (typeof text === 'string') {
    const figures = database(this.database ?? '?');
    const head = text.trimStart().slice(0, 24).toUpperCase();
    figures.statements += 1;
    if (head.startsWith('BEGIN') || head.startsWith('START TRANSACTION')) {
      figures.begin += 1;
      this[IN_TX] = true;
    } else if (head.startsWith('COMMIT')) {
      figures.commit += 1;
      this[IN_TX] = false;
    } else if (head.startsWith('ROLLBACK TO') || head.startsWith('RELEASE')) {
      figures.savepoint += 1;
    } else if (head.startsWith('ROLLBACK')) {
      figures.rollback += 1;
      this[IN_TX] = false;
    } else if (head.startsWith('SAVEPOINT')) {
      figures.savepoint += 1;
    } else if (!this[IN_TX]) {
      figures.autocommit += 1;
    }
    if (withTexts) {
      const key = `${this.database}: ${text.replace(/\s+/g, ' ').trim().slice(0, 160)}`;
      counts.texts[key] = (counts.texts[key] ?? 0) + 1;
    }
  }
  return query.call(this, config, values, callback);
};

const Connection = require('kafkajs/src/network/connection');
const send = Connection.prototype.send;
Connection.prototype.send = function probedSend(options) {
  const api = options?.request?.apiName ?? '?';
  counts.kafka[api] = (counts.kafka[api] ?? 0) + 1;
  return send.call(this, options);
};

process.on('SIGWINCH', () => {
  writeFileSync(`${dir}/${process.pid}.json`, JSON.stringify(counts));
});
