/** reports/e2e.json: the figures a run measured (reports/ is not committed). */
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

export const REPORT_FILE = join(resolve(__dirname, "../../../reports"), "e2e.json");

export function writeReport(report: Record<string, unknown>): void {
    mkdirSync(resolve(REPORT_FILE, ".."), { recursive: true });
    writeFileSync(REPORT_FILE, JSON.stringify(report, null, 2) + "\n");
}

export const seconds = (fromMs: number, toMs: number) => Math.round((toMs - fromMs) / 100) / 10;
