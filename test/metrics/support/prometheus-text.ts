/**
 * A strict reader of the Prometheus text exposition format 0.0.4, enough to check what the
 * services serve: every line is a comment, a blank, or `name{labels} value`, and each sample
 * belongs to a family declared by `# TYPE`.
 */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Scrape {
  /** Family name → its TYPE (counter, gauge, histogram, …). */
  families: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const HELP_LINE = new RegExp(`^# HELP (${NAME}) .*$`);
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)(?: -?\\d+)?$`);
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

export function parsePrometheusText(text: string): Scrape {
  const families = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = TYPE_LINE.exec(line);
    if (type) {
      families.set(type[1], type[2]);
      continue;
    }
    if (line.startsWith('#')) {
      if (!HELP_LINE.test(line)) throw new Error(`Malformed comment line: ${line}`);
      continue;
    }
    const sample = SAMPLE_LINE.exec(line);
    if (!sample) throw new Error(`Malformed sample line: ${line}`);
    const [, name, labelText = '', valueText] = sample;
    const value = parseValue(valueText, line);
    const family = familyOf(name, families);
    if (family === undefined) throw new Error(`Sample of an undeclared family: ${line}`);
    samples.push({ name, labels: parseLabels(labelText, line), value });
  }
  return { families, samples };
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function sumOf(scrape: Scrape, name: string, labels: Record<string, string> = {}): number {
  return scrape.samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((total, s) => total + s.value, 0);
}

export function samplesOf(scrape: Scrape, name: string): Sample[] {
  return scrape.samples.filter((s) => s.name === name);
}

function familyOf(name: string, families: Map<string, string>): string | undefined {
  if (families.has(name)) return name;
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (name.endsWith(suffix) && families.get(name.slice(0, -suffix.length)) === 'histogram') {
      return name.slice(0, -suffix.length);
    }
  }
  return undefined;
}

/**
 * As Prometheus reads a value (Go's ParseFloat): NaN and Inf in any case. prom-client writes
 * NaN as `Nan` (an event-loop mean with no sample since the last scrape), which Prometheus takes.
 */
function parseValue(text: string, line: string): number {
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(text);
  if (special) {
    if (special[2].toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`Malformed value in: ${line}`);
  return value;
}

function parseLabels(text: string, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const start = LABEL.lastIndex;
    const match = LABEL.exec(text);
    if (!match || match.index !== start) throw new Error(`Malformed labels in: ${line}`);
    labels[match[1]] = match[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
  }
  return labels;
}
