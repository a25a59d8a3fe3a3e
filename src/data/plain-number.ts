// Plain decimal numbers on bytes, for the CSV validation pass (csv-validate.ts): an
// automaton that decides, one table load a byte, whether a field is a plain decimal that
// Number() parses to a finite value.
//
// Not used for reading values: a byte-level reader built on it (numbers of at most 15
// digits computed exactly without a string, Number() of a latin1 slice otherwise) read
// 190–230k rows/s of 9 float columns against 380–580k for the string reader (one UTF-8
// decode, split, Number on sliced strings), measured 2026-12-03; it was not kept.
// The plain decimal grammar [+-](digits[.digits] | .digits)[(e|E)[+-]d[d]] as an automaton
// over byte classes: 0 digit, 1 sign, 2 point, 3 e/E, 4 comma, 5 anything else.
export const COMMA_CLASS = 4;
export const BYTE_CLASS = Uint8Array.from({ length: 256 }, (_, b) =>
  b >= 48 && b <= 57 ? 0 : b === 43 || b === 45 ? 1 : b === 46 ? 2 : b === 101 || b === 69 ? 3 : b === 44 ? 4 : 5,
);
// States: 0 start, 1 sign, 2 integer digits, 3 point after digits, 4 point first,
// 5 fraction digits, 6 e, 7 exponent sign, 8 one exponent digit, 10 two, 9 not plain.
export const REJECT = 9;
export const PLAIN_NEXT = (() => {
  const next = new Uint8Array(11 * 8).fill(REJECT);
  const on = (from: number, byteClass: number, to: number) => (next[(from << 3) | byteClass] = to);
  on(0, 0, 2), on(0, 1, 1), on(0, 2, 4);
  on(1, 0, 2), on(1, 2, 4);
  on(2, 0, 2), on(2, 2, 3), on(2, 3, 6);
  on(3, 0, 5), on(3, 3, 6);
  on(4, 0, 5);
  on(5, 0, 5), on(5, 3, 6);
  on(6, 0, 8), on(6, 1, 7);
  on(7, 0, 8);
  on(8, 0, 10);
  return next;
})();
/** Plain and finite: digits seen, a whole exponent of one or two digits (and, checked apart, at most 200 bytes). */
export const PLAIN_ACCEPTS = Uint8Array.from({ length: 11 }, (_, state) => (state === 2 || state === 3 || state === 5 || state === 8 || state === 10 ? 1 : 0));

/** Powers of ten that are exact doubles (10^0 … 10^22). */
const EXACT_TENS = Float64Array.from({ length: 23 }, (_, k) => 10 ** k);

/**
 * The number in text[start, end) when it is a plain decimal of at most 15 significant
 * digits and 22 fraction digits, without an exponent: then it is m / 10^k with m and 10^k
 * exact doubles, and one IEEE division rounds it correctly, so the result is Number()'s
 * to the bit (Clinger's fast path). Undefined for anything else (the caller falls back to
 * Number() on a slice). Used by the statistics' sample, where cutting a string for every
 * sampled number made the collector run more often than the sample's own work.
 */
export function fastPlainDecimal(text: string, start: number, end: number): number | undefined {
  let i = start;
  let negative = false;
  const first = text.charCodeAt(i);
  if (first === 45 || first === 43) {
    negative = first === 45;
    i += 1;
  }
  let mantissa = 0;
  let digits = 0;
  let fraction = -1; // digits after the point; -1 before a point
  for (; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code >= 48 && code <= 57) {
      if (digits > 0 || code !== 48) digits += 1; // leading zeros are not significant
      if (digits > 15) return undefined;
      mantissa = mantissa * 10 + (code - 48);
      if (fraction >= 0) fraction += 1;
    } else if (code === 46 && fraction < 0) fraction = 0;
    else return undefined; // an exponent, a second point, anything else
  }
  const sawDigit = end - start > (negative || first === 43 ? 1 : 0) + (fraction >= 0 ? 1 : 0);
  if (!sawDigit || fraction > 22) return undefined;
  const value = fraction > 0 ? mantissa / EXACT_TENS[fraction]! : mantissa;
  return negative ? -value : value;
}
