/** Go-style durations ("5s", "1m30s", "250ms"), as the Docker provider takes them, to nanoseconds. */

const UNIT_NANOSECONDS: Record<string, number> = {
    ns: 1,
    us: 1e3,
    "µs": 1e3,
    ms: 1e6,
    s: 1e9,
    m: 60e9,
    h: 3600e9,
};

/** Throws on anything that is not a non-negative Go duration; "0" is allowed (Docker's "inherit"). */
export function durationToNanoseconds(text: string): number {
    if (text === "0") return 0;
    const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
    let total = 0;
    let position = 0;
    while (position < text.length) {
        part.lastIndex = position;
        const match = part.exec(text);
        if (!match) throw new Error(`"${text}" is not a duration like "5s", "1m30s" or "250ms"`);
        total += Number(match[1]) * UNIT_NANOSECONDS[match[2]];
        position = part.lastIndex;
    }
    if (text.length === 0) throw new Error(`"" is not a duration`);
    return Math.round(total);
}

/**
 * Go's time.Duration.String() ("0s", "250ms", "1.5s", "3m0s", "1h0m0s"), which the Docker provider uses when
 * it reads healthcheck durations back (resourceDockerContainerRead: Healthcheck.Interval.String()).
 */
export function formatGoDuration(nanoseconds: number): string {
    if (!Number.isInteger(nanoseconds) || nanoseconds < 0) throw new Error(`formatGoDuration takes whole non-negative nanoseconds, got ${nanoseconds}`);
    if (nanoseconds === 0) return "0s";
    const fraction = (value: number, digits: number) => {
        const whole = Math.floor(value / 10 ** digits);
        const rest = (value % 10 ** digits).toString().padStart(digits, "0").replace(/0+$/, "");
        return rest === "" ? `${whole}` : `${whole}.${rest}`;
    };
    if (nanoseconds < 1e3) return `${nanoseconds}ns`;
    if (nanoseconds < 1e6) return `${fraction(nanoseconds, 3)}µs`;
    if (nanoseconds < 1e9) return `${fraction(nanoseconds, 6)}ms`;
    const hours = Math.floor(nanoseconds / 3600e9);
    const minutes = Math.floor((nanoseconds % 3600e9) / 60e9);
    const seconds = fraction(nanoseconds % 60e9, 9);
    if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
    if (minutes > 0) return `${minutes}m${seconds}s`;
    return `${seconds}s`;
}
