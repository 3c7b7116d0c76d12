/**
 * reports/e2e.json: the figures a run measured (reports/ is not committed). Each suite replaces its own
 * top-level keys and keeps the others, so the suites of one run add up to one file.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPORT_FILE = join(resolve(__dirname, "../../../reports"), "e2e.json");

export function writeReport(report: Record<string, unknown>): void {
    mkdirSync(resolve(REPORT_FILE, ".."), { recursive: true });
    const earlier = existsSync(REPORT_FILE) ? (JSON.parse(readFileSync(REPORT_FILE, "utf8")) as Record<string, unknown>) : {};
    writeFileSync(REPORT_FILE, JSON.stringify({ ...earlier, ...report }, null, 2) + "\n");
}

export const seconds = (fromMs: number, toMs: number) => Math.round((toMs - fromMs) / 100) / 10;
