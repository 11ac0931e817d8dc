/**
 * Writes `high + sequence` in decimal without BigInt arithmetic per id.
 *
 * Within one millisecond every id is `high + sequence`, with `high = ts << 22 | worker << 12`
 * fixed and sequence < 4,096. Split high once per millisecond into `prefix * 10^4 + low`; then
 * an id is `prefix` followed by the four digits of `low + sequence`, except when that sum
 * reaches 10^4, where the carry makes it `prefix + 1` followed by the four digits of the rest.
 * Both prefixes are formatted once per millisecond and the 10^4 four-digit endings are a table,
 * so an id costs one addition, one comparison, one array read and one string concatenation:
 * about 12 ns here against about 130 ns for `(high + BigInt(sequence)).toString()`. The result
 * is a V8 cons string, which its first reader flattens (charCodeAt: about 85 ns in all). Measured
 * with that reader, JSON.stringify, a Map key or Buffer.byteLength, it still costs less than the
 * BigInt path, and with Date.now() it fits the 244 ns per id that 4,096 ids/ms leave.
 */
const SPLIT = 10_000;
const SPLIT_BIG = BigInt(SPLIT);

/** '0000'..'9999': the ending when a prefix precedes it. */
const PADDED_ENDINGS: readonly string[] = Array.from({ length: SPLIT }, (_, i) =>
  String(i).padStart(4, '0'),
);
/** '0'..'9999': the whole id when there is no prefix (ids below 10^4, right after the epoch). */
const BARE_ENDINGS: readonly string[] = Array.from({ length: SPLIT }, (_, i) => String(i));

export class DecimalIdFormatter {
  private prefix = '';
  private carriedPrefix = '1';
  private low = 0;
  private endings = BARE_ENDINGS;

  /** Call once per millisecond with the id's fixed high part (timestamp and worker bits). */
  setHigh(high: bigint): void {
    const prefix = high / SPLIT_BIG;
    this.low = Number(high % SPLIT_BIG);
    this.prefix = prefix === 0n ? '' : prefix.toString();
    this.carriedPrefix = (prefix + 1n).toString();
    this.endings = prefix === 0n ? BARE_ENDINGS : PADDED_ENDINGS;
  }

  /** The decimal string of `high + sequence`, for 0 <= sequence < 10^4. */
  format(sequence: number): string {
    const low = this.low + sequence;
    return low < SPLIT
      ? this.prefix + this.endings[low]
      : this.carriedPrefix + PADDED_ENDINGS[low - SPLIT];
  }
}
