/** `KEY=value` list in a stable order, as Docker takes a container's environment. */
export function envList(env: Record<string, string>): string[] {
    return Object.keys(env)
        .sort()
        .map((key) => `${key}=${env[key]}`);
}
