// Sorting and date formatting for the UI, without ICU on the way to a meeting's first render.
//
// Setting up an ICU collator costs 40-80 ms on a 4x-slowed CPU, a date format 80-150 ms
// (measured in a blank Chromium page; bench/README.md "Web app load"): more than rendering
// the whole meeting view. The UI is written in English, so English month names and a
// 24-hour clock (the usual one on an incident timeline) need no locale data at all.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']
const ASCII = /^[\x00-\x7f]*$/
const MARKS = /\p{M}/gu

/** What `compareText` sorts by first: the letters without case or accents ("Émile" → "emile"). */
function foldKey(s: string): string {
  return ASCII.test(s) ? s.toLowerCase() : s.normalize('NFD').replace(MARKS, '').toLowerCase()
}

/** Order for names and titles people read: case and accents aside first, then by them.
 *  A total order (so sorts are stable across renders), close to a dictionary's for Latin
 *  scripts; other scripts sort by code point within their own script. */
export function compareText(a: string, b: string): number {
  if (a === b) return 0
  const ka = foldKey(a)
  const kb = foldKey(b)
  if (ka !== kb) return ka < kb ? -1 : 1
  return a < b ? -1 : 1
}

const pad = (n: number): string => (n < 10 ? `0${n}` : String(n))

/** The date and time of `d` in the reader's time zone: "Nov 24, 2026, 14:05". */
export function formatDateTime(d: Date): string {
  return `${MONTHS[d.getMonth()]} ${d.getDate()}, ${d.getFullYear()}, ${pad(d.getHours())}:${pad(d.getMinutes())}`
}
