/**
 * Turning the wall-clock times logs carry into UTC instants: RFC 3164 and the classic log
 * file format have neither a year nor a zone, so both come from the reader's clock.
 * @module
 */

/** The clock a parser reads times against; tests inject both parts. */
export interface ClockOptions {
  /**
   * "Now" for the parser: the year of yearless timestamps is inferred from it, and lines
   * without any timestamp get it. Defaults to the time of the call.
   */
  referenceTime?: Date | number;
  /**
   * IANA zone yearless, zoneless timestamps were written in (`"UTC"`, `"Europe/Berlin"`).
   * Defaults to the host's local zone, which is what syslog daemons write files in.
   */
  timeZone?: string;
}

const DAY_MS = 86_400_000;

const MONTHS: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/** The month index (0–11) of an English three-letter month name, any case. */
export function monthIndex(name: string): number | undefined {
  return name.length === 3 ? MONTHS[name.toLowerCase()] : undefined;
}

/** The reference time of `opts` in milliseconds since the epoch. */
export function referenceMs(opts: ClockOptions): number {
  const ref = opts.referenceTime;
  if (ref === undefined) return Date.now();
  const ms = typeof ref === "number" ? ref : ref.getTime();
  // An invalid injected time must not turn every timestamp into NaN.
  return Number.isFinite(ms) ? ms : Date.now();
}

function isLeap(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysIn(year: number, month: number): number {
  return month === 1
    ? (isLeap(year) ? 29 : 28)
    : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month];
}

// One formatter per zone: building an Intl.DateTimeFormat costs far more than using one.
const formatters = new Map<string, Intl.DateTimeFormat>();
// Zone offsets by zone and wall-clock hour: files hold thousands of lines per hour, and
// zone transitions happen on hour boundaries.
const offsets = new Map<string, number>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** How far `timeZone`'s wall clock is ahead of UTC at the instant `utcMs`. */
function zoneOffsetMs(utcMs: number, timeZone: string): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(utcMs)) {
    if (p.type !== "literal") parts[p.type] = Number(p.value);
  }
  const wall = Date.UTC(
    parts.year,
    parts.month - 1,
    parts.day,
    parts.hour,
    parts.minute,
    parts.second,
  );
  return wall - Math.floor(utcMs / 1000) * 1000;
}

/** The year `utcMs` falls in on `timeZone`'s calendar (local zone when undefined). */
export function yearIn(utcMs: number, timeZone?: string): number {
  if (timeZone === undefined) return new Date(utcMs).getFullYear();
  if (timeZone === "UTC") return new Date(utcMs).getUTCFullYear();
  return new Date(utcMs + zoneOffsetMs(utcMs, timeZone)).getUTCFullYear();
}

/**
 * The UTC instant of a wall-clock time in `timeZone` (the host's local zone when
 * undefined). A time that falls in a spring-forward gap resolves like `Date` does locally.
 */
export function wallClockToUtc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  timeZone?: string,
): number {
  if (timeZone === undefined) {
    const d = new Date(year, month, day, hour, minute, second, ms);
    // `Date` reads years below 100 as 19xx.
    if (year < 100) d.setFullYear(year, month, day);
    return d.getTime();
  }
  const wall = Date.UTC(year, month, day, hour, minute, second, ms);
  if (timeZone === "UTC") return wall;
  const key = `${timeZone}|${year}-${month}-${day}T${hour}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    // Guess with the offset at the wall time read as UTC, then correct once: the second
    // offset is right unless the time does not exist (a DST gap).
    const first = zoneOffsetMs(wall, timeZone);
    offset = zoneOffsetMs(wall - first, timeZone);
    if (offsets.size > 4096) offsets.clear();
    offsets.set(key, offset);
  }
  return wall - offset;
}

/**
 * The instant of a yearless timestamp (RFC 3164, `/var/log/auth.log`): the reference
 * time's year, unless that puts the line more than a day in the future, then the year
 * before (a December line read in January). The latest year not more than a day ahead wins,
 * so a January 1st line read just before midnight on December 31st (a sender's clock a
 * little fast) is next year's. Feb 29 goes to the latest leap year that fits.
 * Returns undefined for a day or time that does not exist.
 *
 * @example
 * ```ts
 * import { yearlessToUtc } from "./timestamp.ts";
 * const ms = yearlessToUtc(11, 31, 23, 59, 58, 0, {
 *   referenceTime: Date.UTC(2025, 0, 1, 0, 0, 5),
 *   timeZone: "UTC",
 * });
 * console.assert(new Date(ms!).toISOString() === "2024-12-31T23:59:58.000Z");
 * ```
 */
export function yearlessToUtc(
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  ms: number,
  opts: ClockOptions,
): number | undefined {
  if (month < 0 || month > 11 || day < 1 || day > 31) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  // A leap second is logged as :60; JavaScript time has none, so it folds into :59.
  if (second === 60) second = 59;
  const ref = referenceMs(opts);
  let year = yearIn(ref, opts.timeZone);
  const at = (y: number) => {
    if (day > daysIn(y, month)) {
      if (month !== 1 || day !== 29) return undefined; // Feb 31 and the like
      while (!isLeap(y)) y--;
    }
    return wallClockToUtc(y, month, day, hour, minute, second, ms, opts.timeZone);
  };
  // A line a little ahead of a reference time on New Year's Eve is next year's.
  const next = at(year + 1);
  if (next !== undefined && next <= ref + DAY_MS) return next;
  let t = at(year);
  if (t === undefined) return undefined;
  if (t > ref + DAY_MS) {
    year--;
    // Feb 29 in a future leap year: step back until the candidate is no longer ahead.
    for (let i = 0; i < 8 && t !== undefined && t > ref + DAY_MS; i++, year--) t = at(year);
  }
  return t;
}

const ISO_RE =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Parse an RFC 3339 / ISO 8601 timestamp as written by RFC 5424 senders, rsyslog's file
 * format and JSON loggers. Fractions beyond milliseconds are truncated; a timestamp without
 * a zone is read in `timeZone` (local when undefined). Undefined when it is not one.
 *
 * @example
 * ```ts
 * import { parseIsoTimestamp } from "./timestamp.ts";
 * const ms = parseIsoTimestamp("2003-08-24T05:14:15.000003-07:00");
 * console.assert(new Date(ms!).toISOString() === "2003-08-24T12:14:15.000Z");
 * ```
 */
export function parseIsoTimestamp(text: string, timeZone?: string): number | undefined {
  const m = ISO_RE.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]));
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month - 1)) return undefined;
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const ms = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  const sec = Math.min(second, 59);
  if (m[8]) return Date.UTC(year, month - 1, day, hour, minute, sec, ms);
  if (m[9]) {
    const offH = Number(m[10]);
    const offM = Number(m[11]);
    if (offH > 23 || offM > 59) return undefined;
    const sign = m[9] === "-" ? -1 : 1;
    return Date.UTC(year, month - 1, day, hour, minute, sec, ms) -
      sign * (offH * 60 + offM) * 60_000;
  }
  return wallClockToUtc(year, month - 1, day, hour, minute, sec, ms, timeZone);
}

/** `ms` as an RFC 3339 UTC string, or undefined when it is outside what `Date` can hold. */
export function isoOrUndefined(ms: number): string | undefined {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
