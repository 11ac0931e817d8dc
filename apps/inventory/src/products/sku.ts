/** CONTRACT.md: a SKU is 1–64 characters of [A-Za-z0-9._-] (the products table checks it too). */
export const SKU_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

export const SKU_RULE = '1-64 characters of A-Z a-z 0-9 . _ -';

/** Largest price, stock and restock accepted: keeps every total far inside a double's exact range. */
export const MAX_CENTS = 1_000_000_000;
export const MAX_UNITS = 1_000_000_000;
