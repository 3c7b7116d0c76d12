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
