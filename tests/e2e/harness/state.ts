/** The applied Declaration of the CLI's stack, kept between `e2e:up` runs. Holds generated passwords. */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Declaration } from "../../support/declaration";
import type { StackConfig } from "../../support/program";

export const STATE_DIR = resolve(__dirname, "../../../.e2e-state");
export const STATE_FILE = join(STATE_DIR, "stack.json");

export interface SavedStack {
    config: StackConfig;
    /** Keys set as secrets (`--secret`). */
    secretKeys?: string[];
    /** The deployment state: every resource with its inputs and the provider's state. */
    declaration: Declaration;
}

export function loadState(file = STATE_FILE): SavedStack | undefined {
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, "utf8")) as SavedStack;
}

/** Written owner-only (0600, directory 0700): it contains the generated passwords. */
export function saveState(stack: SavedStack, file = STATE_FILE): void {
    mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
    chmodSync(STATE_DIR, 0o700);
    const temporary = `${file}.tmp`;
    writeFileSync(temporary, JSON.stringify(stack, null, 2) + "\n", { mode: 0o600 });
    chmodSync(temporary, 0o600);
    renameSync(temporary, file);
}

export function removeState(file = STATE_FILE): void {
    rmSync(file, { force: true });
}
